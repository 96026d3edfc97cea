#!/usr/bin/python3
"""A scripted WebRTC IMS client (WIC) for tests: SIP over secure WebSocket
(RFC 7118) with the "sip" subprotocol, REGISTER with digest (RFC 2617 /
RFC 8760 MD5, qop=auth), RFC 5626 outbound parameters as JsSIP sends them,
and answering requests that reach it.  Not a product: it is the test's
browser stand-in where Chromium is not needed."""
import asyncio
import hashlib
import random
import re
import ssl
import string

import websockets


def rand(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def parse(text):
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    start = lines[0]
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    msg = {"start": start, "headers": headers, "body": body}
    if start.startswith("SIP/2.0 "):
        msg["status"] = int(start.split()[1])
    elif start.strip():
        msg["method"] = start.split()[0]
    # else: a keep-alive (CRLF pong); start is empty
    return msg


def header(msg, name):
    name = name.lower()
    for n, v in msg["headers"]:
        if n == name:
            return v
    return None


def headers(msg, name):
    return [v for n, v in msg["headers"] if n == name.lower()]


class Wic:
    def __init__(self, url, origin, user, password, domain="ims.test"):
        self.url, self.origin = url, origin
        self.user, self.password, self.domain = user, password, domain
        self.host = rand(12) + ".invalid"
        self.call_id = rand(20)
        self.tag = rand(8)
        self.cseq = 0
        self.instance = "urn:uuid:" + "-".join(rand(n) for n in (8, 4, 4, 4, 12))
        self.ws = None
        self.inbox = asyncio.Queue()
        self.reader = None

    async def connect(self, subprotocols=("sip",)):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.ws = await websockets.connect(
            self.url, subprotocols=list(subprotocols), origin=self.origin,
            ssl=ctx if self.url.startswith("wss:") else None, ping_interval=None)
        self.reader = asyncio.ensure_future(self._read())
        return self.ws.subprotocol

    async def _read(self):
        try:
            async for text in self.ws:
                await self.inbox.put(parse(text if isinstance(text, str) else text.decode()))
        except websockets.ConnectionClosed:
            pass
        await self.inbox.put(None)

    async def close(self):
        await self.ws.close()
        if self.reader:
            await self.reader

    async def recv(self, timeout=5):
        return await asyncio.wait_for(self.inbox.get(), timeout)

    def _register(self, expires, auth=None):
        self.cseq += 1
        uri = "sip:%s" % self.domain
        lines = [
            "REGISTER %s SIP/2.0" % uri,
            "Via: SIP/2.0/WSS %s;branch=z9hG4bK%s" % (self.host, rand(12)),
            "Max-Forwards: 69",
            "To: <sip:%s@%s>" % (self.user, self.domain),
            "From: <sip:%s@%s>;tag=%s" % (self.user, self.domain, self.tag),
            "Call-ID: %s" % self.call_id,
            "CSeq: %d REGISTER" % self.cseq,
            'Contact: <sip:%s@%s;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<%s>";expires=%d'
            % (rand(8), self.host, self.instance, expires),
            "Expires: %d" % expires,
            "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY",
            "Supported: path,gruu,outbound",
            "User-Agent: wic-test",
        ]
        if auth:
            lines.append(auth)
        lines.append("Content-Length: 0")
        return "\r\n".join(lines) + "\r\n\r\n"

    def _digest(self, challenge, method, uri):
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
        ha1 = hashlib.md5(("%s:%s:%s" % (self.user, params["realm"], self.password)).encode()).hexdigest()
        ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
        cnonce, nc = rand(8), "00000001"
        if "qop" in params:
            resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, params["nonce"], nc, cnonce, ha2)).encode()).hexdigest()
            return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                    'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"'
                    % (self.user, params["realm"], params["nonce"], uri, resp, nc, cnonce))
        resp = hashlib.md5(("%s:%s:%s" % (ha1, params["nonce"], ha2)).encode()).hexdigest()
        return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"'
                % (self.user, params["realm"], params["nonce"], uri, resp))

    async def register(self, expires=600):
        """Returns (first response, final response)."""
        await self.ws.send(self._register(expires))
        first = await self.recv()
        if first is None or first["status"] != 401:
            return first, first
        auth = self._digest(header(first, "www-authenticate"), "REGISTER", "sip:%s" % self.domain)
        await self.ws.send(self._register(expires, auth))
        return first, await self.recv()

    async def answer(self, req, status=200, reason="OK"):
        lines = ["SIP/2.0 %d %s" % (status, reason)]
        for n, v in req["headers"]:
            if n in ("via", "from", "call-id", "cseq"):
                lines.append("%s: %s" % (n.title(), v))
            elif n == "to":
                lines.append("To: %s%s" % (v, "" if ";tag=" in v else ";tag=" + rand(6)))
        lines.append("Content-Length: 0")
        await self.ws.send("\r\n".join(lines) + "\r\n\r\n")

    async def send_raw(self, text):
        await self.ws.send(text)

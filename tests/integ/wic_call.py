#!/usr/bin/python3
"""The browser's side of calls for the scripted WIC (wic_client.py): the
requests JsSIP sends (INVITE, ACK and BYE along the route set, CANCEL,
the ACK of a failure) and waiting for responses."""
import asyncio

from wic_client import header, headers, rand

SDP = ("v=0\r\no=wic 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class Call:
    """The browser's side of one call (as JsSIP would send it)."""

    def __init__(self, w, target):
        self.w, self.target = w, target
        self.call_id = rand(16)
        self.tag = rand(8)
        self.branch = "z9hG4bK" + rand(12)
        self.cseq = 1
        self.to = "<sip:%s@ims.test>" % target
        self.route, self.remote = [], None

    def invite_text(self, sdp=SDP):
        return "\r\n".join([
            "INVITE sip:%s@ims.test SIP/2.0" % self.target,
            "Via: SIP/2.0/WSS %s;branch=%s" % (self.w.host, self.branch),
            "Max-Forwards: 69",
            "To: %s" % self.to,
            "From: <sip:%s@ims.test>;tag=%s" % (self.w.user, self.tag),
            "Call-ID: %s" % self.call_id,
            "CSeq: 1 INVITE",
            "Contact: <sip:%s@%s;transport=ws;ob>" % (rand(6), self.w.host),
            "Content-Type: application/sdp",
            "Content-Length: %d" % len(sdp), "", sdp])

    async def invite(self, sdp=SDP):
        await self.w.send_raw(self.invite_text(sdp))

    def learn(self, rsp):
        self.to = header(rsp, "to")
        rr = []
        for v in headers(rsp, "record-route"):
            rr += [x.strip() for x in v.split(",")]
        self.route = list(reversed(rr))
        c = header(rsp, "contact") or ""
        self.remote = c[c.find("<") + 1:c.find(">")] if "<" in c else c

    def in_dialog(self, method, cseq, branch=None):
        lines = ["%s %s SIP/2.0" % (method, self.remote),
                 "Via: SIP/2.0/WSS %s;branch=%s" % (self.w.host, branch or "z9hG4bK" + rand(12)),
                 "Max-Forwards: 69"]
        lines += ["Route: %s" % r for r in self.route]
        lines += ["To: %s" % self.to, "From: <sip:%s@ims.test>;tag=%s" % (self.w.user, self.tag),
                  "Call-ID: %s" % self.call_id, "CSeq: %d %s" % (cseq, method),
                  "Content-Length: 0", "", ""]
        return "\r\n".join(lines)

    def cancel_text(self, method="CANCEL", to=None):
        return "\r\n".join([
            "%s sip:%s@ims.test SIP/2.0" % (method, self.target),
            "Via: SIP/2.0/WSS %s;branch=%s" % (self.w.host, self.branch),
            "Max-Forwards: 69", "To: %s" % (to or "<sip:%s@ims.test>" % self.target),
            "From: <sip:%s@ims.test>;tag=%s" % (self.w.user, self.tag),
            "Call-ID: %s" % self.call_id, "CSeq: 1 %s" % method, "Content-Length: 0", "", ""])


async def responses_until(w, pred, secs=8):
    """Messages from the flow until pred(msg) holds; returns (all, last)."""
    seen = []
    loop = asyncio.get_event_loop()
    end = loop.time() + secs
    while True:
        m = await w.recv(max(0.1, end - loop.time()))
        if m is None:
            return seen, None
        seen.append(m)
        if pred(m):
            return seen, m


def final(m):
    return m.get("status", 0) >= 200 and "INVITE" in (header(m, "cseq") or "")



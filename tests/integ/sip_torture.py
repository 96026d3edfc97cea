#!/usr/bin/python3
"""RFC 4475 torture messages against ep-cscf, from both sides.

The 49 messages of RFC 4475 (tests/vectors/rfc4475/, the bit-exact archive
of its appendix B) are sent one by one over a WebSocket (an unregistered
flow) and, from the IMS core's side, over UDP to the IMS listener.  The test
plays the IMS core itself (ep-cscf's next hop is a UDP socket here), so it
sees exactly what ep-cscf forwards and nothing leaves loopback.

Per message, what RFC 4475 says an element must do (or may do, where the
RFC allows leniency) is checked: the malformed requests get 400 (or the
specific code: 416, 420, 483, 505) and are never forwarded; responses that
match no transaction are dropped with a log line; valid messages are not
refused as malformed.  Throughout, a bystander browser stays registered:
at the end a terminating MESSAGE still reaches it and its re-REGISTER
succeeds; ep-cscf neither crashes nor leaks (ASan).
usage: sip_torture.py BINDIR    Prints TAP lines."""
import asyncio
import hashlib
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Lab, Tap, free_port  # noqa: E402
from wic_client import Wic, header, rand  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
VECTORS = os.path.join(ROOT, "tests/vectors/rfc4475")
ORIGIN = "https://wic.test:8443"
tap = Tap()
result = tap.result
lab = Lab("sip_torture.")

# RFC 4475 section, file, and what an element must do with it:
#   ok       valid: never refused as malformed (no 400)
#   400      refused with 400 (a request) and not forwarded
#   NNN      refused with that code and not forwarded
#   drop     a response matching no transaction: no answer, not forwarded
#   A|B      the RFC allows either (e.g. 400|ok: accept it or refuse it
#            with 400; 3.2.1 lets a server refuse a bare magic-cookie
#            branch or fall back to RFC 2543 matching: we refuse it, since
#            the branch keys our transactions)
CASES = [
    ("3.1.1.1", "wsinv", "ok"), ("3.1.1.2", "intmeth", "ok"), ("3.1.1.3", "esc01", "ok"),
    ("3.1.1.4", "escnull", "ok"), ("3.1.1.5", "esc02", "ok"), ("3.1.1.6", "lwsdisp", "ok"),
    ("3.1.1.7", "longreq", "ok"), ("3.1.1.8", "dblreq", "ok"), ("3.1.1.9", "semiuri", "ok"),
    ("3.1.1.10", "transports", "ok"), ("3.1.1.11", "mpart01", "ok"),
    ("3.1.1.12", "unreason", "drop"), ("3.1.1.13", "noreason", "drop"),
    ("3.1.2.1", "badinv01", "400"), ("3.1.2.2", "clerr", "400"), ("3.1.2.3", "ncl", "400"),
    ("3.1.2.4", "scalar02", "400"), ("3.1.2.5", "scalarlg", "drop"), ("3.1.2.6", "quotbal", "400"),
    ("3.1.2.7", "ltgtruri", "400"), ("3.1.2.8", "lwsruri", "400"), ("3.1.2.9", "lwsstart", "400|ok"),
    ("3.1.2.10", "trws", "400|ok"), ("3.1.2.11", "escruri", "400|ok"), ("3.1.2.12", "baddate", "400|ok"),
    ("3.1.2.13", "regbadct", "400|ok"), ("3.1.2.14", "badaspec", "400|ok"), ("3.1.2.15", "baddn", "400|ok"),
    ("3.1.2.16", "badvers", "505|400"), ("3.1.2.17", "mismatch01", "400"), ("3.1.2.18", "mismatch02", "501|400"),
    ("3.1.2.19", "bigcode", "drop"),
    ("3.2.1", "badbranch", "400|ok"),
    ("3.3.1", "insuf", "400"), ("3.3.2", "unkscm", "416"), ("3.3.3", "novelsc", "416|ok"),
    ("3.3.4", "unksm2", "ok"), ("3.3.5", "bext01", "420"), ("3.3.6", "invut", "ok"),
    ("3.3.7", "regaut01", "ok"), ("3.3.8", "multi01", "400"), ("3.3.9", "mcl01", "400"),
    ("3.3.10", "bcast", "drop"), ("3.3.11", "zeromf", "483"), ("3.3.12", "cparam01", "ok"),
    ("3.3.13", "cparam02", "ok"), ("3.3.14", "regescrt", "ok"), ("3.3.15", "sdp01", "ok"),
    ("3.4.1", "inv2543", "ok"),
]


class ImsCore:
    """The IMS core stand-in: a UDP socket that is ep-cscf's next hop.
    Answers the bystander's REGISTER with 200 (Path kept, P-Associated-URI,
    Service-Route); every other request it records and refuses with 403;
    it also sends the torture messages toward ep-cscf's IMS listener and
    keeps every response it gets, by Call-ID."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.forwarded = []      # request texts forwarded by ep-cscf
        self.responses = []      # response texts ep-cscf sent us
        self.path = None         # the bystander's Path
        self.stop = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode("utf-8", "replace")
            with self.lock:
                if text.startswith("SIP/2.0"):
                    self.responses.append(text)
                    continue
                self.forwarded.append(text)
            if not text.split(" ", 1)[0].isalpha():
                continue
            self.answer(text, peer)

    def answer(self, req, peer):
        head = req.split("\r\n\r\n", 1)[0].split("\r\n")
        keep, path, contact = [], None, None
        for line in head[1:]:
            name = line.split(":", 1)[0].strip().lower()
            if name in ("via", "v", "from", "f", "call-id", "i", "cseq"):
                keep.append(line)
            elif name in ("to", "t"):
                keep.append(line + ("" if "tag=" in line else ";tag=ims" + rand(4)))
            elif name == "path":
                path = line.split(":", 1)[1].strip()
            elif name in ("contact", "m"):
                contact = line
        bystander = head[0].startswith("REGISTER sip:ims.test ") and path
        if bystander:
            self.path = path
            keep += ["Path: " + path, contact or "", "P-Associated-URI: <sip:bystander@ims.test>",
                     "Service-Route: <sip:orig@127.0.0.1:%d;lr>" % self.port]
            status = "200 OK"
        else:
            status = "403 Forbidden"
        text = "SIP/2.0 %s\r\n%s\r\nContent-Length: 0\r\n\r\n" % (status, "\r\n".join(l for l in keep if l))
        self.sock.sendto(text.encode(), peer)

    def send(self, data, port):
        self.sock.sendto(data, ("127.0.0.1", port))

    def snapshot(self):
        with self.lock:
            return len(self.forwarded), len(self.responses)

    def since(self, mark):
        with self.lock:
            return self.forwarded[mark[0]:], self.responses[mark[1]:]


def call_id(data):
    m = re.search(rb"^(?:Call-ID|i)\s*:\s*(\S+)", data, re.I | re.M)
    return m.group(1).decode("utf-8", "replace") if m else None


def verdict(expect, status, forwarded):
    """Whether the outcome (status or None, forwarded or not) meets `expect`."""
    allowed = expect.split("|")
    if "drop" in allowed:
        return status is None and not forwarded
    if status is not None and str(status) in allowed:
        return not forwarded
    if "ok" in allowed:
        # Accepted: forwarded (a REGISTER) or answered by policy (403 from an
        # unregistered flow, 404 toward no flow), never refused as malformed.
        return status not in (400, 416, 420, 505)
    return False


def describe(status, forwarded):
    return "%s%s" % ("status %s" % status if status else "no answer", ", forwarded" if forwarded else "")


async def over_ws(url, ims, wss_port):
    """Each message on the torture flow; the answer, if any, within 2 s."""
    w = Wic(url, ORIGIN, "torture", "x")
    await w.connect()
    for sec, name, expect in CASES:
        with open(os.path.join(VECTORS, name + ".dat"), "rb") as f:
            data = f.read()
        mark = ims.snapshot()
        try:
            # Text frames where the message is UTF-8, binary where it is not.
            await w.ws.send(data.decode("utf-8") if is_utf8(data) else data)
        except Exception as e:  # noqa: BLE001 (the flow closed: report it)
            result(False, "WS %s (%s): sent" % (sec, name), repr(e))
            return w
        status = None
        try:
            while True:
                r = await w.recv(2 if expect != "drop" else 1)
                if r is None:
                    break
                if r.get("status") is not None and r["start"]:
                    status = r["status"]
                    break
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(0.05)
        fwd, _ = ims.since(mark)
        fwd = [x for x in fwd if call_id(x.encode()) == call_id(data)]
        result(verdict(expect, status, bool(fwd)), "WS %s %s: %s" % (sec, name, expect),
               describe(status, bool(fwd)))
        if w.ws.closed:
            result(False, "the torture flow stays open", "closed with %s" % w.ws.close_code)
            return w
    return w


def is_utf8(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def from_ims(ims, ims_port):
    """Each message from the IMS side over UDP; responses matched by Call-ID."""
    for sec, name, expect in CASES:
        with open(os.path.join(VECTORS, name + ".dat"), "rb") as f:
            data = f.read()
        mark = ims.snapshot()
        ims.send(data, ims_port)
        cid = call_id(data)
        status, deadline = None, time.time() + (1 if expect == "drop" else 2)
        while time.time() < deadline and status is None:
            time.sleep(0.05)
            fwd, rsp = ims.since(mark)
            for r in rsp:
                if call_id(r.encode()) == cid:
                    status = int(r.split(" ", 2)[1])
        time.sleep(0.05)
        fwd, _ = ims.since(mark)
        fwd = [x for x in fwd if call_id(x.encode()) == cid]
        # From the IMS side a valid request that names no flow gets 404
        # (nothing of ours is addressed): accepted, not refused as malformed.
        result(verdict(expect, status, bool(fwd)), "IMS %s %s: %s" % (sec, name, expect),
               describe(status, bool(fwd)))


async def bystander_register(url):
    w = Wic(url, ORIGIN, "bystander", "x")
    await w.connect()
    _, final = await w.register()
    return w, final


async def scenario(url, ims, ports):
    by, final = await bystander_register(url)
    result(final is not None and final.get("status") == 200, "a bystander browser registers",
           str(final and final["start"]))
    t = await over_ws(url, ims, ports["wss"])
    await asyncio.get_running_loop().run_in_executor(None, from_ims, ims, ports["ims"])
    # The bystander is undisturbed: a terminating MESSAGE along its Path
    # reaches it, and it can refresh its registration.
    route = ims.path or ""
    msg = ("MESSAGE sip:bystander@%s;transport=ws SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
           "Route: %s\r\nFrom: <sip:peer@ims.test>;tag=p1\r\nTo: <sip:bystander@ims.test>\r\n"
           "Call-ID: after-torture-%s\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
           "Content-Length: 5\r\n\r\nhello" % (by.host, ims.port, rand(8), route, rand(8)))
    ims.send(msg.encode(), ports["ims"])
    got = None
    try:
        while True:
            got = await by.recv(5)
            if got is None or got.get("method") == "MESSAGE":
                break
    except asyncio.TimeoutError:
        got = None
    result(got is not None and got.get("method") == "MESSAGE",
           "after the torture, a MESSAGE along the bystander's Path reaches its WebSocket",
           "Route: %s" % route)
    if got is not None:
        await by.answer(got)
    _, final = await by.register()
    result(final is not None and final.get("status") == 200,
           "after the torture, the bystander's re-REGISTER gets 200", str(final and final["start"]))
    await by.close()
    if t is not None and not t.ws.closed:
        await t.close()


def vectors_intact():
    """The files are the RFC's bytes: SHA256SUMS pins them."""
    bad = []
    with open(os.path.join(VECTORS, "SHA256SUMS")) as f:
        sums = dict(reversed(l.split()) for l in f if l.strip())
    for _, name, _ in CASES:
        with open(os.path.join(VECTORS, name + ".dat"), "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != sums.get(name + ".dat"):
                bad.append(name)
    return result(len(sums) == len(CASES) == 49 and not bad,
                  "the 49 RFC 4475 messages match tests/vectors/rfc4475/SHA256SUMS", bad)


def main():
    if not vectors_intact():
        return
    ims = ImsCore()
    try:
        ports = lab.ep_cscf(BIN, ims.port, [ORIGIN], "ims.transport = udp\n")
        if not result(ports is not None, "ep-cscf started", lab.log("ep-cscf.log")[-1500:]):
            return
        url = "wss://127.0.0.1:%d" % ports["wss"]
        try:
            asyncio.run(asyncio.wait_for(scenario(url, ims, ports), 240))
        except Exception as e:  # noqa: BLE001 (a crash of the scenario is a failure)
            result(False, "scenario ran to the end", repr(e))
        log = lab.log("ep-cscf.log")
        dropped = [l for l in log.splitlines() if "response matches no transaction" in l or
                   "stray response" in l or "malformed" in l]
        result(len(dropped) > 0, "ep-cscf logs the messages it dropped, with the reason", dropped[:3])
        lab.stop_ep_cscf(tap)
    finally:
        ims.stop = True


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

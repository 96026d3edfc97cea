#!/usr/bin/python3
"""Call set-up latency the eP-CSCF/eIMS-AGW pair adds (issue 7): the time
from a browser's INVITE leaving the WebSocket client to the INVITE reaching
the IMS next hop, including the IMS-ALG's SDP rewrite and the Iq+ RESERVE
round trip to eims-agw (mutual TLS, pinned).  The browser is a scripted WIC
(python3-websockets) sending a real Chromium offer
(tests/golden/alg/captured/chromium-audio.sdp); the IMS next hop is a UDP
socket in the same process that answers REGISTER with 200 and every
INVITE with 486 (so the call ends and its context is released before the
next).  Calls are sequential; the same run without media anchoring
(media.anchor none: SDP passed unchanged) is the baseline.

Also the call rate: CONCURRENCY calls in flight for --rate-calls calls.

usage: call_setup.py [--bindir build/release/bin] [--calls 1000]
                     [--rate-calls 2000] [--concurrency 20]"""
import argparse
import asyncio
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integ"))
import call_lab  # noqa: E402
from harness import ROOT, Lab, Tap, free_port, wait_log  # noqa: E402
from wic_client import Wic, parse, rand  # noqa: E402

ORIGIN = "https://wic.test:8443"
os.environ["SIP_LOG"] = "info"  # no per-message debug lines in the measure


class FakeIms(asyncio.DatagramProtocol):
    """The IMS next hop: 200 to REGISTER, 486 to INVITE (arrival time kept)."""

    def __init__(self):
        self.arrived = {}
        self.waiters = {}

    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        self.handle(data.decode(errors="replace"), lambda b: self.t.sendto(b, addr))

    async def tcp_client(self, reader, writer):
        """Big requests come over TCP (RFC 3261 18.1.1): framed by
        Content-Length."""
        buf = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            buf += chunk
            while b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                n = 0
                for line in head.split(b"\r\n"):
                    k, _, v = line.partition(b":")
                    if k.strip().lower() in (b"content-length", b"l"):
                        n = int(v.strip())
                if len(rest) < n:
                    break
                msg, buf = head + b"\r\n\r\n" + rest[:n], rest[n:]
                self.handle(msg.decode(errors="replace"), writer.write)

    def handle(self, text, send):
        now = time.perf_counter()
        m = parse(text)
        method = m.get("method")
        if method not in ("REGISTER", "INVITE"):
            return
        cid = dict(m["headers"]).get("call-id")
        lines = ["SIP/2.0 %s" % ("200 OK" if method == "REGISTER" else "486 Busy Here")]
        for n, v in m["headers"]:
            if n in ("via", "from", "call-id", "cseq"):
                lines.append("%s: %s" % (n.title(), v))
            elif n == "to":
                lines.append("To: %s;tag=%s" % (v, rand(6)))
            elif n == "contact" and method == "REGISTER":
                lines.append("Contact: %s" % v)
        if method == "REGISTER":
            lines += ["P-Associated-URI: <sip:alice@ims.test>", "Expires: 600"]
        lines += ["Content-Length: 0", "", ""]
        send("\r\n".join(lines).encode())
        if method == "INVITE":
            self.arrived[cid] = now
            w = self.waiters.pop(cid, None)
            if w and not w.done():
                w.set_result(now)


def invite(w, call_id, sdp):
    return "\r\n".join([
        "INVITE sip:bob@ims.test SIP/2.0",
        "Via: SIP/2.0/WSS %s;branch=z9hG4bK%s" % (w.host, rand(12)),
        "Max-Forwards: 69", "To: <sip:bob@ims.test>",
        "From: <sip:alice@ims.test>;tag=%s" % rand(8), "Call-ID: %s" % call_id,
        "CSeq: 1 INVITE", "Contact: <sip:a@%s;transport=ws;ob>" % w.host,
        "Content-Type: application/sdp", "Content-Length: %d" % len(sdp), "", sdp])


async def drain(w):
    while True:
        m = await w.inbox.get()
        if m is None:
            return


async def run(wss, ims_port, calls, rate_calls, concurrency, sdp):
    loop = asyncio.get_running_loop()
    _, ims = await loop.create_datagram_endpoint(FakeIms, local_addr=("127.0.0.1", ims_port))
    tcp = await asyncio.start_server(ims.tcp_client, "127.0.0.1", ims_port)
    w = Wic(wss, ORIGIN, "alice", "alice-secret")
    await w.connect()
    first, fin = await w.register()
    assert fin and fin.get("status") == 200, fin
    reader = asyncio.ensure_future(drain(w))
    lat = []
    for i in range(calls):
        cid = "lat-%d-%s" % (i, rand(6))
        fut = loop.create_future()
        ims.waiters[cid] = fut
        text = invite(w, cid, sdp)
        t0 = time.perf_counter()
        await w.ws.send(text)
        t1 = await asyncio.wait_for(fut, 5)
        lat.append((t1 - t0) * 1e3)
        await asyncio.sleep(0.002)  # the 486, its ACK and the RELEASE
    # Rate: `concurrency` calls in flight.
    sem = asyncio.Semaphore(concurrency)
    done = 0

    async def one(i):
        nonlocal done
        async with sem:
            cid = "rate-%d-%s" % (i, rand(6))
            fut = loop.create_future()
            ims.waiters[cid] = fut
            await w.ws.send(invite(w, cid, sdp))
            await asyncio.wait_for(fut, 10)
            done += 1
    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rate_calls)))
    rate = done / (time.perf_counter() - t0)
    await w.close()
    reader.cancel()
    tcp.close()
    return lat, rate


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", default=os.path.join(ROOT, "build/release/bin"))
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rate-calls", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    a = ap.parse_args()
    with open(os.path.join(ROOT, "tests/golden/alg/captured/chromium-audio.sdp")) as f:
        sdp = f.read().replace("\r\n", "\n").replace("\n", "\r\n")
    for mode in ("agw", "none"):
        tap = Tap()
        lab = Lab("call_setup.")
        ims_port = free_port(socket.SOCK_DGRAM)  # free for UDP and TCP
        extra = "media.anchor = %s\nws.message_rate = 100000\nws.message_burst = 100000\n" % mode
        try:
            if mode == "agw":
                ports = call_lab.start(lab, tap, a.bindir, [ORIGIN], 0, "127.0.0.1", extra=extra,
                                       ims_port=ims_port)
            else:
                ports = lab.ep_cscf(a.bindir, ims_port, [ORIGIN], extra)
            if not ports:
                print("# start failed; logs in %s" % lab.tmp)
                sys.exit(1)
            agws = ports.get("agws", {})
            lat, rate = asyncio.run(run("wss://127.0.0.1:%d" % ports["wss"], ims_port, a.calls,
                                        a.rate_calls, a.concurrency, sdp))
            print("media.anchor=%s calls=%d p50=%.3f ms p90=%.3f ms p99=%.3f ms max=%.3f ms mean=%.3f ms "
                  "rate=%.0f calls/s (concurrency %d)" % (
                      mode, len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), max(lat),
                      statistics.mean(lat), rate, a.concurrency))
            sys.stdout.flush()
            for n, p in agws.items():
                lab.stop_daemon(tap, p, n, n + ".log")
            lab.stop_ep_cscf(tap)
        finally:
            lab.close(tap)  # kills whatever is still running, even on Ctrl-C


main()

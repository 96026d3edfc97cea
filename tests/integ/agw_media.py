#!/usr/bin/python3
"""eIMS-AGW media plane end to end, driven over Iq+ by iqp-ctl (the scripted
controller, plain TCP): aiortc is the browser (ICE, DTLS-SRTP, rtcp-mux),
a UDP echo is the IMS side.  RESERVE a W3 and an IMS termination, CONFIGURE
them from aiortc's offer and the echo's address, hand aiortc an SDP answer
built from the AGW's reply, and check that aiortc receives its own audio
back through the AGW, that the EVENTs arrive, and that RELEASE returns
STATS with the packet counts.  Usage: agw_media.py BINDIR"""
import asyncio
import fractions
import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lab, Tap, free_port, metric_value, metrics as metrics_text  # noqa: E402

import av  # noqa: E402  (aiortc's dependency)
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack  # noqa: E402
from aioice.ice import get_host_addresses  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/asan/bin"
if os.environ.get("AIORTC_DEBUG"):
    import logging
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
CHOOSE = 4294967294
tap = Tap()
lab = Lab("agw_media.")


class Tone(AudioStreamTrack):
    """A 440 Hz tone, 20 ms frames, paced in real time."""

    def __init__(self):
        super().__init__()
        self.pts = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.pts / 48000 - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        samples = _tone_bytes(self.pts)
        frame.planes[0].update(samples)
        frame.sample_rate = 48000
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, 48000)
        self.pts += 960
        return frame


def _tone_bytes(pts):
    out = bytearray()
    for i in range(960):
        v = int(8000 * math.sin(2 * math.pi * 440 * (pts + i) / 48000))
        out += (v & 0xffff).to_bytes(2, "little")
    return bytes(out)


class Echo:
    """The IMS side: every RTP (port) and RTCP (port + 1) packet goes back
    to where it came from."""

    def __init__(self):
        for _ in range(50):
            p = free_port(socket.SOCK_DGRAM) & ~1
            try:
                self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.rtp.bind(("127.0.0.1", p))
                self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.rtcp.bind(("127.0.0.1", p + 1))
                break
            except OSError:
                continue
        self.port = p
        self.count = {"rtp": 0, "rtcp": 0}
        self.sources = set()
        self.stop = False
        for s, k in ((self.rtp, "rtp"), (self.rtcp, "rtcp")):
            s.settimeout(0.2)
            threading.Thread(target=self.run, args=(s, k), daemon=True).start()

    def run(self, s, kind):
        while not self.stop:
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            self.count[kind] += 1
            self.sources.add((kind, src))
            s.sendto(data, src)


class Ctl:
    """iqp-ctl as a subprocess: JSON lines in, JSON lines out."""

    def __init__(self, port):
        self.log = open(os.path.join(lab.tmp, "iqp-ctl.err"), "w")
        self.p = subprocess.Popen([os.path.join(BIN, "iqp-ctl"), "--listen", "127.0.0.1:%d" % port,
                                   "--security", "tcp"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.log, start_new_session=True)
        lab.procs.append(self.p)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        for raw in self.p.stdout:
            line = json.loads(raw)
            with open(os.path.join(lab.tmp, "iqp-ctl.out"), "a") as f:
                f.write(raw.decode())
            self.q.put(line)

    def wait(self, pred, secs=10):
        """First line (seen before or arriving within secs) matching pred."""
        end = time.time() + secs
        for line in self.lines:
            if pred(line):
                self.lines.remove(line)
                return line
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(line):
                return line
            self.lines.append(line)

    def request(self, tag, code, body, secs=10):
        self.p.stdin.write((json.dumps({"tag": tag, "header": {"code": code}, "body": body}) + "\n").encode())
        self.p.stdin.flush()
        return self.wait(lambda l: l.get("tag") == tag, secs)

    def event(self, etype, secs=10):
        return self.wait(lambda l: "event" in l and any(
            find(ev["EVENT"], "EVENT_TYPE") == etype for ev in l["event"]["body"]), secs)


async def aw(fn, *args):
    """A blocking iqp-ctl wait, off the event loop aiortc runs on."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def find(elems, name):
    """Value of the first child `name` in a decoded element list."""
    for e in elems:
        if name in e:
            return e[name]
    return None


def find_all(elems, name):
    return [e[name] for e in elems if name in e]


def parse_offer(sdp):
    ufrag = re.search(r"a=ice-ufrag:(\S+)", sdp).group(1)
    pwd = re.search(r"a=ice-pwd:(\S+)", sdp).group(1)
    fp = re.search(r"a=fingerprint:sha-256 (\S+)", sdp).group(1)
    mid = re.search(r"a=mid:(\S+)", sdp).group(1)
    cands = []
    for m in re.finditer(r"a=candidate:(\S+) (\d) (\S+) (\d+) (\S+) (\d+) typ (\S+)", sdp):
        found, comp, proto, prio, ip, port, typ = m.groups()
        if proto.lower() == "udp" and ":" not in ip and comp == "1":
            cands.append((found, int(prio), ip, int(port), typ))
    codecs = []
    for m in re.finditer(r"a=rtpmap:(\d+) ([^/\s]+)/(\d+)(?:/(\d+))?", sdp):
        codecs.append((int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4) or 1)))
    return ufrag, pwd, fp, mid, cands, codecs


def codec_elems(codecs):
    out = []
    for pt, name, clock, ch in codecs:
        c = [{"PAYLOAD_TYPE": pt}, {"CODEC_NAME": name}, {"CLOCK_RATE": clock}]
        if ch > 1:
            c.append({"CHANNELS": ch})
        out.append({"CODEC": c})
    return out


def answer_sdp(mid, w3, codecs):
    ice = find(w3, "ICE")
    dtls = find(w3, "DTLS")
    fp = find(find(dtls, "LOCAL_FINGERPRINT"), "FP_VALUE")
    fp = ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()
    cand = find(ice, "LOCAL_CANDIDATE")
    ip, port = find(cand, "CAND_ADDR").rsplit(":", 1)
    pts = " ".join(str(c[0]) for c in codecs)
    lines = ["v=0", "o=- 1 1 IN IP4 %s" % ip, "s=-", "t=0 0", "a=group:BUNDLE %s" % mid, "a=ice-lite",
             "m=audio %s UDP/TLS/RTP/SAVPF %s" % (port, pts), "c=IN IP4 %s" % ip, "a=mid:%s" % mid,
             "a=sendrecv", "a=rtcp-mux"]
    for pt, name, clock, ch in codecs:
        lines.append("a=rtpmap:%d %s/%d%s" % (pt, name, clock, "/%d" % ch if ch > 1 else ""))
    lines += ["a=ice-ufrag:%s" % find(ice, "ICE_LOCAL_UFRAG"), "a=ice-pwd:%s" % find(ice, "ICE_LOCAL_PWD"),
              "a=fingerprint:sha-256 %s" % fp, "a=setup:active",
              "a=candidate:%s 1 udp %d %s %s typ host" % (find(cand, "CAND_FOUNDATION"),
                                                          find(cand, "CAND_PRIORITY"), ip, port),
              "a=end-of-candidates"]
    return "\r\n".join(lines) + "\r\n"


async def call(ctl, echo, host_ip, metrics_port):
    pc = RTCPeerConnection()
    frames = {"n": 0}

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                frames["n"] += 1
        asyncio.ensure_future(consume())

    pc.addTrack(Tone())
    await pc.setLocalDescription(await pc.createOffer())
    ufrag, pwd, fp, mid, cands, offer_codecs = parse_offer(pc.localDescription.sdp)
    opus = [c for c in offer_codecs if c[1].lower() == "opus"]
    tap.result(bool(opus) and bool(cands), "aiortc offers opus and IPv4 host candidates",
               pc.localDescription.sdp)
    # The IMS leg uses another payload type for opus: the AGW rewrites it.
    ims_codecs = [(100, "opus", 48000, 2)]

    r = await aw(ctl.request, "reserve", "RESERVE", [{"CONTEXT": [
        {"CONTEXT_ID": CHOOSE},
        {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "W3"}, {"REALM_NAME": "w3"},
                         {"STREAM": [{"STREAM_ID": 1}, {"MEDIA_TYPE": "AUDIO"},
                                     {"TRANSPORT_PROTO": "UDP/TLS/RTP/SAVPF"}] + codec_elems(opus)},
                         {"ICE": [{"ICE_MODE": "LITE"}]}, {"DTLS": [{"DTLS_SETUP": "ACTPASS"}]}]},
        {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "IMS"}, {"REALM_NAME": "ims"},
                         {"STREAM": [{"STREAM_ID": 1}, {"MEDIA_TYPE": "AUDIO"},
                                     {"TRANSPORT_PROTO": "RTP/AVP"}] + codec_elems(ims_codecs)}]}]}])
    ok = r is not None and "reply" in r and r["reply"]["header"]["flags"] == 0
    tap.result(ok, "RESERVE: context with a W3 and an IMS termination", json.dumps(r)[:1500])
    if not ok:
        await pc.close()
        return None
    ctx = find(r["reply"]["body"], "CONTEXT")
    ctx_id = find(ctx, "CONTEXT_ID")
    terms = find_all(ctx, "TERMINATION")
    w3, ims = terms[0], terms[1]
    w3_id, ims_id = find(w3, "TERM_ID"), find(ims, "TERM_ID")
    ice = find(w3, "ICE")
    ims_stream = find(ims, "STREAM")
    tap.result(find(w3, "TERM_STATE") == "RESERVED" and len(find(ice, "ICE_LOCAL_UFRAG")) >= 4 and
               len(find(ice, "ICE_LOCAL_PWD")) >= 22 and
               find(find(ice, "LOCAL_CANDIDATE"), "CAND_ADDR").startswith(host_ip + ":") and
               len(find(find(find(w3, "DTLS"), "LOCAL_FINGERPRINT"), "FP_VALUE")) == 64 and
               len(find(find(w3, "DTLS"), "LOCAL_TLS_ID")) >= 20,
               "RESERVE reply: ICE credentials, host candidate on the W3 realm, SHA-256 fingerprint, tls-id")
    rtp_addr = find(ims_stream, "LOCAL_ADDR")
    rtcp_addr = find(ims_stream, "LOCAL_RTCP_ADDR")
    rtp_port = int(rtp_addr.rsplit(":", 1)[1])
    tap.result(rtp_port % 2 == 0 and rtcp_addr == "127.0.0.1:%d" % (rtp_port + 1),
               "IMS stream: even RTP port, RTCP on the next one", "%s %s" % (rtp_addr, rtcp_addr))

    fp_hex = fp.replace(":", "").lower()
    cand_elems = [{"REMOTE_CANDIDATE": [{"CAND_FOUNDATION": f[:32]}, {"CAND_COMPONENT": 1},
                                        {"CAND_TRANSPORT": "UDP"}, {"CAND_PRIORITY": prio},
                                        {"CAND_ADDR": "%s:%d" % (ip, port)},
                                        {"CAND_TYPE": {"host": "HOST", "srflx": "SRFLX"}.get(typ, "HOST")}]}
                  for f, prio, ip, port, typ in cands[:32]]
    r = await aw(ctl.request, "configure", "CONFIGURE", [{"CONTEXT": [
        {"CONTEXT_ID": ctx_id},
        {"TERMINATION": [{"TERM_ID": w3_id},
                         {"ICE": [{"ICE_REMOTE_UFRAG": ufrag}, {"ICE_REMOTE_PWD": pwd}] + cand_elems},
                         {"DTLS": [{"DTLS_SETUP": "ACTIVE"},
                                   {"REMOTE_FINGERPRINT": [{"FP_HASH": "SHA-256"}, {"FP_VALUE": fp_hex}]}]}]},
        {"TERMINATION": [{"TERM_ID": ims_id},
                         {"STREAM": [{"STREAM_ID": 1}, {"REMOTE_ADDR": "127.0.0.1:%d" % echo.port}]}]}]}])
    ok = r is not None and "reply" in r and r["reply"]["header"]["flags"] == 0
    states = [find(t, "TERM_STATE") for t in find_all(find(r["reply"]["body"], "CONTEXT"), "TERMINATION")] if ok else []
    tap.result(ok and states == ["CONFIGURED", "ACTIVE"],
               "CONFIGURE: W3 CONFIGURED (remote ICE and fingerprint), IMS ACTIVE (remote address)",
               json.dumps(r)[:1500])

    await pc.setRemoteDescription(RTCSessionDescription(answer_sdp(mid, w3, opus), "answer"))

    ev = await aw(ctl.event, 1, 15)
    tap.result(ev is not None, "EVENT ICE_SELECTED_PAIR (nomination by aiortc)",
               "aiortc ICE state %s" % pc.iceConnectionState,
               "\n".join(l for l in metrics_text(metrics_port).splitlines() if "media" in l and not l.startswith("#")),
               lab.log("agw.log")[-2000:])
    if ev:
        e = find(ev["event"]["body"], "EVENT")
        tap.result(find(e, "CONTEXT_ID") == ctx_id and find(e, "TERM_ID") == w3_id and
                   find(e, "SELECTED_REMOTE") in ["%s:%d" % (c[2], c[3]) for c in cands] and
                   find(e, "CAND_TRANSPORT") == "UDP",
                   "ICE_SELECTED_PAIR names the context, the termination and aiortc's candidate",
                   json.dumps(e))
    ev = await aw(ctl.event, 5, 15)
    tap.result(ev is not None, "EVENT DTLS_ESTABLISHED", lab.log("agw.log")[-2000:])
    if ev:
        e = find(ev["event"]["body"], "EVENT")
        tap.result(find(e, "DTLS_SETUP") == "ACTIVE" and find(e, "SRTP_PROFILE") in (1, 2, 7, 8),
                   "DTLS_ESTABLISHED: the AGW was the client (setup active), SRTP profile negotiated",
                   json.dumps(e))

    # Media for 4 s: aiortc -> AGW -> echo -> AGW -> aiortc.
    await asyncio.sleep(4)
    sender_stats = await pc.getSenders()[0].getStats()
    recv_stats = await pc.getReceivers()[0].getStats()
    sent = sum(s.packetsSent for s in sender_stats.values() if s.type == "outbound-rtp")
    got = sum(s.packetsReceived for s in recv_stats.values() if s.type == "inbound-rtp")
    tap.result(sent > 100 and got > 0.8 * sent - 60,
               "aiortc receives its audio back through the AGW and the IMS echo",
               "sent %d received %d (echo saw %d RTP, %d RTCP)" % (sent, got, echo.count["rtp"],
                                                                 echo.count["rtcp"]))
    tap.result(frames["n"] > 50, "aiortc decodes the echoed audio (frames from the remote track)",
               "frames %d" % frames["n"])
    tap.result(echo.sources and
               all(src[0] == "127.0.0.1" and src[1] == (rtp_port + (k == "rtcp")) for k, src in echo.sources),
               "IMS side: RTP from the AGW's RTP port, RTCP from its RTCP port",
               repr(echo.sources))
    tap.result(echo.count["rtcp"] > 0, "RTCP reaches the IMS side on the RTCP port (rtcp-mux split)",
               repr(echo.count))
    relayed = metric_value(metrics_port, 'eimsagw_media_relayed_total{dir="w3_to_ims",kind="rtp"}')
    tap.result(sent > 100 and relayed is not None and relayed >= sent * 0.8,
               "metric eimsagw_media_relayed_total counts the relayed packets", "relayed %s" % relayed)

    r = await aw(ctl.request, "release", "RELEASE", [{"CONTEXT": [{"CONTEXT_ID": ctx_id}]}])
    ok = r is not None and "reply" in r and r["reply"]["header"]["flags"] == 0
    stats = {}
    if ok:
        for t in find_all(find(r["reply"]["body"], "CONTEXT"), "TERMINATION"):
            st = find(find(t, "STREAM"), "STATS")
            stats[find(t, "TERM_ID")] = (find(find(st, "STATS_RX"), "PACKETS"),
                                         find(find(st, "STATS_TX"), "PACKETS"))
    tap.result(ok and stats.get(w3_id, (0, 0))[0] > 100 and stats[w3_id][1] > 100 and
               stats.get(ims_id, (0, 0))[0] > 100 and stats[ims_id][1] > 100,
               "RELEASE returns STATS with packet counts on both legs", json.dumps(r)[:1500])
    await pc.close()
    return True


def main():
    bindir = BIN
    host = [a for a in get_host_addresses(True, False)]
    if not host:
        tap.result(False, "a non-loopback IPv4 address for aiortc's candidates")
        return
    host_ip = host[0]
    echo = Echo()
    iq_port, metrics_port = free_port(), free_port()
    ctl = Ctl(iq_port)
    l = ctl.wait(lambda l: l.get("link") == "listening", 10)
    tap.result(l is not None, "iqp-ctl listens (plain TCP)")
    lo = free_port(socket.SOCK_DGRAM)
    lo = 30000 + (lo % 20000) // 2 * 2
    agw = lab.daemon(bindir, "eims-agw", "agw.log", [
        "--state_dir=%s/agw" % lab.tmp, "--node_id=agw-1", "--metrics.listen=127.0.0.1:%d" % metrics_port,
        "--iq.security=tcp", "--iq.controllers=127.0.0.1:%d" % iq_port,
        "--iq.realm=w3=%s ims=127.0.0.1" % host_ip, "--media.port_min=%d" % lo,
        "--media.port_max=%d" % (lo + 199), "--log.level=info,media=debug"])
    tap.result(agw is not None, "eims-agw starts")
    if not agw:
        return
    reg = ctl.wait(lambda l: l.get("link") == "registered", 10)
    tap.result(reg is not None and reg.get("node_id") == "agw-1", "eims-agw registers with iqp-ctl")
    if reg:
        asyncio.run(call(ctl, echo, host_ip, metrics_port))
    echo.stop = True
    lab.stop_daemon(tap, agw, "eims-agw", "agw.log")
    ctl.p.stdin.close()
    try:
        ctl.p.wait(5)
    except subprocess.TimeoutExpired:
        pass


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

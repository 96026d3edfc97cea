#!/usr/bin/python3
"""One aiortc call leg through eims-agw, driven over Iq+ by iqp-ctl: the
browser side is aiortc (ICE, DTLS-SRTP, rtcp-mux, BUNDLE), the IMS side a
UDP echo.  Shared by agw_media.py (one AGW) and agw_workers.py (through
each worker).  Not a suite of its own."""
import asyncio
import fractions
import json
import math
import random
import re
import socket
import threading
import time

from harness import free_port, metric_value
from iqp_ctl_proc import find, find_all

import av  # aiortc's dependency
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

CHOOSE = 4294967294


class Env:
    """Where a leg reports: the suite's Tap, and the AGW's log for details."""

    def __init__(self, tap, lab, agw_log="agw.log"):
        self.tap = tap
        self.lab = lab
        self.log_name = agw_log

    def agw_log(self):
        return self.lab.log(self.log_name)


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
        self.count = {"rtp": 0, "rtcp": 0, "rtp_with_ext": 0}
        self.feedback = []  # (PT, FMT) of every RTCP feedback packet received
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
            if kind == "rtp" and data and data[0] & 0x10:
                self.count["rtp_with_ext"] += 1
            i = 0
            while kind == "rtcp" and i + 4 <= len(data):
                if data[i + 1] in (205, 206):
                    self.feedback.append((data[i + 1], data[i] & 0x1f))
                i += 4 * (int.from_bytes(data[i + 2:i + 4], "big") + 1)
            self.sources.add((kind, src))
            s.sendto(data, src)


def consume_tracks(pc, frames=None):
    """Reads every track pc receives (so that aiortc decodes and counts
    it); frames, when given, counts the frames per kind."""
    @pc.on("track")
    def on_track(track):
        if frames is not None:
            frames[track.kind] = 0

        async def consume():
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                if frames is not None:
                    frames[track.kind] += 1
        asyncio.ensure_future(consume())


async def aw(fn, *args):
    """A blocking iqp-ctl wait, off the event loop aiortc runs on."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def parse_offer(sdp):
    """Per m-line: kind, mid, codecs; session: ICE, fingerprint, candidates,
    the extmap id of the MID extension."""
    ufrag = re.search(r"a=ice-ufrag:(\S+)", sdp).group(1)
    pwd = re.search(r"a=ice-pwd:(\S+)", sdp).group(1)
    fp = re.search(r"a=fingerprint:sha-256 (\S+)", sdp).group(1)
    m = re.search(r"a=extmap:(\d+) urn:ietf:params:rtp-hdrext:sdes:mid", sdp)
    mid_ext = int(m.group(1)) if m else None
    cands = []
    for m in re.finditer(r"a=candidate:(\S+) (\d) (\S+) (\d+) (\S+) (\d+) typ (\S+)", sdp):
        found, comp, proto, prio, ip, port, typ = m.groups()
        if proto.lower() == "udp" and ":" not in ip and comp == "1" and \
                (found, int(prio), ip, int(port), typ) not in cands:
            cands.append((found, int(prio), ip, int(port), typ))
    media = []
    for sect in sdp.split("m=")[1:]:
        kind = sect.split()[0]
        mid = re.search(r"a=mid:(\S+)", sect).group(1)
        codecs = []
        for m in re.finditer(r"a=rtpmap:(\d+) ([^/\s]+)/(\d+)(?:/(\d+))?", sect):
            codecs.append((int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4) or 1)))
        media.append((kind, mid, codecs))
    return ufrag, pwd, fp, mid_ext, cands, media


def codec_elems(codecs):
    out = []
    for pt, name, clock, ch in codecs:
        c = [{"PAYLOAD_TYPE": pt}, {"CODEC_NAME": name}, {"CLOCK_RATE": clock}]
        if ch > 1:
            c.append({"CHANNELS": ch})
        out.append({"CODEC": c})
    return out


def answer_sdp(w3, media, setup, mid_ext):
    """The answer aiortc gets: everything from the AGW's RESERVE reply;
    one bundled m-line per offered medium."""
    ice = find(w3, "ICE")
    dtls = find(w3, "DTLS")
    fp = find(find(dtls, "LOCAL_FINGERPRINT"), "FP_VALUE")
    fp = ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()
    cand = find(ice, "LOCAL_CANDIDATE")
    ip, port = find(cand, "CAND_ADDR").rsplit(":", 1)
    lines = ["v=0", "o=- 1 1 IN IP4 %s" % ip, "s=-", "t=0 0",
             "a=group:BUNDLE %s" % " ".join(m[1] for m in media), "a=ice-lite"]
    for kind, mid, codecs in media:
        lines += ["m=%s %s UDP/TLS/RTP/SAVPF %s" % (kind, port, " ".join(str(c[0]) for c in codecs)),
                  "c=IN IP4 %s" % ip, "a=mid:%s" % mid, "a=sendrecv", "a=rtcp-mux"]
        if mid_ext:
            lines.append("a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid" % mid_ext)
        for pt, name, clock, ch in codecs:
            lines.append("a=rtpmap:%d %s/%d%s" % (pt, name, clock, "/%d" % ch if ch > 1 else ""))
        lines += ["a=ice-ufrag:%s" % find(ice, "ICE_LOCAL_UFRAG"), "a=ice-pwd:%s" % find(ice, "ICE_LOCAL_PWD"),
                  "a=fingerprint:sha-256 %s" % fp, "a=setup:%s" % setup.lower(),
                  "a=candidate:%s 1 udp %d %s %s typ host" % (find(cand, "CAND_FOUNDATION"),
                                                              find(cand, "CAND_PRIORITY"), ip, port),
                  "a=end-of-candidates"]
    return "\r\n".join(lines) + "\r\n"


class Pattern(VideoStreamTrack):
    """A small grey picture, 30 frames/s (VP8 in aiortc)."""

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=160, height=120, format="yuv420p")
        for plane in frame.planes:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


# Per medium: the codec aiortc should use, the IMS leg's payload type for it.
WANT = {"audio": ("opus", 100), "video": ("VP8", 101)}


async def flood(env, pc, w3_addr, agw_ufrag, host_ip, metrics_port, ctl):
    """Bad input at the W3 port from an address ICE never validated, while
    aiortc's call runs: every packet dropped and counted by reason, the
    call undisturbed."""
    from aioice import stun
    ip, port = w3_addr.rsplit(":", 1)
    dst = (ip, int(port))
    names = ("stun", "dtls", "ice_not_allowed", "demux")
    before = {k: metric_value(metrics_port, 'eimsagw_media_dropped_total{reason="%s"}' % k) or 0 for k in names}
    rcv = pc.getReceivers()[0]
    got0 = sum(x.packetsReceived for x in (await rcv.getStats()).values() if x.type == "inbound-rtp")
    rogue = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rogue.bind((host_ip, 0))
    rnd = random.Random(5)
    for i in range(200):
        m = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        m.attributes["USERNAME"] = "%s:rogue" % agw_ufrag
        m.attributes["USE-CANDIDATE"] = None
        m.add_message_integrity(b"not the password at all")   # wrong MESSAGE-INTEGRITY
        rogue.sendto(bytes(m), dst)
        raw = bytearray(bytes(m))
        rogue.sendto(bytes(raw[:20 + rnd.randrange(0, 12)]), dst)   # truncated STUN
        rogue.sendto(bytes([22, 254, 253]) + rnd.randbytes(rnd.randrange(0, 300)), dst)  # DTLS garbage
        rogue.sendto(bytes([0x80, 111]) + rnd.randbytes(rnd.randrange(10, 300)), dst)    # fake SRTP
        rogue.sendto(bytes([0xff]) + rnd.randbytes(rnd.randrange(0, 100)), dst)          # not demuxable
        if i % 20 == 0:
            await asyncio.sleep(0.01)
    await asyncio.sleep(2)
    after = {k: metric_value(metrics_port, 'eimsagw_media_dropped_total{reason="%s"}' % k) or 0 for k in names}
    d = {k: after[k] - before[k] for k in names}
    got1 = sum(x.packetsReceived for x in (await rcv.getStats()).values() if x.type == "inbound-rtp")
    # Wrong MESSAGE-INTEGRITY -> stun; DTLS records from an address ICE never
    # validated -> dtls; SRTP from it -> ice_not_allowed; the rest, and
    # datagrams too short for what their first byte says (truncated STUN,
    # 3-byte DTLS), -> demux.
    env.tap.result(d["stun"] >= 200 and d["dtls"] >= 150 and d["ice_not_allowed"] == 200 and
               d["demux"] >= 200 and sum(d.values()) == 1000,
               "bad input from an unvalidated address: all 1,000 dropped and counted per reason", repr(d))
    env.tap.result(got1 - got0 > 60 and pc.connectionState == "connected" and ctl.event(6, 0.2) is None,
               "the call is undisturbed by the flood (media keeps flowing, no DTLS failure)",
               "received %d in 2 s, state %s" % (got1 - got0, pc.connectionState))
    rogue.close()


async def session(env, ctl, name, host_ip, metrics_port, kinds, setup, wrong_fp=False, end="release",
                  ims_fb=(), pli=None):
    """One call leg pair: aiortc with one track per kind (BUNDLE when more
    than one), a W3 termination with one stream per kind, an IMS
    termination with the same streams, each echoed.  setup: the AGW's
    DTLS role (ACTIVE: AGW is the client).  end: "release" (RELEASE with
    STATS) or "consent" (aiortc goes away: ICE_CONSENT_LOST).  ims_fb: the
    RTCP_FB values of the IMS streams' codecs (what the IMS peer
    negotiated); pli: aiortc sends a PLI for its video and the echo must
    see it as "pli" (PSFB FMT 1) or "fir" (FMT 4, RFC 5104)."""
    pc = RTCPeerConnection()
    frames = {}

    consume_tracks(pc, frames)

    for k in kinds:
        pc.addTrack(Tone() if k == "audio" else Pattern())
    await pc.setLocalDescription(await pc.createOffer())
    ufrag, pwd, fp, mid_ext, cands, media = parse_offer(pc.localDescription.sdp)
    chosen = []  # (kind, mid, [codec]) as answered
    for kind, mid, codecs in media:
        c = [x for x in codecs if x[1].lower() == WANT[kind][0].lower()][:1]
        chosen.append((kind, mid, c))
    ok = all(c for _, _, c in chosen) and bool(cands)
    env.tap.result(ok, "%s: aiortc offers %s and IPv4 host candidates" % (name, "+".join(kinds)),
               pc.localDescription.sdp)
    if not ok:
        await pc.close()
        return
    w3_streams, ims_streams, echoes = [], [], []
    for i, (kind, mid, c) in enumerate(chosen):
        mt = kind.upper()
        w3_streams.append({"STREAM": [{"STREAM_ID": i + 1}, {"MEDIA_TYPE": mt},
                                      {"TRANSPORT_PROTO": "UDP/TLS/RTP/SAVPF"}] + codec_elems(c)})
        ims_c = [(WANT[kind][1],) + c[0][1:]]
        ims_codecs = codec_elems(ims_c)
        for ce in ims_codecs:
            ce["CODEC"] += [{"RTCP_FB": v} for v in ims_fb]
        ims_streams.append({"STREAM": [{"STREAM_ID": i + 1}, {"MEDIA_TYPE": mt},
                                       {"TRANSPORT_PROTO": "RTP/AVPF" if ims_fb else "RTP/AVP"}] + ims_codecs})
        echoes.append(Echo())
    w3_term = [{"TERM_ID": CHOOSE}, {"TERM_KIND": "W3"}, {"REALM_NAME": "w3"},
               {"ICE": [{"ICE_MODE": "LITE"}]}, {"DTLS": [{"DTLS_SETUP": "ACTPASS"}]}] + w3_streams
    if len(kinds) > 1:
        bundle = [{"BUNDLE_ENTRY": [{"STREAM_ID": i + 1}, {"MID": mid}]} for i, (_, mid, _) in enumerate(chosen)]
        if mid_ext:
            bundle.append({"MID_EXT_ID": mid_ext})
        w3_term.append({"BUNDLE": bundle})
    r = await aw(ctl.request, name + "-reserve", "RESERVE", [{"CONTEXT": [
        {"CONTEXT_ID": CHOOSE}, {"TERMINATION": w3_term},
        {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "IMS"}, {"REALM_NAME": "ims"}] + ims_streams}]}])
    ok = r is not None and "reply" in r and r["reply"]["header"]["flags"] == 0
    env.tap.result(ok, "%s: RESERVE a W3 and an IMS termination (%d streams each)" % (name, len(kinds)),
               json.dumps(r)[:1500])
    if not ok:
        await pc.close()
        return
    ctx = find(r["reply"]["body"], "CONTEXT")
    ctx_id = find(ctx, "CONTEXT_ID")
    w3, ims = find_all(ctx, "TERMINATION")
    w3_id, ims_id = find(w3, "TERM_ID"), find(ims, "TERM_ID")
    ice = find(w3, "ICE")
    if name == "audio":
        env.tap.result(find(w3, "TERM_STATE") == "RESERVED" and len(find(ice, "ICE_LOCAL_UFRAG")) >= 4 and
                   len(find(ice, "ICE_LOCAL_PWD")) >= 22 and
                   find(find(ice, "LOCAL_CANDIDATE"), "CAND_ADDR").startswith(host_ip + ":") and
                   len(find(find(find(w3, "DTLS"), "LOCAL_FINGERPRINT"), "FP_VALUE")) == 64 and
                   len(find(find(w3, "DTLS"), "LOCAL_TLS_ID")) >= 20,
                   "RESERVE reply: ICE credentials, host candidate on the W3 realm, SHA-256 fingerprint, tls-id")
    local = {}
    for st in find_all(ims, "STREAM"):
        local[find(st, "STREAM_ID")] = (find(st, "LOCAL_ADDR"), find(st, "LOCAL_RTCP_ADDR"))
    ports_ok = len(local) == len(kinds) and all(
        int(a.rsplit(":", 1)[1]) % 2 == 0 and b == "127.0.0.1:%d" % (int(a.rsplit(":", 1)[1]) + 1)
        for a, b in local.values())
    env.tap.result(ports_ok, "%s: IMS streams on even RTP ports, RTCP on the next" % name, repr(local))

    fp_hex = fp.replace(":", "").lower()
    if wrong_fp:
        fp_hex = "%064x" % (int(fp_hex, 16) ^ 1)
    cand_elems = [{"REMOTE_CANDIDATE": [{"CAND_FOUNDATION": f[:32]}, {"CAND_COMPONENT": 1},
                                        {"CAND_TRANSPORT": "UDP"}, {"CAND_PRIORITY": prio},
                                        {"CAND_ADDR": "%s:%d" % (ip, port)}, {"CAND_TYPE": "HOST"}]}
                  for f, prio, ip, port, typ in cands[:32]]
    r = await aw(ctl.request, name + "-configure", "CONFIGURE", [{"CONTEXT": [
        {"CONTEXT_ID": ctx_id},
        {"TERMINATION": [{"TERM_ID": w3_id},
                         {"ICE": [{"ICE_REMOTE_UFRAG": ufrag}, {"ICE_REMOTE_PWD": pwd}] + cand_elems},
                         {"DTLS": [{"DTLS_SETUP": setup},
                                   {"REMOTE_FINGERPRINT": [{"FP_HASH": "SHA-256"}, {"FP_VALUE": fp_hex}]}]}]},
        {"TERMINATION": [{"TERM_ID": ims_id}] + [
            {"STREAM": [{"STREAM_ID": i + 1}, {"REMOTE_ADDR": "127.0.0.1:%d" % e.port}]}
            for i, e in enumerate(echoes)]}]}])
    ok = r is not None and "reply" in r and r["reply"]["header"]["flags"] == 0
    states = [find(t, "TERM_STATE") for t in find_all(find(r["reply"]["body"], "CONTEXT"), "TERMINATION")] if ok else []
    env.tap.result(ok and states == ["CONFIGURED", "ACTIVE"],
               "%s: CONFIGURE: W3 CONFIGURED, IMS ACTIVE" % name, json.dumps(r)[:1500])

    await pc.setRemoteDescription(RTCSessionDescription(
        answer_sdp(w3, chosen, setup, mid_ext if len(kinds) > 1 else None), "answer"))

    ev = await aw(ctl.event, 1, 15, ctx_id)
    env.tap.result(ev is not None, "%s: EVENT ICE_SELECTED_PAIR (nomination by aiortc)" % name,
               "aiortc ICE state %s" % pc.iceConnectionState, env.agw_log()[-2000:])
    if ev:
        e = find(ev["event"]["body"], "EVENT")
        env.tap.result(find(e, "CONTEXT_ID") == ctx_id and find(e, "TERM_ID") == w3_id and
                   find(e, "SELECTED_REMOTE") in ["%s:%d" % (c[2], c[3]) for c in cands] and
                   find(e, "CAND_TRANSPORT") == "UDP" and find(e, "CAND_TYPE") == "HOST",
                   "%s: ICE_SELECTED_PAIR names the context, termination and aiortc's host candidate" % name,
                   json.dumps(e))
    if wrong_fp:
        ev = await aw(ctl.event, 6, 15, ctx_id)
        e = find(ev["event"]["body"], "EVENT") if ev else []
        env.tap.result(ev is not None and find(find(e, "ERROR") or [], "ERROR_CODE") == 1301 and
                   find(e, "TERM_ID") == w3_id,
                   "%s: a wrong fingerprint gives DTLS_FAILED with 1301" % name, json.dumps(ev))
        await asyncio.sleep(1)
        recv_stats = await pc.getReceivers()[0].getStats()
        got = sum(x.packetsReceived for x in recv_stats.values() if x.type == "inbound-rtp")
        env.tap.result(got == 0 and sum(e.count["rtp"] for e in echoes) == 0,
                   "%s: no media either way after the failure" % name, "aiortc got %d" % got)
    else:
        ev = await aw(ctl.event, 5, 15, ctx_id)
        env.tap.result(ev is not None, "%s: EVENT DTLS_ESTABLISHED" % name, env.agw_log()[-2000:])
        if ev:
            e = find(ev["event"]["body"], "EVENT")
            env.tap.result(find(e, "DTLS_SETUP") == setup and find(e, "SRTP_PROFILE") in (1, 2, 7, 8),
                       "%s: DTLS_ESTABLISHED: AGW %s (DTLS %s), profile %s" % (
                           name, setup.lower(), "client" if setup == "ACTIVE" else "server",
                           find(e, "SRTP_PROFILE")), json.dumps(e))
        routed0 = metric_value(metrics_port, "eimsagw_media_rtcp_routed_total") or 0
        await asyncio.sleep(5)
        for i, kind in enumerate(kinds):
            snd = [x for x in pc.getSenders() if x.track and x.track.kind == kind][0]
            rcv = [x for x in pc.getReceivers() if x.track and x.track.kind == kind][0]
            sent = sum(x.packetsSent for x in (await snd.getStats()).values() if x.type == "outbound-rtp")
            got = sum(x.packetsReceived for x in (await rcv.getStats()).values() if x.type == "inbound-rtp")
            print("# %s %s: aiortc sent %d RTP, received %d back; echo saw %d RTP, %d RTCP; frames %d" % (
                name, kind, sent, got, echoes[i].count["rtp"], echoes[i].count["rtcp"], frames.get(kind, 0)))
            env.tap.result(sent > 50 and got > 0.8 * sent - 40,
                       "%s: aiortc receives its %s back through the AGW and the IMS echo" % (name, kind),
                       "sent %d received %d" % (sent, got))
            env.tap.result(frames.get(kind, 0) > 30, "%s: aiortc decodes the echoed %s" % (name, kind),
                       "frames %s" % frames)
            rtp_p = int(local[i + 1][0].rsplit(":", 1)[1])
            env.tap.result(echoes[i].count["rtcp"] > 0 and echoes[i].sources and all(
                src == ("127.0.0.1", rtp_p + (k == "rtcp")) for k, src in echoes[i].sources),
                "%s: %s RTP from the AGW's RTP port, RTCP from its RTCP port (rtcp-mux split)" % (name, kind),
                repr(echoes[i].sources), repr(echoes[i].count))
        if pli:
            # The browser asks for a key frame: PLI (RFC 4585) toward the
            # IMS peer, as FIR (RFC 5104) when that peer negotiated only
            # "ccm fir" (SPEC 8.9.3 item 3).
            k = kinds.index("video")
            rcv = [x for x in pc.getReceivers() if x.track and x.track.kind == "video"][0]
            ssrc = [x for x in (await rcv.getStats()).values() if x.type == "inbound-rtp"][0].ssrc
            before = len(echoes[k].feedback)
            for _ in range(3):
                await rcv._send_rtcp_pli(ssrc)
            await asyncio.sleep(0.5)
            fb = echoes[k].feedback[before:]
            want = (206, 4 if pli == "fir" else 1)
            env.tap.result(fb.count(want) >= 3 and (206, 1 if pli == "fir" else 4) not in fb,
                           "%s: aiortc's PLI reaches the IMS peer as %s" % (name, pli.upper()), repr(fb))
        if mid_ext and len(kinds) > 1:
            env.tap.result(all(e.count["rtp_with_ext"] == 0 for e in echoes),
                       "%s: header extensions (aiortc sends the MID) not forwarded toward IMS" % name,
                       repr([e.count for e in echoes]))
        routed = metric_value(metrics_port, "eimsagw_media_rtcp_routed_total") or 0
        env.tap.result(routed > routed0, "%s: RTCP from aiortc routed to streams by SSRC" % name,
                   "%s -> %s" % (routed0, routed))
        if name == "audio":
            await flood(env, pc, find(find(ice, "LOCAL_CANDIDATE"), "CAND_ADDR"), find(ice, "ICE_LOCAL_UFRAG"),
                        host_ip, metrics_port, ctl)
        if end == "consent":
            await pc.close()
            t0 = time.time()
            ev = await aw(ctl.event, 3, 20, ctx_id)
            e = find(ev["event"]["body"], "EVENT") if ev else []
            env.tap.result(ev is not None and find(find(e, "ERROR") or [], "ERROR_CODE") == 1304 and
                       find(e, "TERM_ID") == w3_id,
                       "%s: aiortc gone: ICE_CONSENT_LOST (1304) after T_CONSENT" % name,
                       "after %.1f s" % (time.time() - t0), json.dumps(ev))
    r = await aw(ctl.request, name + "-release", "RELEASE", [{"CONTEXT": [{"CONTEXT_ID": ctx_id}]}])
    ok = r is not None and "reply" in r and r["reply"]["header"]["flags"] == 0
    counts = {}
    if ok:
        for t in find_all(find(r["reply"]["body"], "CONTEXT"), "TERMINATION"):
            for st in find_all(t, "STREAM"):
                stats = find(st, "STATS")
                counts[(find(t, "TERM_ID"), find(st, "STREAM_ID"))] = (
                    find(find(stats, "STATS_RX"), "PACKETS"), find(find(stats, "STATS_TX"), "PACKETS"))
    if wrong_fp:
        env.tap.result(ok and all(v == (0, 0) for v in counts.values()) and len(counts) == 2,
                   "%s: RELEASE: STATS show no media" % name, json.dumps(r)[:1000])
    else:
        env.tap.result(ok and len(counts) == 2 * len(kinds) and all(rx > 50 and tx > 50 for rx, tx in counts.values()),
                   "%s: RELEASE returns STATS with packet counts on both legs, every stream" % name,
                   json.dumps(r)[:1500])
    for e in echoes:
        e.stop = True
    if end != "consent":
        await pc.close()

#!/usr/bin/python3
"""A WebRTC call end to end with aiortc as an independent WebRTC client:
the scripted WIC registers through ep-cscf (WSS) and calls sip:uas@ims.test
with aiortc's offer; the IMS-ALG reserves media on eims-agw over Iq+ (mutual
TLS), Kamailio routes the IMS offer to a SIPp UAS that echoes RTP
(-rtp_echo); aiortc's DTLS-SRTP audio goes through the AGW to the echo and
back.  Judged by aiortc's own statistics (packets sent and received), then
BYE from the browser, RELEASE on the AGW, clean stops.  Prints TAP lines.
usage: aiortc_call.py BINDIR"""
import asyncio
import fractions
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import call_lab  # noqa: E402
from aiortc_leg import consume_tracks  # noqa: E402
from harness import ROOT, Lab, Tap, free_port, wait_log  # noqa: E402
from wic_call import Call, final, responses_until  # noqa: E402
from wic_client import Wic, header, headers, rand  # noqa: E402

import av  # noqa: E402
from aioice.ice import get_host_addresses  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ORIGIN = "https://wic.test:8443"
tap = Tap()
result = tap.result
lab = Lab("aiortc_call.")
UAS_PORT = free_port(socket.SOCK_DGRAM)


class Tone(AudioStreamTrack):
    """440 Hz, 20 ms frames in real time."""

    def __init__(self):
        super().__init__()
        self.pts, self.start = 0, None

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.pts / 8000 - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=160)
        frame.planes[0].update(b"".join(
            (int(8000 * math.sin(2 * math.pi * 440 * (self.pts + i) / 8000)) & 0xffff).to_bytes(2, "little")
            for i in range(160)))
        frame.sample_rate = 8000
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, 8000)
        self.pts += 160
        return frame


async def rtp_stats(pc):
    sent = recv = 0
    for s in (await pc.getStats()).values():
        if s.type == "outbound-rtp":
            sent += s.packetsSent
        elif s.type == "inbound-rtp":
            recv += s.packetsReceived
    return sent, recv


async def wait_rtp(pc, enough, tries=40, step=0.25):
    """Polls aiortc's counters until enough(sent, recv) or tries run out;
    returns the last (sent, recv)."""
    sent = recv = 0
    for _ in range(tries):
        await asyncio.sleep(step)
        sent, recv = await rtp_stats(pc)
        if enough(sent, recv):
            break
    return sent, recv


async def answered(w, c, pc, ok):
    """ACK of a 200 with the SDP answer; aiortc gets the answer; returns
    once audio flows both ways (or after 10 s)."""
    c.learn(ok)
    await w.send_raw(c.in_dialog("ACK", 1))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=ok["body"], type="answer"))
    await wait_rtp(pc, lambda sent, recv: min(sent, recv) > 20)


async def scenario(ports):
    w = Wic("wss://127.0.0.1:%d" % ports["wss"], ORIGIN, "alice", "alice-secret")
    await w.connect()
    _, fin = await w.register()
    result(fin is not None and fin.get("status") == 200, "WIC registered", str(fin and fin["start"]))

    uas = call_lab.sipp_echo_uas(lab, UAS_PORT)
    await asyncio.sleep(0.3)
    pc = RTCPeerConnection()
    pc.addTrack(Tone())

    consume_tracks(pc)

    await pc.setLocalDescription(await pc.createOffer())
    c = Call(w, "uas")
    await c.invite(pc.localDescription.sdp.replace("\r\n", "\n").replace("\n", "\r\n"))
    seen, ok = await responses_until(w, final, 15)
    codes = [m.get("status") for m in seen]
    result(ok is not None and ok.get("status") == 200, "INVITE answered 200 through the ALG", str(codes))
    log = lab.log("ep-cscf.log")
    fo = [l for l in log.splitlines() if 'msg="iq request failed, next agw"' in l and "node_id=agw-0" in l]
    result(bool(fo) and "node_id=agw-1" in log,
           "RESERVE refused by the first AGW (no ports) is retried on the next one", *fo[-1:])
    if not ok or ok.get("status") != 200:
        await w.close()
        uas.kill()
        return
    answer = ok["body"]
    result("a=ice-lite" in answer and "a=fingerprint:sha-256" in answer and "UDP/TLS/RTP/SAVPF" in answer
           and "a=rtcp-mux" in answer, "the browser's answer is WebRTC: ice-lite, DTLS fingerprint, SAVPF, rtcp-mux",
           answer)
    c.learn(ok)
    await w.send_raw(c.in_dialog("ACK", 1))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    sent, recv = await wait_rtp(pc, lambda sent, recv: sent > 50 and recv > 50)
    print("# aiortc packetsSent %d packetsReceived %d" % (sent, recv))
    result(sent > 0 and recv > 0 and recv >= sent // 2,
           "aiortc's audio comes back from the SIPp echo through the AGW (getStats)",
           "packetsSent %d packetsReceived %d" % (sent, recv))
    await w.send_raw(c.in_dialog("BYE", 2))
    _, bye_ok = await responses_until(w, lambda m: "BYE" in (header(m, "cseq") or ""))
    result(bye_ok is not None and bye_ok.get("status") == 200, "BYE from the browser: 200",
           str(bye_ok and bye_ok["start"]))
    result(wait_log(os.path.join(lab.tmp, "ep-cscf.log"), 'msg="media released"', 5),
           "the call's context is released on the AGW")
    await pc.close()
    rc = uas.wait(20)
    result(rc == 0, "the far end saw the whole call (SIPp UAS with RTP echo)", "exit %s" % rc)

    # A re-INVITE refused by the far end (RFC 3264 section 8: the session
    # stays as it was).  The browser puts the call on hold (a=sendonly); the
    # offer's MODIFY gates the AGW's W3 stream RECVONLY; the far end answers
    # 488; the eP-CSCF undoes the MODIFY, so the echo reaches aiortc again.
    uas = call_lab.sipp_echo_uas(lab, UAS_PORT, "invite_uas_reinvite488.xml", {}, name="uas_488")
    await asyncio.sleep(0.3)
    pc = RTCPeerConnection()
    pc.addTrack(Tone())

    consume_tracks(pc)

    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp.replace("\r\n", "\n").replace("\n", "\r\n")
    c = Call(w, "uas")
    await c.invite(offer)
    _, ok = await responses_until(w, final, 15)
    if ok and ok.get("status") == 200:
        await answered(w, c, pc, ok)
        o = re.search(r"o=(\S+) (\d+) (\d+) ", offer)
        hold = offer.replace(o.group(0), "o=%s %s %d " % (o.group(1), o.group(2), int(o.group(3)) + 1), 1)
        hold = hold.replace("a=sendrecv", "a=sendonly")
        branch = "z9hG4bK" + rand(12)
        reinv = c.in_dialog("INVITE", 2, branch).replace(
            "Content-Length: 0\r\n\r\n",
            "Contact: <sip:%s@%s;transport=ws;ob>\r\nContent-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n%s" % (rand(6), w.host, len(hold), hold))
        await w.send_raw(reinv)
        _, fin = await responses_until(w, final, 10)
        result(fin is not None and fin.get("status") == 488, "a hold re-INVITE refused by the far end: 488",
               str(fin and fin["start"]))
        await w.send_raw(c.in_dialog("ACK", 2, branch).replace("To: %s" % c.to, "To: %s" % header(fin, "to"))
                         if fin else c.in_dialog("ACK", 2, branch))
        undone = wait_log(os.path.join(lab.tmp, "ep-cscf.log"), 'msg="refused offer undone on the AGW"', 5)
        result(undone, "the eP-CSCF undoes the refused offer's MODIFY on the AGW")
        await asyncio.sleep(0.5)
        r0 = (await rtp_stats(pc))[1]
        await asyncio.sleep(2)
        r1 = (await rtp_stats(pc))[1]
        result(r1 - r0 > 50, "after the refused hold the echo reaches aiortc again (getStats)",
               "packetsReceived +%d in 2 s" % (r1 - r0))
        await w.send_raw(c.in_dialog("BYE", 3))
        await responses_until(w, lambda m: "BYE" in (header(m, "cseq") or ""), 10)
    else:
        result(False, "a hold re-INVITE refused by the far end: 488", "no 200 for the INVITE")
    await pc.close()
    rc = uas.wait(20)
    result(rc == 0, "the far end saw INVITE, ACK, re-INVITE refused 488, ACK, BYE", "exit %s" % rc)

    # The browser's media goes away mid-call while its WebSocket stays: the
    # AGW reports it (consent lost or DTLS failed) and the eP-CSCF ends
    # the call with BYE both ways and releases the context.
    uas = call_lab.sipp_echo_uas(lab, UAS_PORT, name="uas_gone")
    await asyncio.sleep(0.3)
    pc = RTCPeerConnection()
    pc.addTrack(Tone())
    await pc.setLocalDescription(await pc.createOffer())
    c = Call(w, "uas")
    await c.invite(pc.localDescription.sdp.replace("\r\n", "\n").replace("\n", "\r\n"))
    _, ok = await responses_until(w, final, 15)
    if ok and ok.get("status") == 200:
        await answered(w, c, pc, ok)
        await pc.close()
        _, bye = await responses_until(w, lambda m: m.get("method") == "BYE", 15)
        result(bye is not None, "media gone mid-call: the browser side gets BYE from the eP-CSCF",
               str(bye and bye["start"]))
        if bye:
            await w.answer(bye)
        log = lab.log("ep-cscf.log")
        ev = [l for l in log.splitlines() if 'msg="media failure reported by the AGW"' in l]
        result(bool(ev), "the AGW's failure event is what ended it", *ev[-1:])
    else:
        result(False, "media gone mid-call: the browser side gets BYE from the eP-CSCF", "no 200")
    rc = uas.wait(20)
    result(rc == 0, "media gone mid-call: the far end gets BYE from the eP-CSCF", "exit %s" % rc)

    # Early media in a reliable provisional (RFC 3262): 183 with 100rel and
    # the SDP answer (CONFIGURE on the AGW), the browser's PRACK through the
    # early dialog, then 200 without SDP.
    uas = call_lab.sipp_echo_uas(lab, UAS_PORT, "invite_uas_100rel.xml", {}, name="uas_100rel")
    await asyncio.sleep(0.3)
    pc = RTCPeerConnection()
    pc.addTrack(Tone())
    await pc.setLocalDescription(await pc.createOffer())
    c = Call(w, "uas")
    await c.invite(pc.localDescription.sdp.replace("\r\n", "\n").replace("\n", "\r\n"))
    _, p183 = await responses_until(w, lambda m: m.get("status") == 183, 10)
    result(p183 is not None and header(p183, "rseq") == "1" and "a=fingerprint" in p183["body"],
           "183 with 100rel carries the WebRTC answer to the browser", str(p183 and p183["start"]))
    if p183:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=p183["body"], type="answer"))
        c.learn(p183)
        prack = c.in_dialog("PRACK", 2).replace("Content-Length: 0", "RAck: 1 1 INVITE\r\nContent-Length: 0")
        await w.send_raw(prack)
        _, pr_ok = await responses_until(w, lambda m: "PRACK" in (header(m, "cseq") or ""), 10)
        result(pr_ok is not None and pr_ok.get("status") == 200, "the PRACK is answered through the early dialog",
               str(pr_ok and pr_ok["start"]))
        sent, recv = await wait_rtp(pc, lambda sent, recv: recv > 5, 30, 0.1)
        result(recv > 0, "early media flows before the 200", "packetsSent %d packetsReceived %d" % (sent, recv))
        _, ok = await responses_until(w, final, 10)
        result(ok is not None and ok.get("status") == 200 and not ok["body"], "then 200 OK without SDP",
               str(ok and ok["start"]))
        if ok:
            c.learn(ok)
            await w.send_raw(c.in_dialog("ACK", 1))
            await asyncio.sleep(0.3)
            await w.send_raw(c.in_dialog("BYE", 3))
            await responses_until(w, lambda m: "BYE" in (header(m, "cseq") or ""), 10)
        await pc.close()
    rc = uas.wait(20)
    result(rc == 0, "the far end saw INVITE, PRACK, ACK and BYE", "exit %s" % rc)

    # Late offer, terminating: INVITE without SDP from a SIP phone; the
    # browser offers in its 200 (RESERVE), the phone answers in the ACK
    # (CONFIGURE), and the browser gets the answer in the ACK.
    uac = subprocess.Popen(
        ["sipp", "127.0.0.1:%d" % ports["kam"], "-sf", os.path.join(ROOT, "tests/sipp/invite_uac_late.xml"),
         "-s", "alice", "-m", "1", "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)),
         "-mi", "127.0.0.1", "-mp", str(call_lab.media_port()), "-rtp_echo",
         "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err",
         "-error_file", os.path.join(lab.tmp, "uac_late_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp, start_new_session=True)
    _, inv = await responses_until(w, lambda m: m.get("method") == "INVITE", 10)
    result(inv is not None and not inv["body"], "late offer: the INVITE reaches the browser without SDP",
           str(inv and inv["start"]))
    if inv:
        pc = RTCPeerConnection()
        pc.addTrack(Tone())
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp.replace("\r\n", "\n").replace("\n", "\r\n")
        base = [("via", v) for v in headers(inv, "via")] + [
            ("from", header(inv, "from")), ("to", header(inv, "to") + ";tag=late1"),
            ("call-id", header(inv, "call-id")), ("cseq", header(inv, "cseq"))]
        lines = ["SIP/2.0 200 OK"] + ["%s: %s" % (n.title(), v) for n, v in base]
        lines += ["Record-Route: %s" % r for r in headers(inv, "record-route")]
        lines += ["Contact: <sip:late@%s;transport=ws>" % w.host, "Content-Type: application/sdp",
                  "Content-Length: %d" % len(offer), "", offer]
        await w.send_raw("\r\n".join(lines))
        _, ack = await responses_until(w, lambda m: m.get("method") == "ACK", 10)
        result(ack is not None and "a=fingerprint" in ack["body"] and "a=ice-ufrag" in ack["body"],
               "late offer: the ACK brings the browser a WebRTC answer", str(ack and ack["body"][:200]))
        if ack and ack["body"]:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["body"], type="answer"))
            sent, recv = await wait_rtp(pc, lambda sent, recv: sent > 20 and recv > 20, 40, 0.1)
            result(sent > 0 and recv > 0, "late offer: audio both ways through the AGW",
                   "packetsSent %d packetsReceived %d" % (sent, recv))
        _, bye = await responses_until(w, lambda m: m.get("method") == "BYE", 10)
        if bye:
            await w.answer(bye)
        await pc.close()
    rc = uac.wait(30)
    result(rc == 0, "late offer: the SIP phone completed its call", "exit %s" % rc)
    # A stalled AGW (SIGSTOP) never blocks signalling: while the INVITE
    # waits for its RESERVE, another browser registers at once; after T_TXN
    # (5 s) and no other AGW able to serve, the caller gets 503; the AGW's
    # late reply, once it runs again, has its context released (SPEC 6.2
    # item 4), so no context is left behind (checked at the end).
    agw1 = ports["agws"]["agw-1"]
    agw1.send_signal(signal.SIGSTOP)
    try:
        pc = RTCPeerConnection()
        pc.addTrack(Tone())
        await pc.setLocalDescription(await pc.createOffer())
        c = Call(w, "uas")
        t0 = time.time()
        await c.invite(pc.localDescription.sdp.replace("\r\n", "\n").replace("\n", "\r\n"))
        w2 = Wic("wss://127.0.0.1:%d" % ports["wss"], ORIGIN, "bob", "bob-secret")
        await w2.connect()
        t1 = time.time()
        _, fin = await w2.register()
        took = time.time() - t1
        result(fin is not None and fin.get("status") == 200 and took < 2,
               "a stalled AGW does not block signalling: REGISTER meanwhile answered",
               "%.3f s" % took)
        await w2.close()
        _, fin = await responses_until(w, final, 20)
        waited = time.time() - t0
        result(fin is not None and fin.get("status") == 503 and 4 < waited < 12,
               "the INVITE waiting for the stalled AGW gets 503 after T_TXN",
               "%s after %.1f s" % (fin and fin["start"], waited))
        await pc.close()
    finally:
        agw1.send_signal(signal.SIGCONT)
    result(wait_log(os.path.join(lab.tmp, "ep-cscf.log"), "its context released (6.2 item 4)", 10),
           "the stalled AGW's late RESERVE reply is followed by a RELEASE")
    await w.close()


def main():
    host = [a for a in get_host_addresses(True, False)]
    if not host:
        result(False, "a non-loopback IPv4 address for aiortc's candidates")
        sys.exit(1)
    # T_CONSENT short (8 s; aiortc refreshes consent every 4-6 s), so that a
    # browser that goes away mid-call is noticed
    # within seconds (RFC 7675: 30 s).
    # agw-0 registers last, so it is tried first (same load), but its two
    # ports cannot hold a call: every RESERVE fails over to agw-1.
    ports = call_lab.start(lab, tap, BIN, [ORIGIN], UAS_PORT, host[0], agws=("agw-1", "agw-0"),
                           agw_extra={"agw-1": ["--media.consent_timeout=8000"],
                                      "agw-0": ["--media.port_min=39000", "--media.port_max=39001"]})
    if ports:
        try:
            asyncio.run(scenario(ports))
        except Exception as e:
            result(False, "scenario ran to the end", repr(e))
        call_lab.check_nothing_left(lab, tap, ports)
        for n, p in ports["agws"].items():
            lab.stop_daemon(tap, p, n, n + ".log")
        lab.stop_ep_cscf(tap)
    lab.close(tap)
    sys.exit(1 if tap.failed else 0)


main()

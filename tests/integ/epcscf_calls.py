#!/usr/bin/python3
"""Calls through ep-cscf between a scripted WIC (WSS) and SIPp behind
Kamailio (IMS core stand-in), signalling only (media.anchor none: the SDP
passes unchanged): originating call answered and ended by the browser,
ended by the far end, cancelled before the answer, refused with 486; a
terminating call from a SIPp UAC to the registered browser; the browser's
WebSocket closing mid-call (the far end gets BYE from the eP-CSCF) and
while ringing (a 2xx that crosses the CANCEL gets ACK and BYE); with
media anchoring but no AGW, 503 with Warning 399, and 488 with the
IMS-ALG's reason for an offer no AGW could serve.
Prints TAP lines.  usage: epcscf_calls.py BINDIR [udp|tcp|tls]  (toward the
IMS core)"""
import asyncio
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Lab, Tap, cert_fingerprint, free_port  # noqa: E402
from wic_call import SDP, Call, final, responses_until  # noqa: E402
from wic_client import Wic, header, headers, rand  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
TRANSPORT = sys.argv[2] if len(sys.argv) > 2 else "udp"
ORIGIN = "https://wic.test:8443"
tap = Tap()
result = tap.result
lab = Lab("epcscf_calls.")
UAS_PORT = free_port(socket.SOCK_DGRAM)
KAM_PORT = WSS = None



def sipp_uas(is486=0, is487=0, uasbye=0, late200=0):
    """Starts the far end on UAS_PORT for one call; returns the process."""
    name = ("invite_uas_cancel.xml" if is487 else "invite_uas_late200.xml" if late200
            else "invite_uas.xml")
    with open(os.path.join(ROOT, "tests/sipp", name)) as f:
        text = (f.read().replace("IS486", str(is486)).replace("UASBYE", str(uasbye))
                .replace("VIDEO\n", ""))
    scen = os.path.join(lab.tmp, "uas_%d%d%d%d.xml" % (is486, is487, uasbye, late200))
    with open(scen, "w") as f:
        f.write(text)
    return subprocess.Popen(
        ["sipp", "-sf", scen, "-i", "127.0.0.1", "-p", str(UAS_PORT), "-m", "1",
         "-mp", str(free_port(socket.SOCK_DGRAM)), "-timeout", "20s", "-timeout_error",
         "-nostdin", "-trace_err", "-error_file",
         os.path.join(lab.tmp, "uas_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp, start_new_session=True)


def sipp_wait(proc, secs=25):
    try:
        return proc.wait(secs)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "timeout"


async def scenario():
    w = Wic(WSS, ORIGIN, "alice", "alice-secret")
    await w.connect()
    _, fin = await w.register()
    result(fin is not None and fin.get("status") == 200, "WIC registered through ep-cscf",
           str(fin and fin["start"]))

    # 1. Originating call, answered; the browser hangs up.
    uas = sipp_uas()
    await asyncio.sleep(0.3)
    c = Call(w, "uas")
    await c.invite()
    seen, ok = await responses_until(w, final)
    codes = [m.get("status") for m in seen]
    result(codes and codes[0] == 100, "INVITE to IMS: 100 Trying from the eP-CSCF first", str(codes))
    result(180 in codes, "180 Ringing relayed to the browser", str(codes))
    result(ok is not None and ok.get("status") == 200 and "m=audio" in ok["body"],
           "200 OK with the far end's SDP relayed", str(codes))
    rr = " ".join(headers(ok, "record-route")) if ok else ""
    result(rr.count("lr") >= 3 and "transport=ws" in rr,
           "200 carries Kamailio's and the eP-CSCF's double Record-Route", rr)
    if ok:
        c.learn(ok)
        await w.send_raw(c.in_dialog("ACK", 1))
        await asyncio.sleep(0.3)
        await w.send_raw(c.in_dialog("BYE", 2))
        _, bye_ok = await responses_until(w, lambda m: "BYE" in (header(m, "cseq") or ""))
        result(bye_ok is not None and bye_ok.get("status") == 200,
               "browser's BYE reaches the far end end to end; its 200 comes back",
               str(bye_ok and bye_ok["start"]))
    rc = sipp_wait(uas)
    result(rc == 0, "far end saw INVITE, ACK and BYE (SIPp UAS)", "exit %s" % rc)

    # 2. The far end hangs up.
    uas = sipp_uas(uasbye=1)
    await asyncio.sleep(0.3)
    c = Call(w, "uas")
    await c.invite()
    _, ok = await responses_until(w, final)
    if ok and ok.get("status") == 200:
        c.learn(ok)
        await w.send_raw(c.in_dialog("ACK", 1))
        _, bye = await responses_until(w, lambda m: m.get("method") == "BYE")
        result(bye is not None, "far end's BYE reaches the browser", str(bye and bye["start"]))
        if bye:
            await w.answer(bye)
    else:
        result(False, "far end's BYE reaches the browser", "no 200 to the INVITE")
    rc = sipp_wait(uas)
    result(rc == 0, "far end's BYE answered 200 by the browser through the eP-CSCF", "exit %s" % rc)

    # 3. CANCEL before the answer.
    uas = sipp_uas(is487=1)
    await asyncio.sleep(0.3)
    c = Call(w, "uas")
    await c.invite()
    await responses_until(w, lambda m: m.get("status") == 180)
    await w.send_raw(c.cancel_text())
    seen, fin = await responses_until(w, final)
    cancel_ok = [m for m in seen if "CANCEL" in (header(m, "cseq") or "")]
    result(cancel_ok and cancel_ok[0].get("status") == 200, "CANCEL answered 200 hop by hop",
           str([m.get("status") for m in seen]))
    result(fin is not None and fin.get("status") == 487, "the INVITE ends with 487 from the far end",
           str(fin and fin["start"]))
    if fin:
        await w.send_raw(c.cancel_text("ACK", header(fin, "to")))
    rc = sipp_wait(uas)
    result(rc == 0, "far end got CANCEL and the ACK of its 487 (from the eP-CSCF)", "exit %s" % rc)

    # 4. Busy.
    uas = sipp_uas(is486=1)
    await asyncio.sleep(0.3)
    c = Call(w, "uas")
    await c.invite()
    _, fin = await responses_until(w, final)
    result(fin is not None and fin.get("status") == 486, "486 Busy Here relayed to the browser",
           str(fin and fin["start"]))
    if fin:
        await w.send_raw(c.cancel_text("ACK", header(fin, "to")))
    rc = sipp_wait(uas)
    result(rc == 0, "far end got the ACK of its 486 hop by hop", "exit %s" % rc)

    # 5. Terminating: a SIP phone calls the browser.
    scen = os.path.join(ROOT, "tests/sipp/invite_uac.xml")
    uac = subprocess.Popen(
        ["sipp", "127.0.0.1:%d" % KAM_PORT, "-sf", scen, "-s", "alice", "-m", "1", "-i", "127.0.0.1",
         "-p", str(free_port(socket.SOCK_DGRAM)), "-mp", str(free_port(socket.SOCK_DGRAM)),
         "-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err",
         "-error_file", os.path.join(lab.tmp, "uac_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp, start_new_session=True)
    _, inv = await responses_until(w, lambda m: m.get("method") == "INVITE")
    result(inv is not None and "m=audio" in inv["body"], "terminating INVITE with SDP reaches the browser",
           str(inv and inv["start"]))
    if inv:
        rr = headers(inv, "record-route")
        result(any("transport=ws" in r for r in rr), "terminating INVITE carries our Record-Route",
               " ".join(rr))
        tag = rand(6)
        base = [("via", v) for v in headers(inv, "via")] + [
            ("from", header(inv, "from")), ("to", header(inv, "to") + ";tag=" + tag),
            ("call-id", header(inv, "call-id")), ("cseq", header(inv, "cseq"))]
        for status, reason, body in ((180, "Ringing", ""), (200, "OK", SDP)):
            lines = ["SIP/2.0 %d %s" % (status, reason)] + ["%s: %s" % (n.title(), v) for n, v in base]
            lines += ["Record-Route: %s" % r for r in rr]
            lines += ["Contact: <sip:b@%s;transport=ws>" % w.host]
            if body:
                lines += ["Content-Type: application/sdp"]
            lines += ["Content-Length: %d" % len(body), "", body]
            await w.send_raw("\r\n".join(lines))
        _, ack = await responses_until(w, lambda m: m.get("method") == "ACK")
        result(ack is not None, "the caller's ACK reaches the browser", str(ack and ack["start"]))
        _, bye = await responses_until(w, lambda m: m.get("method") == "BYE")
        result(bye is not None, "the caller's BYE reaches the browser", str(bye and bye["start"]))
        if bye:
            await w.answer(bye)
    rc = sipp_wait(uac)
    result(rc == 0, "SIPp UAC completed its call to the browser", "exit %s" % rc)

    # 5b. The browser's WebSocket closes while it rings; the far end
    # answers anyway (the CANCEL crosses its 200): the eP-CSCF ACKs and
    # ends that dialog with BYE.
    w3 = Wic(WSS, ORIGIN, "carol", "carol-secret")
    await w3.connect()
    await w3.register()
    uas = sipp_uas(late200=1)
    await asyncio.sleep(0.3)
    c = Call(w3, "uas")
    await c.invite()
    await responses_until(w3, lambda m: m.get("status") == 180)
    await w3.close()
    rc = sipp_wait(uas)
    result(rc == 0, "a 2xx after the call ended (flow closed while ringing) gets ACK and BYE",
           "exit %s" % rc)

    # 6. The browser's WebSocket closes mid-call: the far end gets BYE.
    w2 = Wic(WSS, ORIGIN, "bob", "bob-secret")
    await w2.connect()
    await w2.register()
    uas = sipp_uas()
    await asyncio.sleep(0.3)
    c = Call(w2, "uas")
    await c.invite()
    _, ok = await responses_until(w2, final)
    if ok and ok.get("status") == 200:
        c.learn(ok)
        await w2.send_raw(c.in_dialog("ACK", 1))
        await asyncio.sleep(0.3)
    await w2.close()
    rc = sipp_wait(uas)
    result(rc == 0, "flow closed mid-call: the far end gets BYE from the eP-CSCF", "exit %s" % rc)
    await w.close()


async def no_agw():
    w = Wic(WSS, ORIGIN, "carol", "carol-secret")
    await w.connect()
    _, reg = await w.register()
    path = header(reg, "path") if reg else None
    with open(os.path.join(ROOT, "tests/golden/alg/captured/chromium-audio.sdp")) as f:
        sdp = f.read().replace("\r\n", "\n").replace("\n", "\r\n")
    c = Call(w, "uas")
    text = c.invite_text()
    text = text[:text.index("Content-Length:")] + "Content-Length: %d\r\n\r\n%s" % (len(sdp), sdp)
    await w.send_raw(text)
    _, fin = await responses_until(w, final)
    result(fin is not None and fin.get("status") == 503 and
           "no media gateway" in (header(fin, "warning") or ""),
           "media.anchor agw without a registered AGW: 503 with Warning 399",
           str(fin and (fin["start"], header(fin, "warning"))))
    # An offer with nothing the AGW can serve (a data channel only): the
    # IMS-ALG's 488 with its reason in Warning 399, no Iq+ asked.
    dc = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
          "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 "
          + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n")
    c = Call(w, "uas")
    await c.invite(dc)
    _, fin = await responses_until(w, final)
    result(fin is not None and fin.get("status") == 488 and (header(fin, "warning") or "").startswith("399"),
           "an offer the AGW cannot serve: 488 with the IMS-ALG's reason in Warning 399",
           str(fin and (fin["start"], header(fin, "warning"))))
    # A SIP phone offering only codecs no browser decodes (AMR-WB, AMR): the
    # caller gets 488 with the reason in Warning 399 (SIPp checks it).  Sent
    # as the S-CSCF would, straight to our IMS side along carol's Path
    # (through Kamailio it would also fork to carol's flows of the first
    # part, long gone with their eP-CSCF, and wait for Timer B).
    with open(os.path.join(ROOT, "tests/sipp/invite_uac_amr.xml")) as f:
        text = f.read().replace("Max-Forwards: 70\nContent-Type", "Max-Forwards: 70\nRoute: %s\nContent-Type" % path, 1)
    scen = os.path.join(lab.tmp, "invite_uac_amr.xml")
    with open(scen, "w") as f:
        f.write(text)
    r = await asyncio.get_running_loop().run_in_executor(None, lambda: subprocess.run(
        ["sipp", "127.0.0.1:%d" % EP_IMS, "-sf", scen, "-s", "carol", "-m", "1", "-i", "127.0.0.1",
         "-p", str(free_port(socket.SOCK_DGRAM)), "-mp", str(free_port(socket.SOCK_DGRAM)),
         "-timeout", "15s", "-timeout_error", "-nostdin", "-trace_err",
         "-error_file", os.path.join(lab.tmp, "uac_amr_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp).returncode)
    result(r == 0, "a caller offering only AMR-WB/AMR gets 488 with the reason in Warning 399",
           "sipp exit %s (uac_amr_err.log)" % r)
    await w.close()


def tls_setup():
    """Mutual TLS toward IMS: Kamailio trusts ep-cscf's generated
    certificate, ep-cscf pins Kamailio's, both made here (as epcscf_ims)."""
    state = os.path.join(lab.tmp, "state")
    subprocess.run([os.path.join(BIN, "ep-cscf"), "--check-config", "--state_dir=" + state],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    kcert, kkey = os.path.join(lab.tmp, "kam-cert.pem"), os.path.join(lab.tmp, "kam-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=scscf.ims.test", "-addext",
                    "subjectAltName=DNS:scscf.ims.test", "-keyout", kkey, "-out", kcert],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    tls = {"cert": kcert, "key": kkey, "trust": os.path.join(state, "tls", "cert.pem")}
    extra = ("ims.tls.listen = 127.0.0.1:%d\nims.tls.trusted_fingerprints = %s\n"
             "ims.tls.server_name = scscf.ims.test\n" % (free_port(), cert_fingerprint(kcert)))
    return tls, extra


def main():
    global KAM_PORT, WSS, EP_IMS
    extra = "ims.transport = %s\n" % TRANSPORT
    tls = None
    if TRANSPORT == "tls":
        tls, more = tls_setup()
        extra += more
    KAM_PORT = lab.kamailio(uas_port=UAS_PORT, tls=tls)
    result(KAM_PORT is not None, "kamailio (IMS core stand-in) starts")
    hop = lab.kam_tls_port if tls else KAM_PORT
    ports = lab.ep_cscf(BIN, hop, [ORIGIN], "media.anchor = none\n" + extra) if KAM_PORT else None
    result(ports is not None, "ep-cscf starts")
    if ports:
        WSS = "wss://127.0.0.1:%d" % ports["wss"]
        try:
            asyncio.get_event_loop().run_until_complete(scenario())
        except Exception as e:  # a hang or crash is a failure, not a traceback
            result(False, "scenario ran to the end", repr(e))
        log = lab.log("ep-cscf.log")
        result("call ended" in log, "calls are logged with their end", "")
        lab.stop_ep_cscf(tap)
        # With media anchoring and no eIMS-AGW registered: the IMS-ALG
        # turns a real Chromium offer into a RESERVE that no AGW can take.
        ports = lab.ep_cscf(BIN, hop, [ORIGIN], extra)
        if ports:
            WSS = "wss://127.0.0.1:%d" % ports["wss"]
            EP_IMS = ports["ims"]
            asyncio.get_event_loop().run_until_complete(no_agw())
            lab.stop_ep_cscf(tap)
    lab.close(tap)
    tap.done() if hasattr(tap, "done") else None
    sys.exit(1 if tap.failed else 0)


main()

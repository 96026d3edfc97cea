#!/usr/bin/python3
"""ep-cscf between a scripted WIC and Kamailio (IMS core stand-in): Origin
policy and subprotocol on the upgrade, REGISTER with digest passed through,
Path/Service-Route/P-Associated-URI, terminating MESSAGE from SIPp via the
flow token, refresh, un-registration, 430 after the WebSocket closed, bad
input over the WebSocket, and a clean stop.  Prints TAP lines.
usage: epcscf_ims.py BINDIR [udp|tcp]   (transport toward the IMS core)"""
import asyncio
import subprocess
import time
import os
import socket
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Lab, Tap, cert_fingerprint, free_port, metrics  # noqa: E402
from wic_client import Wic, header, headers  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
TRANSPORT = sys.argv[2] if len(sys.argv) > 2 else "udp"
ORIGIN_OK = "https://wic.test:8443"
tap = Tap()
result = tap.result
lab = Lab("epcscf_ims.")
TMP = lab.tmp
UAS_PORT = free_port(socket.SOCK_DGRAM)
KAM_PORT = IMS_PORT = WSS_PORT = WSS = None
UAS = None


def sipp_message(expected, user="alice"):
    return lab.sipp_message(KAM_PORT, expected, user)


async def scenario(metrics_port):
    # Upgrade policy.
    w = Wic(WSS, ORIGIN_OK, "alice", "alice-secret")
    proto = await w.connect()
    result(proto == "sip", "upgrade with a listed origin is accepted, subprotocol sip echoed",
           "got %r" % proto)
    try:
        await Wic(WSS, "https://evil.example", "x", "y").connect()
        result(False, "upgrade from an unlisted origin is refused with 403", "accepted")
    except websockets.InvalidStatusCode as e:
        result(e.status_code == 403, "upgrade from an unlisted origin is refused with 403",
               "status %d" % e.status_code)
    try:
        await Wic(WSS, ORIGIN_OK, "x", "y").connect(subprotocols=())
        result(False, "upgrade without subprotocol sip is refused with 400", "accepted")
    except websockets.InvalidStatusCode as e:
        result(e.status_code == 400, "upgrade without subprotocol sip is refused with 400",
               "status %d" % e.status_code)

    # Registration with digest passed through.
    first, final = await w.register()
    result(first is not None and first.get("status") == 401 and header(first, "www-authenticate"),
           "first REGISTER: Kamailio's 401 relayed with its challenge", str(first and first["start"]))
    result(final is not None and final.get("status") == 200, "REGISTER with digest: 200 OK",
           str(final and final["start"]))
    path = header(final, "path") or ""
    result(";ob" in path and ";lr" in path and "127.0.0.1:%d" % IMS_PORT in path and
           ((";transport=tcp" in path) == (TRANSPORT == "tcp")) and
           ((";transport=tls" in path) == (TRANSPORT == "tls")),
           "200 carries the Path the eP-CSCF added (flow token, lr, ob, transport)", "Path: %s" % path)
    result(header(final, "service-route") is not None and "sip:alice@ims.test" in (header(final, "p-associated-uri") or ""),
           "200 carries Service-Route and P-Associated-URI",
           "Service-Route: %s" % header(final, "service-route"),
           "P-Associated-URI: %s" % header(final, "p-associated-uri"))
    vias = headers(final, "via")
    result(len(vias) == 1 and vias[0].startswith("SIP/2.0/WSS"),
           "response reaches the browser with only its own Via", str(vias))

    # Wrong password: the second 401 reaches the browser.
    bad = Wic(WSS, ORIGIN_OK, "bob", "wrong")
    await bad.connect()
    _, final_bad = await bad.register()
    result(final_bad is not None and final_bad.get("status") == 401,
           "REGISTER with a wrong password ends in 401", str(final_bad and final_bad["start"]))
    await bad.close()

    # Terminating request through Path -> flow token -> WebSocket.
    loop = asyncio.get_running_loop()
    sipp = loop.run_in_executor(None, sipp_message, 200)
    req = await w.recv(10)
    got = req is not None and req.get("method") == "MESSAGE"
    result(got, "MESSAGE from a SIP user reaches the registered browser",
           str(req and req["start"]))
    if got:
        vias = headers(req, "via")
        result(vias and vias[0].startswith("SIP/2.0/WSS 127.0.0.1:%d" % WSS_PORT) and not header(req, "route"),
               "it arrives with our WSS Via on top and its Route consumed", str(vias))
        await w.answer(req)
    rc = await sipp
    result(rc == 0, "SIPp gets the browser's 200 OK", "sipp exit %d" % rc)

    # A dialog through the double Record-Route (RFC 5658): SUBSCRIBE to the
    # SIPp far end, in-dialog NOTIFY back, in-dialog un-SUBSCRIBE.
    await w.send_raw("SUBSCRIBE sip:uas@ims.test SIP/2.0\r\n"
                     "Via: SIP/2.0/WSS %s;branch=z9hG4bKsub1\r\nMax-Forwards: 70\r\n"
                     "From: <sip:alice@ims.test>;tag=subtag\r\nTo: <sip:uas@ims.test>\r\n"
                     "Call-ID: sub-%s\r\nCSeq: 1 SUBSCRIBE\r\nEvent: test\r\nExpires: 60\r\n"
                     "Contact: <sip:alice@%s;transport=ws;ob>\r\nContent-Length: 0\r\n\r\n"
                     % (w.host, w.call_id, w.host))
    # The 200 and the in-dialog NOTIFY race along different paths: take
    # both, in whichever order they come.
    got = [await w.recv(10), await w.recv(10)]
    ok200 = next((m for m in got if m is not None and m.get("status") == 200), None)
    notify = next((m for m in got if m is not None and m.get("method") == "NOTIFY"), None)
    rr = [v.strip() for h in headers(ok200 or {"headers": []}, "record-route") for v in h.split(",")]
    result(ok200 is not None and ok200.get("status") == 200 and len(rr) >= 3 and
           "127.0.0.1:%d" % IMS_PORT in rr[-2] and "127.0.0.1:%d;transport=ws" % WSS_PORT in rr[-1],
           "SUBSCRIBE: 200 with our double Record-Route (IMS side, then WebSocket side) below the S-CSCF's",
           str(ok200 and ok200["start"]), "Record-Route: %s" % rr)
    got = notify is not None
    result(got and not header(notify, "route") and headers(notify, "via")[0].startswith("SIP/2.0/WSS"),
           "in-dialog NOTIFY from the far end reaches the browser through both Routes",
           str(notify and notify["start"]), "Route: %s" % (notify and header(notify, "route")))
    if got:
        await w.answer(notify)
        # Kamailio's two UDP workers may reorder two packets that arrive
        # together; SIPp's script wants the NOTIFY's 200 before the
        # un-SUBSCRIBE, as a real far end would see them.
        await asyncio.sleep(0.3)
    if ok200 is not None and len(rr) >= 3:
        contact = header(ok200, "contact").strip("<>")
        await w.send_raw("SUBSCRIBE %s SIP/2.0\r\n"
                         "Via: SIP/2.0/WSS %s;branch=z9hG4bKsub2\r\nMax-Forwards: 70\r\n"
                         "Route: %s\r\n"
                         "From: <sip:alice@ims.test>;tag=subtag\r\nTo: %s\r\n"
                         "Call-ID: sub-%s\r\nCSeq: 2 SUBSCRIBE\r\nEvent: test\r\nExpires: 0\r\n"
                         "Contact: <sip:alice@%s;transport=ws;ob>\r\nContent-Length: 0\r\n\r\n"
                         % (contact, w.host, ", ".join(reversed(rr)), header(ok200, "to"), w.call_id, w.host))
        unsub = await w.recv(10)
        result(unsub is not None and unsub.get("status") == 200,
               "in-dialog un-SUBSCRIBE along the route set: 200 OK", str(unsub and unsub["start"]))
    rc = await asyncio.get_running_loop().run_in_executor(None, UAS.wait, 15)
    result(rc == 0, "the SIPp far end completed its dialog scenario", "sipp exit %s" % rc)

    # Refresh, then un-register.
    _, final = await w.register()
    result(final is not None and final.get("status") == 200, "re-registration: 200 OK",
           str(final and final["start"]))
    m = metrics(metrics_port)
    result("epcscf_registrations 1" in m, "metrics: one registration", [l for l in m.splitlines() if "registrations" in l])
    _, final = await w.register(expires=0)
    result(final is not None and final.get("status") == 200, "un-registration (Expires 0): 200 OK",
           str(final and final["start"]))
    m = metrics(metrics_port)
    result("epcscf_registrations 0" in m, "metrics: registration released",
           [l for l in m.splitlines() if "registrations" in l])

    # Bad input on the WebSocket: answered or dropped, flow unharmed.
    await w.send_raw("OPTIONS sip:ims.test SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\n"
                     "From: <sip:alice@ims.test>;tag=1\r\nTo: <sip:ims.test>\r\nCall-ID: bad1\r\n"
                     "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    r = await w.recv()
    result(r is not None and r.get("status") == 400 and "CSeq" in r["start"],
           "CSeq method mismatch gets 400 with a reason", str(r and r["start"]))
    await w.send_raw("this is not SIP\r\n\r\n")
    await w.send_raw("\r\n\r\n")
    r = await w.recv()
    result(r is not None and r["start"] == "", "garbage is dropped; a CRLF ping still gets its pong",
           str(r and r["start"]))

    # Flow closed: terminating requests get 430 (RFC 5626 5.3).
    w2 = Wic(WSS, ORIGIN_OK, "carol", "carol-secret")
    await w2.connect()
    _, final = await w2.register()
    result(final is not None and final.get("status") == 200, "carol registers", str(final and final["start"]))
    await w2.close()
    await asyncio.sleep(0.3)
    rc = await loop.run_in_executor(None, sipp_message, 430, "carol")
    result(rc == 0, "after the WebSocket closed, a MESSAGE to it gets 430 Flow Failed",
           "sipp exit %d (see sipp_err.log)" % rc)

    # Size limit: close 1009.
    await w.send_raw("x" * 70000)
    try:
        await asyncio.wait_for(w.ws.wait_closed(), 5)
        result(w.ws.close_code == 1009, "an oversized message closes the flow with 1009",
               "code %s" % w.ws.close_code)
    except asyncio.TimeoutError:
        result(False, "an oversized message closes the flow with 1009", "still open")
    # Rate limit: a burst beyond ws.message_burst closes with 1008.
    flood = Wic(WSS, ORIGIN_OK, "x", "y")
    await flood.connect()
    opts = ("OPTIONS sip:ims.test SIP/2.0\r\nVia: SIP/2.0/WSS f.invalid;branch=z9hG4bK%d\r\n"
            "From: <sip:x@ims.test>;tag=1\r\nTo: <sip:ims.test>\r\nCall-ID: flood\r\n"
            "CSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n")
    try:
        for i in range(200):
            await flood.send_raw(opts % (i, i + 1))
        await asyncio.wait_for(flood.ws.wait_closed(), 5)
    except (websockets.ConnectionClosed, asyncio.TimeoutError):
        pass
    result(flood.ws.close_code == 1008, "a message flood closes the flow with 1008",
           "code %s" % flood.ws.close_code)

    m = metrics(metrics_port)
    result('epcscf_sip_requests_from_ws_total{method="REGISTER"}' in m and
           'epcscf_ws_refused_total{reason="origin"} 1' in m,
           "metrics count SIP requests and refusals by reason")


def tls_checks(kcert):
    """TLS mode: both directions authenticated; a stranger is refused."""
    import re
    import ssl
    log = lab.log("ep-cscf.log")
    fp = cert_fingerprint(kcert)
    est = re.findall(r'msg="tls toward IMS established".*?version=(\S+).*?fingerprint=(\S+)', log)
    result(len(est) >= 2 and all(f == fp for _, f in est),
           "TLS both ways (ep-cscf to Kamailio, Kamailio to ep-cscf), Kamailio's pinned certificate",
           str(est))
    # A peer whose certificate is not pinned: the handshake ends in an alert.
    key, cert = os.path.join(TMP, "stranger-key.pem"), os.path.join(TMP, "stranger.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=stranger", "-keyout", key, "-out", cert],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert, key)
    refused = False
    try:
        with socket.create_connection(("127.0.0.1", IMS_PORT), timeout=5) as raw:
            with ctx.wrap_socket(raw) as t:
                t.sendall(b"OPTIONS sip:x@ims.test SIP/2.0\r\nContent-Length: 0\r\n\r\n")
                refused = t.recv(100) == b""
    except (ssl.SSLError, ConnectionError, socket.timeout):
        refused = True
    time.sleep(0.3)
    result(refused and "certificate not trusted" in lab.log("ep-cscf.log"),
           "a TLS peer with an unpinned certificate is refused, with the reason logged",
           [l for l in lab.log("ep-cscf.log").splitlines() if "tls toward IMS failed" in l][-1:])


def main():
    global KAM_PORT, IMS_PORT, WSS_PORT, WSS, UAS
    extra = "ims.transport = %s\n" % TRANSPORT
    tls = None
    if TRANSPORT == "tls":
        # Mutual TLS: Kamailio trusts ep-cscf's generated certificate, ep-cscf
        # pins Kamailio's, both made here.
        state = os.path.join(TMP, "state")
        subprocess.run([os.path.join(BIN, "ep-cscf"), "--check-config", "--state_dir=" + state],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        kcert, kkey = os.path.join(TMP, "kam-cert.pem"), os.path.join(TMP, "kam-key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=scscf.ims.test", "-addext",
                        "subjectAltName=DNS:scscf.ims.test", "-keyout", kkey, "-out", kcert],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        tls = {"cert": kcert, "key": kkey, "trust": os.path.join(state, "tls", "cert.pem")}
        TLS_PORT = free_port()
        extra += ("ims.tls.listen = 127.0.0.1:%d\nims.tls.trusted_fingerprints = %s\n"
                  "ims.tls.server_name = scscf.ims.test\n" % (TLS_PORT, cert_fingerprint(kcert)))
    KAM_PORT = lab.kamailio(UAS_PORT, tls=tls)
    if not result(KAM_PORT is not None, "Kamailio started", lab.log("kamailio.log")[-1500:]):
        return
    ports = lab.ep_cscf(BIN, lab.kam_tls_port if tls else KAM_PORT, [ORIGIN_OK], extra)
    if not result(ports is not None, "ep-cscf started", lab.log("ep-cscf.log")[-1500:]):
        return
    IMS_PORT, WSS_PORT = (TLS_PORT if tls else ports["ims"]), ports["wss"]
    UAS = lab.start(["sipp", "-sf", os.path.join(ROOT, "tests/sipp/subscribe_uas.xml"), "-i", "127.0.0.1",
                     "-p", str(UAS_PORT), "-m", "1", "-timeout", "60s", "-timeout_error", "-nostdin",
                     "-trace_err", "-error_file", os.path.join(TMP, "uas_err.log")], "sipp_uas.log", cwd=TMP)
    WSS = "wss://127.0.0.1:%d" % WSS_PORT
    try:
        asyncio.run(asyncio.wait_for(scenario(ports["metrics"]), 90))
    except Exception as e:  # a crash of the scenario is a failure, with its reason
        result(False, "scenario ran to the end", repr(e))
    if tls:
        tls_checks(tls["cert"])
    lab.stop_ep_cscf(tap)


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

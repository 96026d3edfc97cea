#!/usr/bin/python3
"""The Iq+ link between ep-cscf (controller) and eims-agw (AGW), both
daemons on free ports, TLS with certificate fingerprints pinned both ways
(proto/SPEC.md 2, 6.9, 7.2, 7.5, 7.9, 7.10): registration seen in logs and
metrics on both sides, heartbeats keeping the link up past T_INACT, an
untrusted certificate and a NODE_ID that is not the certificate's refused,
T_INACT ending a silent link, kill -9 detected as link loss, a restarted
AGW detected by its new epoch, plain TCP only when both ends say so, and a
clean SIGTERM exit.  Prints TAP lines.  usage: iq_link.py BINDIR"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lab, Tap, cert_fingerprint, free_port, metric_value  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
HB = 1000          # iq.hb_interval proposed by the AGWs (ms)
T_INACT = 3 * HB   # 7.5 item 2
tap = Tap()
result = tap.result
lab = Lab("iq_link.")
TMP = lab.tmp


def logpath(name):
    return os.path.join(TMP, name)


def wait_re(log, pattern, secs=10, start=0):
    """First match of pattern in log after offset start, waiting up to secs."""
    end = time.time() + secs
    rx = re.compile(pattern)
    while True:
        m = rx.search(lab.log(log), start)
        if m or time.time() > end:
            return m
        time.sleep(0.05)


def wait_metric(port, series, want, secs=10):
    end = time.time() + secs
    while True:
        v = metric_value(port, series)
        if v == want or time.time() > end:
            return v
        time.sleep(0.1)


def prepare(prog, state, *args):
    """Runs --check-config once so that the Iq+ certificate exists."""
    subprocess.run([os.path.join(BIN, prog), "--check-config", "--state_dir=" + state] + list(args),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return cert_fingerprint(os.path.join(state, "iq", "tls", "cert.pem"))


def ep_args(name, iq_port, extra):
    return ["--state_dir=%s/%s" % (TMP, name), "--metrics.listen=127.0.0.1:%d" % EP_METRICS[name],
            "--sip.wss.listen=127.0.0.1:%d" % free_port(), "--ims.listen=127.0.0.1:%d" % free_port(),
            "--iq.listen=127.0.0.1:%d" % iq_port, "--log.level=info,iq=debug"] + extra


def agw_args(state, node, port, metrics_port, extra):
    return ["--state_dir=%s/%s" % (TMP, state), "--node_id=" + node,
            "--metrics.listen=127.0.0.1:%d" % metrics_port,
            "--iq.controllers=127.0.0.1:%d" % port, "--iq.hb_interval=%d" % HB,
            "--log.level=info,iq=debug"] + extra


EP_METRICS = {"ep": free_port(), "ep-tcp": free_port()}
IQ_PORT = free_port()
procs = {}


# proto/SPEC.md Appendix A.1: REGISTER of agw-1 (HB_INTERVAL 5 s).
A1_REGISTER = (
    "495101010000000100000001000000d88040000000056167772d3180410000000800"
    "00019b76daa8008042000000020100804300000001038044000000020385c0490000"
    "001e804a0000000400001388804b0000000400040000804c0000000400000100c080"
    "0000000a808100000004000007d0c08b0000001a808c000000027733808d00000001"
    "01808e0000000504cb00710ac08b0000001c808c00000004636f7265808d00000001"
    "02808e00000005040a00000ac0920000002c00930000000101009400000001010095"
    "00000001010095000000010280960000000200018096000000020007")


def header(kind, code, txid, body=b""):
    return struct.pack(">2sBBHHII", b"IQ", 1, kind, 0, code, txid, len(body)) + body


def read_frame(sock, secs):
    """(kind, code, txid, first ERROR_CODE or None) of the next frame, None at EOF."""
    sock.settimeout(secs)
    data = b""
    try:
        while len(data) < 16:
            chunk = sock.recv(16 - len(data))
            if not chunk:
                return None
            data += chunk
        _, _, kind, _, code, txid, blen = struct.unpack(">2sBBHHII", data)
        body = b""
        while len(body) < blen:
            chunk = sock.recv(blen - len(body))
            if not chunk:
                return None
            body += chunk
    except (socket.timeout, ConnectionResetError):
        return None
    err = None
    # ERROR (0xc001) { ERROR_CODE (0x8002) u16 ... } first when present.
    if body[:2] == b"\xc0\x01" and body[6:8] == b"\x80\x02":
        err = struct.unpack(">H", body[12:14])[0]
    return kind, code, txid, err


def raw_frames(port):
    """Bad input on a plain-TCP controller, several connections at once."""
    conns = {k: socket.create_connection(("127.0.0.1", port)) for k in
             ("magic", "early", "partial", "silent")}
    t0 = time.time()
    conns["magic"].sendall(b"GET / HTTP/1.1\r\n\r\n")
    conns["early"].sendall(header(1, 2, 1))        # HEARTBEAT before REGISTER
    # Registered first (A.1 over plain TCP), so that only T_FRAME runs.
    conns["partial"].sendall(bytes.fromhex(A1_REGISTER) + header(1, 2, 2, b"\x80\x40")[:10])
    r = read_frame(conns["magic"], 5)
    result(r is not None and r[0] == 6 and r[3] == 1100, "3.5: bad magic gets CLOSE 1100", str(r))
    r = read_frame(conns["early"], 5)
    result(r is not None and r[0] == 2 and r[1] == 2 and r[2] == 1 and r[3] == 505,
           "6.9: HEARTBEAT before REGISTER gets error REPLY 505", str(r))
    r = read_frame(conns["partial"], 5)
    result(r is not None and r[:3] == (2, 1, 1) and r[3] is None,
           "the SPEC's A.1 REGISTER registers over plain TCP", str(r))
    while r is not None and r[0] != 6:      # skip the controller's HEARTBEATs
        r = read_frame(conns["partial"], 15)
    took = time.time() - t0
    result(r is not None and r[0] == 6 and r[3] == 1103 and 9 < took < 13,
           "3.6: an incomplete frame gets CLOSE 1103 after T_FRAME (10 s)", "%s after %.1f s" % (r, took))
    r = read_frame(conns["silent"], 5)
    took = time.time() - t0
    result(r is not None and r[0] == 6 and r[3] == 1105 and 9 < took < 13,
           "6.9: no REGISTER gets CLOSE 1105 after T_REG_WAIT (10 s)", "%s after %.1f s" % (r, took))
    for c in conns.values():
        c.close()


def main():
    ep_fp = prepare("ep-cscf", TMP + "/ep")
    agw_fp = prepare("eims-agw", TMP + "/agw1", "--node_id=agw-1")
    m_agw = free_port()

    # --- Registration over mutual TLS with pinned fingerprints (2.2, 7.2).
    ep = lab.daemon(BIN, "ep-cscf", "ep.log",
                    ep_args("ep", IQ_PORT, ["--iq.trusted_fingerprints=" + agw_fp]))
    result(ep is not None, "ep-cscf starts with an Iq+ TLS listener")
    if not ep:
        return
    procs["ep"] = (ep, "ep-cscf", "ep.log")
    result(wait_re("ep.log", r'msg=listening service=iq addr=127\.0\.0\.1:%d security=tls node_id=ep-cscf'
                   % IQ_PORT, 1) is not None, "ep-cscf logs its Iq+ listener, security and node id")
    agw = lab.daemon(BIN, "eims-agw", "agw1.log",
                     agw_args("agw1", "agw-1", IQ_PORT, m_agw, ["--iq.trusted_fingerprints=" + ep_fp]))
    result(agw is not None, "eims-agw starts")
    if not agw:
        return
    procs["agw"] = (agw, "eims-agw", "agw1.log")
    reg = wait_re("ep.log", r'msg="iq agw registered" node_id=agw-1 addr=127\.0\.0\.1:\d+ epoch=(\d+) '
                  r'method=restart reason=901 version=1 minor=0 hb_interval_ms=%d realms=2 '
                  r'max_contexts=1000 security=tls' % HB)
    result(reg is not None, "ep-cscf: AGW registered (node id, epoch, cold start 901, 1.0, "
           "HB_INTERVAL, realms, capacity, TLS)", lab.log("ep.log")[-1500:])
    epoch1 = reg.group(1) if reg else None
    result(wait_re("agw1.log", r'msg="iq registered" node_id=agw-1 controller=ep-cscf addr=127\.0\.0\.1:%d '
                   r'epoch=%s controller_epoch=\d+ version=1 minor=0 hb_interval_ms=%d security=tls'
                   % (IQ_PORT, epoch1, HB)) is not None,
           "eims-agw: registered with controller ep-cscf (same epoch, negotiated HB_INTERVAL)",
           lab.log("agw1.log")[-1500:])
    result(wait_metric(EP_METRICS["ep"], 'epcscf_iq_agws{state="in_service"}', 1) == 1,
           "ep-cscf metric: one AGW in service")
    result(metric_value(EP_METRICS["ep"], 'epcscf_iq_link_events_total{event="registered"}') == 1,
           "ep-cscf metric: one registration")
    result(wait_metric(m_agw, 'eimsagw_iq_link_state{state="in_service"}', 1) == 1 and
           metric_value(m_agw, 'eimsagw_iq_link_state{state="connecting"}') == 0,
           "eims-agw metric: link state in_service")

    # --- Heartbeats both ways keep the link past T_INACT (7.5).
    # An end sends HEARTBEAT when it has sent nothing for HB_INTERVAL, so
    # answering the peer's counts: about one per interval in all.
    mark_ep, mark_agw = len(lab.log("ep.log")), len(lab.log("agw1.log"))
    time.sleep(T_INACT / 1000 * 1.7)
    ep_new, agw_new = lab.log("ep.log")[mark_ep:], lab.log("agw1.log")[mark_agw:]
    to_ep = len(re.findall(r'msg="iq heartbeat" node_id=agw-1 active_contexts=0 cpu_load=\d+', ep_new))
    to_agw = len(re.findall(r'msg="iq heartbeat" addr=127\.0\.0\.1:%d' % IQ_PORT, agw_new))
    result(to_ep + to_agw >= 4, "heartbeats flow every HB_INTERVAL (AGW ones with LOAD)",
           "%d to the controller, %d to the AGW in %.1f s" % (to_ep, to_agw, T_INACT / 1000 * 1.7))
    result("link lost" not in ep_new and "link lost" not in agw_new,
           "T_INACT does not fire while heartbeats flow (%.1f s > 3 x HB_INTERVAL)" % (T_INACT / 1000 * 1.7),
           ep_new[-800:], agw_new[-800:])
    result(metric_value(m_agw, 'eimsagw_iq_link_state{state="in_service"}') == 1,
           "eims-agw still in service after several T_INACT periods")

    # --- An AGW whose certificate is not pinned is refused by TLS (2.2).
    prepare("eims-agw", TMP + "/agwx", "--node_id=agw-x")
    mark = len(lab.log("ep.log"))
    bad = lab.daemon(BIN, "eims-agw", "agwx.log",
                     agw_args("agwx", "agw-x", IQ_PORT, free_port(), ["--iq.trusted_fingerprints=" + ep_fp]))
    fpx = cert_fingerprint(TMP + "/agwx/iq/tls/cert.pem")
    m = wait_re("ep.log", r'msg="iq agw refused" node_id=- addr=127\.0\.0\.1:\d+ '
                r'reason="certificate not trusted: fingerprint not pinned" fingerprint=%s' % fpx,
                start=mark)
    result(bad is not None and m is not None,
           "untrusted AGW certificate refused, with the reason and its fingerprint in the log",
           lab.log("ep.log")[mark:][-1000:])
    result(wait_re("agwx.log", r'msg="iq tls failure" addr=127\.0\.0\.1:%d reason=".*alert' % IQ_PORT) is not None,
           "the untrusted AGW logs the TLS alert", lab.log("agwx.log")[-800:])
    result(wait_re("agwx.log", r'msg="iq connection failed" .*retry_ms=\d+', 5) is not None and
           "iq registered" not in lab.log("agwx.log"),
           "the untrusted AGW never registers and backs off (2.5)")
    if bad:
        lab.stop_daemon(tap, bad, "untrusted eims-agw", "agwx.log")

    # --- A pinned certificate that does not carry the NODE_ID: 504 (7.2.3).
    mark = len(lab.log("ep.log"))
    imp = lab.daemon(BIN, "eims-agw", "agwi.log",
                     agw_args("agwi", "impostor", IQ_PORT, free_port(),
                              ["--iq.trusted_fingerprints=" + ep_fp,
                               "--iq.cert=%s/agw1/iq/tls/cert.pem" % TMP,
                               "--iq.key=%s/agw1/iq/tls/key.pem" % TMP]))
    m = wait_re("ep.log", r'msg="iq agw refused" node_id=impostor addr=127\.0\.0\.1:\d+ code=504 '
                r'reason="NODE_ID is not a name of the client certificate"', start=mark)
    result(imp is not None and m is not None, "REGISTER with a NODE_ID not in the certificate: 504",
           lab.log("ep.log")[mark:][-1000:])
    result(wait_re("agwi.log", r'msg="iq registration refused" addr=127\.0\.0\.1:%d code=504' % IQ_PORT, 5)
           is not None, "the AGW logs the 504 refusal", lab.log("agwi.log")[-800:])
    result('msg="iq certificate without node_id" node_id=impostor' in lab.log("agwi.log"),
           "the AGW warned at start that its certificate lacks its node id")
    if imp:
        lab.stop_daemon(tap, imp, "impostor eims-agw", "agwi.log")
    refused = metric_value(EP_METRICS["ep"], 'epcscf_iq_link_events_total{event="refused"}')
    result(refused is not None and refused >= 2, "ep-cscf metric: refusals counted", "refused=%s" % refused)
    result(metric_value(EP_METRICS["ep"], 'epcscf_iq_agws{state="in_service"}') == 1,
           "the registered AGW is unaffected by the refused ones")

    # --- A silent AGW (SIGSTOP): T_INACT closes the link with 1104 (7.5).
    mark = len(lab.log("ep.log"))
    t0 = time.time()
    os.kill(agw.pid, signal.SIGSTOP)
    m = wait_re("ep.log", r'msg="iq agw link lost" node_id=agw-1 addr=\S+ code=1104 by=us '
                r'reason="inactivity timeout \(T_INACT\)"', secs=T_INACT / 1000 + 3, start=mark)
    took = time.time() - t0
    result(m is not None and took < T_INACT / 1000 + 1.5,
           "silent AGW: controller closes with 1104 after T_INACT", "after %.1f s" % took,
           lab.log("ep.log")[mark:][-800:])
    result(metric_value(EP_METRICS["ep"], 'epcscf_iq_agws{state="lost"}') == 1,
           "ep-cscf metric: the AGW is lost")
    mark_agw = len(lab.log("agw1.log"))
    os.kill(agw.pid, signal.SIGCONT)
    result(wait_re("agw1.log", r'msg="iq link lost" controller=ep-cscf .*retry_ms=\d+', 5, mark_agw) is not None,
           "the AGW, resumed, sees the link lost and backs off", lab.log("agw1.log")[mark_agw:][-800:])
    m = wait_re("ep.log", r'msg="iq agw registered" node_id=agw-1 addr=\S+ epoch=%s method=disconnected '
                r'reason=900' % epoch1, 10, mark)
    result(m is not None, "the AGW reconnects and re-registers DISCONNECTED/900 with the same epoch",
           lab.log("ep.log")[mark:][-1000:])
    result("restart detected" not in lab.log("ep.log")[mark:], "same epoch: no restart reported")
    # 7.11 item 3: contexts retained, so reconciled: one AUDIT CONTEXT_LIST
    # page, answered by the AGW (it holds none, the controller none).
    result(wait_re("ep.log", r'msg="iq reconcile done" node_id=agw-1 pages=1 listed=0 held=0 '
                   r'released=0 failed=0 lost=0', 5, mark) is not None,
           "same epoch: the controller reconciles the AGW's contexts (AUDIT CONTEXT_LIST)",
           lab.log("ep.log")[mark:][-800:])

    # --- kill -9: link loss detected within T_INACT (7.10).
    mark = len(lab.log("ep.log"))
    t0 = time.time()
    agw.send_signal(signal.SIGKILL)
    agw.wait(5)
    m = wait_re("ep.log", r'msg="iq agw link lost" node_id=agw-1 addr=\S+ code=0 by=connection ',
                T_INACT / 1000 + 2, mark)
    took = time.time() - t0
    result(m is not None and took <= T_INACT / 1000, "kill -9 of the AGW: link loss detected within T_INACT",
           "after %.1f s" % took, lab.log("ep.log")[mark:][-800:])
    result(wait_metric(EP_METRICS["ep"], 'epcscf_iq_agws{state="lost"}', 1, 3) == 1 and
           metric_value(EP_METRICS["ep"], 'epcscf_iq_agws{state="in_service"}') == 0,
           "ep-cscf metric: lost 1, in service 0")
    lost = metric_value(EP_METRICS["ep"], 'epcscf_iq_link_events_total{event="lost"}')
    result(lost == 2, "ep-cscf metric: two link losses counted", "lost=%s" % lost)

    # --- Restart: a new epoch is a restart (7.9).
    agw = lab.daemon(BIN, "eims-agw", "agw1b.log",
                     agw_args("agw1", "agw-1", IQ_PORT, m_agw, ["--iq.trusted_fingerprints=" + ep_fp]))
    procs["agw"] = (agw, "restarted eims-agw", "agw1b.log")
    m = wait_re("ep.log", r'msg="iq agw restart detected" node_id=agw-1 addr=\S+ old_epoch=%s epoch=(\d+)'
                % epoch1, 10, mark)
    result(agw is not None and m is not None and m.group(1) != epoch1,
           "restarted AGW registers with a new epoch; the controller reports the restart",
           lab.log("ep.log")[mark:][-1000:])
    result(wait_re("ep.log", r'msg="iq agw registered" node_id=agw-1 addr=\S+ epoch=\d+ method=restart '
                   r'reason=901', 1, mark) is not None, "the restart registers RESTART/901")
    result(metric_value(EP_METRICS["ep"], 'epcscf_iq_link_events_total{event="restart_detected"}') == 1 and
           wait_metric(EP_METRICS["ep"], 'epcscf_iq_agws{state="in_service"}', 1) == 1,
           "ep-cscf metrics: restart_detected 1, AGW in service again")

    # --- The same NODE_ID on a newer connection supersedes (7.1.2, 1106).
    mark, mark_agw = len(lab.log("ep.log")), len(lab.log("agw1b.log"))
    dup = lab.daemon(BIN, "eims-agw", "agwdup.log",
                     agw_args("agwdup", "agw-1", IQ_PORT, free_port(),
                              ["--iq.trusted_fingerprints=" + ep_fp,
                               "--iq.cert=%s/agw1/iq/tls/cert.pem" % TMP,
                               "--iq.key=%s/agw1/iq/tls/key.pem" % TMP]))
    m = wait_re("ep.log", r'msg="iq agw superseded" node_id=agw-1 old_addr=\S+ addr=\S+', 10, mark)
    result(dup is not None and m is not None,
           "a second connection with the same NODE_ID supersedes the first", lab.log("ep.log")[mark:][-800:])
    result(wait_re("agw1b.log", r'msg="iq link lost" controller=ep-cscf addr=\S+ code=1106 by=peer', 5,
                   mark_agw) is not None, "the superseded AGW gets CLOSE 1106",
           lab.log("agw1b.log")[mark_agw:][-800:])
    if dup:
        lab.stop_daemon(tap, dup, "duplicate eims-agw", "agwdup.log")
    mark = len(lab.log("ep.log"))
    result(wait_re("ep.log", r'msg="iq agw registered" node_id=agw-1 ', 10, mark) is not None and
           wait_metric(EP_METRICS["ep"], 'epcscf_iq_agws{state="in_service"}', 1) == 1,
           "the first AGW registers again after the duplicate left")

    # --- Plain TCP only when both ends are configured for it (2.3).
    tcp_port = free_port()
    ep2 = lab.daemon(BIN, "ep-cscf", "ep-tcp.log", ep_args("ep-tcp", tcp_port, ["--iq.security=tcp"]))
    result(ep2 is not None and wait_re("ep-tcp.log", r'msg=listening service=iq addr=\S+ security=tcp', 1)
           is not None, "ep-cscf with iq.security=tcp listens")
    if not ep2:
        return
    procs["ep2"] = (ep2, "ep-cscf (tcp)", "ep-tcp.log")
    a_tls = lab.daemon(BIN, "eims-agw", "agw-tls2tcp.log",
                       agw_args("agw1", "agw-1", tcp_port, free_port(), ["--iq.trusted_fingerprints=" + ep_fp]))
    ok = wait_re("agw-tls2tcp.log", r'msg="iq (tls failure|connection failed)"', 5) is not None
    time.sleep(1)
    result(a_tls is not None and ok and "iq registered" not in lab.log("agw-tls2tcp.log") and
           "iq agw registered" not in lab.log("ep-tcp.log"),
           "TLS AGW toward a plain-TCP controller: no link", lab.log("agw-tls2tcp.log")[-600:])
    if a_tls:
        lab.stop_daemon(tap, a_tls, "eims-agw (tls toward tcp)", "agw-tls2tcp.log")
    mark = len(lab.log("ep.log"))
    a_tcp = lab.daemon(BIN, "eims-agw", "agw-tcp2tls.log",
                       agw_args("agw-tcp", "agw-tcp", IQ_PORT, free_port(), ["--iq.security=tcp"]))
    ok = wait_re("agw-tcp2tls.log", r'msg="iq connection failed"', 5) is not None
    time.sleep(1)
    result(a_tcp is not None and ok and "iq registered" not in lab.log("agw-tcp2tls.log") and
           "node_id=agw-tcp" not in lab.log("ep.log")[mark:],
           "plain-TCP AGW toward a TLS controller: no link", lab.log("agw-tcp2tls.log")[-600:])
    if a_tcp:
        lab.stop_daemon(tap, a_tcp, "eims-agw (tcp toward tls)", "agw-tcp2tls.log")
    a_plain = lab.daemon(BIN, "eims-agw", "agw-plain.log",
                         agw_args("agw-tcp", "agw-tcp", tcp_port, free_port(), ["--iq.security=tcp"]))
    m = wait_re("ep-tcp.log", r'msg="iq agw registered" node_id=agw-tcp .* security=tcp', 10)
    result(a_plain is not None and m is not None and
           wait_re("agw-plain.log", r'msg="iq registered" node_id=agw-tcp .* security=tcp', 5) is not None,
           "both ends on plain TCP: the AGW registers", lab.log("ep-tcp.log")[-800:])
    if a_plain:
        lab.stop_daemon(tap, a_plain, "eims-agw (plain tcp)", "agw-plain.log")
    raw_frames(tcp_port)
    lab.stop_daemon(tap, ep2, "ep-cscf (tcp)", "ep-tcp.log")
    del procs["ep2"]

    # --- Clean stop of both: the AGW closes with 1000 first.
    mark = len(lab.log("ep.log"))
    agw, name, log = procs.pop("agw")
    lab.stop_daemon(tap, agw, name, log)
    result(wait_re("ep.log", r'msg="iq agw link lost" node_id=agw-1 addr=\S+ code=1000 by=peer '
                   r'reason=shutdown', 3, mark) is not None,
           "the controller sees the AGW's CLOSE 1000 on its shutdown")
    ep, name, log = procs.pop("ep")
    lab.stop_daemon(tap, ep, name, log)


try:
    main()
finally:
    for proc, name, log in procs.values():
        if proc.poll() is None:
            lab.stop_daemon(tap, proc, name, log)
    if tap.n == 0:
        result(False, "iq_link ran")
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

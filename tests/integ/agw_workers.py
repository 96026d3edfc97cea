#!/usr/bin/python3
"""eims-agw with workers = 2 (docs/operations.md "Workers"): the supervisor
starts two pinned worker processes, each registering over Iq+ with its own
NODE_ID (<node_id>-w0, -w1) and its own slice of the media ports.  Two
iqp-ctl controllers (each serves one AGW; the second worker, refused by
the first, moves on to the next controller of iq.controllers) see the two
registrations; RTP goes through an IMS-IMS context on each worker, on ports
of its slice; aiortc's DTLS-SRTP call reaches the echo and back through each worker
(AGW client on one, server and BUNDLE on the other); SIGUSR1/SIGUSR2 reach both workers; a worker killed with
SIGKILL is started again and registers again; SIGTERM stops all, exit 0,
no sanitizer report.  Prints TAP lines.  usage: agw_workers.py BINDIR"""
import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lab, Tap, cert_fingerprint, free_port, metric_value  # noqa: E402
from iqp_ctl_proc import Ctl, find, find_all  # noqa: E402
from aiortc_leg import Env, session  # noqa: E402
from aioice.ice import get_host_addresses  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
CHOOSE = 4294967294
NODE = "agw-wk"
tap = Tap()
lab = Lab("agw_workers.")


def wait_for(fn, secs=10, step=0.1):
    end = time.time() + secs
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(step)


def log_matches(pattern):
    return re.findall(pattern, lab.log("agw.log"))


def shares():
    """node_id -> (port_min, port_max), from the workers' "worker share" lines."""
    return {m[0]: (int(m[1]), int(m[2])) for m in
            log_matches(r'msg="worker share" node_id=(\S+) port_min=(\d+) port_max=(\d+)')}


def worker_pids():
    """worker -> pid of its last start."""
    return {int(m[0]): int(m[1]) for m in log_matches(r'msg="worker started" worker=(\d+) pid=(\d+)')}


def relay(ctl, tag, slice_):
    """An IMS-IMS context on the worker behind ctl: b -> AGW -> a and back
    (LATCH), with the local ports inside the worker's slice."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.bind(("127.0.0.1", 0))
        s.settimeout(2)
    pcmu = [{"CODEC": [{"PAYLOAD_TYPE": 0}, {"CODEC_NAME": "PCMU"}, {"CLOCK_RATE": 8000}]}]

    def term(extra):
        return {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "IMS"}, {"REALM_NAME": "ims"},
                                {"STREAM": [{"STREAM_ID": 1}, {"MEDIA_TYPE": "AUDIO"},
                                            {"TRANSPORT_PROTO": "RTP/AVP"}] + extra + pcmu}]}
    r = ctl.request(tag, "RESERVE", [{"CONTEXT": [
        {"CONTEXT_ID": CHOOSE},
        term([{"REMOTE_ADDR": "127.0.0.1:%d" % a.getsockname()[1]}]),
        term([{"LATCHING": "LATCH"}, {"REMOTE_ADDR": "127.0.0.1:9"}])]}])
    if not r or "reply" not in r:
        return False, "RESERVE: %s" % r
    ctx = find(r["reply"]["body"], "CONTEXT")
    t1, t2 = find_all(ctx, "TERMINATION")
    p1 = int(find(find(t1, "STREAM"), "LOCAL_ADDR").rsplit(":", 1)[1])
    p2 = int(find(find(t2, "STREAM"), "LOCAL_ADDR").rsplit(":", 1)[1])
    got = []
    for seq in range(1, 6):
        pkt = bytes([0x80, 0, 0, seq]) + (seq * 160).to_bytes(4, "big") + (0x4321).to_bytes(4, "big") + bytes(160)
        b.sendto(pkt, ("127.0.0.1", p2))
        try:
            got.append(a.recvfrom(2048)[0] == pkt)
        except socket.timeout:
            got.append(False)
        a.sendto(pkt, ("127.0.0.1", p1))
        try:
            data, src = b.recvfrom(2048)
            got.append(data == pkt and src == ("127.0.0.1", p2))
        except socket.timeout:
            got.append(False)
    rl = ctl.request(tag + "-rl", "RELEASE", [{"CONTEXT": [{"CONTEXT_ID": find(ctx, "CONTEXT_ID")}]}])
    a.close()
    b.close()
    in_slice = all(slice_[0] <= p <= slice_[1] for p in (p1, p1 + 1, p2, p2 + 1))
    ok = all(got) and in_slice and rl is not None and "reply" in rl
    return ok, "ports %d, %d in %s: %s; relayed %s; RELEASE %s" % (p1, p2, slice_, in_slice, got, rl is not None)


def three_free_ports():
    """A TCP port free now with the next two free too (supervisor, 2 workers)."""
    for _ in range(100):
        p = free_port()
        socks = []
        try:
            for k in (1, 2):
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(t)
                t.bind(("127.0.0.1", p + k))
            return p
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise RuntimeError("no three free ports")


def cert_names():
    """--check-config with workers = 2 generates the Iq+ certificate: it must
    name both workers, so that one pinned certificate serves the node."""
    state = os.path.join(lab.tmp, "agw")
    subprocess.run([os.path.join(BIN, "eims-agw"), "--check-config", "--state_dir=" + state,
                    "--workers=2", "--node_id=" + NODE], stdout=subprocess.DEVNULL, check=True)
    cert = ssl._ssl._test_decode_cert(os.path.join(state, "iq", "tls", "cert.pem"))
    names = sorted(v for k, v in cert.get("subjectAltName", ()) if k == "DNS")
    tap.result(names == sorted(["localhost", NODE + "-w0", NODE + "-w1"]),
               "the generated Iq+ certificate names every worker", "SAN %s" % names)


def main():
    cert_names()
    ports = [free_port(), free_port()]
    ctls = [Ctl(BIN, lab, p, "ctl%d" % i) for i, p in enumerate(ports)]
    tap.result(all(c.wait(lambda l: l.get("link") == "listening") for c in ctls), "two iqp-ctl listen")
    metrics_port = three_free_ports()
    pmin = 31000 + 2 * (os.getpid() % 1000)
    host = get_host_addresses(True, False)  # aiortc offers no loopback candidates
    agw = lab.daemon(BIN, "eims-agw", "agw.log", [
        "--iq.realm=w3=%s ims=127.0.0.1" % (host[0] if host else "127.0.0.1"),
        "--state_dir=" + os.path.join(lab.tmp, "agw"), "--workers=2", "--node_id=" + NODE,
        "--iq.security=tcp", "--iq.controllers=127.0.0.1:%d" % ports[0],
        "--iq.controllers=127.0.0.1:%d" % ports[1], "--iq.hb_interval=1000",
        "--metrics.listen=127.0.0.1:%d" % metrics_port,
        "--media.port_min=%d" % pmin, "--media.port_max=%d" % (pmin + 99)])
    if not tap.result(agw is not None, "eims-agw --workers=2 starts", lab.log("agw.log")[-800:]):
        return
    regs = [c.wait(lambda l: l.get("link") == "registered", 20) for c in ctls]
    ids = sorted(r["node_id"] for r in regs if r)
    tap.result(ids == [NODE + "-w0", NODE + "-w1"],
               "two registrations, one per controller, with distinct NODE_IDs", "ids %s" % ids)
    sh = wait_for(lambda: len(shares()) == 2 and shares())
    s0, s1 = (sh or {}).get(NODE + "-w0"), (sh or {}).get(NODE + "-w1")
    tap.result(s0 == (pmin, pmin + 49) and s1 == (pmin + 50, pmin + 99),
               "the media port range is cut in disjoint halves", "shares %s" % sh)
    pinned = sorted(int(c) for c in log_matches(r'msg="worker pinned" cpu=(\d+)'))
    tap.result(len(pinned) == 2 and (len(set(pinned)) == 2 or os.cpu_count() == 1),
               "each worker is pinned to its own CPU", "cpus %s" % pinned)
    tap.result(metric_value(metrics_port, "supervisor_workers_running") == 2 and
               all(metric_value(metrics_port + 1 + k, 'eimsagw_iq_link_state{state="in_service"}') == 1
                   for k in (0, 1)),
               "metrics: the supervisor's on metrics.listen, each worker's on the next ports")

    by_node = {r["node_id"]: c for r, c in zip(regs, ctls) if r}
    for node in sorted(by_node):
        ok, why = relay(by_node[node], node, sh[node])
        tap.result(ok, "RTP through worker %s, on ports of its slice" % node, why)
    # DTLS-SRTP through each worker: its own certificate, DTLS timers and
    # SRTP contexts on its own loop (the AGW as DTLS client on w0, as
    # server with audio+video bundled on w1).
    env = Env(tap, lab)
    tap.result(bool(host), "a non-loopback IPv4 address for aiortc's candidates")
    for k, (kinds, setup) in enumerate(((["audio"], "ACTIVE"), (["audio", "video"], "PASSIVE"))):
        node = NODE + "-w%d" % k
        if node in by_node and host:
            asyncio.run(session(env, by_node[node], "dtls-%s" % node, host[0], metrics_port + 1 + k, kinds, setup))

    agw.send_signal(signal.SIGUSR1)
    drained = [c.service_change("FORCED", 905) for c in ctls]
    agw.send_signal(signal.SIGUSR2)
    restored = [c.service_change("RESTART", 900) for c in ctls]
    tap.result(all(drained) and all(restored),
               "SIGUSR1 drains and SIGUSR2 restores every worker (SERVICE_CHANGE on both links)")
    agw.send_signal(signal.SIGHUP)
    tap.result(wait_for(lambda: len(log_matches(r'msg=reloaded worker=\d')) == 2),
               "SIGHUP: every worker reloads")

    # A worker dies: it is logged, started again, and registers again.
    victim = 0
    old_pid = worker_pids()[victim]
    os.kill(old_pid, signal.SIGKILL)
    exited = wait_for(lambda: log_matches(r'msg="worker exited; restarting" worker=0 pid=%d exit_code=0 '
                                          r'signal=9' % old_pid))
    new_pid = wait_for(lambda: worker_pids()[victim] != old_pid and worker_pids()[victim])
    tap.result(exited and new_pid, "a killed worker is logged and started again",
               "old pid %d, new %s" % (old_pid, new_pid))
    rereg, ctl = None, None
    end = time.time() + 20
    while not rereg and time.time() < end:
        for c in ctls:
            rereg = c.wait(lambda l: l.get("link") == "registered" and l["node_id"] == NODE + "-w0", 0.2)
            if rereg:
                ctl = c
                break
    first = [r for r in regs if r and r["node_id"] == NODE + "-w0"]
    tap.result(rereg is not None and first and rereg["epoch"] != first[0]["epoch"] and
               metric_value(metrics_port, "supervisor_worker_restarts_total") == 1,
               "the restarted worker registers again (new epoch) as %s-w0" % NODE, "%s" % rereg)
    if ctl:
        ok, why = relay(ctl, "again", sh[NODE + "-w0"])
        tap.result(ok, "RTP through the restarted worker", why)

    pids = list(worker_pids().values())
    lab.stop_daemon(tap, agw, "eims-agw (supervisor and workers)", "agw.log")

    def gone(pid):
        try:
            os.kill(pid, 0)
            return False
        except ProcessLookupError:
            return True
    tap.result(all(gone(p) for p in pids) and
               len(log_matches(r'msg=stopped exit_code=0 worker=\d')) == 2,
               "SIGTERM: every worker stopped with exit 0 (the first worker 0 died by SIGKILL)",
               "pids %s" % pids)


def with_ep_cscf():
    """Mutual TLS, pinned both ways, against ep-cscf: both workers register
    under the one generated certificate (each NODE_ID is one of its names)."""
    ep_state, agw_state = os.path.join(lab.tmp, "ep"), os.path.join(lab.tmp, "agw-tls")
    for prog, state, extra in (("ep-cscf", ep_state, []),
                               ("eims-agw", agw_state, ["--workers=2", "--node_id=" + NODE + "-tls"])):
        subprocess.run([os.path.join(BIN, prog), "--check-config", "--state_dir=" + state] + extra,
                       stdout=subprocess.DEVNULL, check=True)
    ep_fp = cert_fingerprint(os.path.join(ep_state, "iq", "tls", "cert.pem"))
    agw_fp = cert_fingerprint(os.path.join(agw_state, "iq", "tls", "cert.pem"))
    iq_port, ep_metrics, agw_metrics = free_port(), free_port(), three_free_ports()
    ep = lab.daemon(BIN, "ep-cscf", "ep.log", [
        "--state_dir=" + ep_state, "--iq.listen=127.0.0.1:%d" % iq_port, "--iq.trusted_fingerprints=" + agw_fp,
        "--metrics.listen=127.0.0.1:%d" % ep_metrics, "--sip.wss.listen=127.0.0.1:%d" % free_port(),
        "--ims.listen=127.0.0.1:%d" % free_port()])
    pmin = 33000 + 2 * (os.getpid() % 1000)
    agw = lab.daemon(BIN, "eims-agw", "agw-tls.log", [
        "--state_dir=" + agw_state, "--workers=2", "--node_id=" + NODE + "-tls",
        "--iq.controllers=127.0.0.1:%d ep-cscf" % iq_port, "--iq.trusted_fingerprints=" + ep_fp,
        "--metrics.listen=127.0.0.1:%d" % agw_metrics,
        "--media.port_min=%d" % pmin, "--media.port_max=%d" % (pmin + 99)])
    if not tap.result(ep is not None and agw is not None, "ep-cscf and eims-agw (workers = 2, TLS) start"):
        return
    n = wait_for(lambda: metric_value(ep_metrics, 'epcscf_iq_agws{state="in_service"}') == 2, 20)
    ids = sorted(set(re.findall(r'msg="iq agw registered" node_id=(\S+)', lab.log("ep.log"))))
    tap.result(n and ids == [NODE + "-tls-w0", NODE + "-tls-w1"],
               "TLS: ep-cscf has both workers in service, one certificate pinned", "ids %s" % ids)
    lab.stop_daemon(tap, agw, "eims-agw (workers = 2, TLS)", "agw-tls.log")
    lab.stop_daemon(tap, ep, "ep-cscf", "ep.log")


try:
    main()
    with_ep_cscf()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

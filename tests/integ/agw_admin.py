#!/usr/bin/python3
"""The eIMS-AGW's administrative state driven by its operator
(proto/SPEC.md 7.1.1, 7.7, 7.8; docs/operations.md "Signals"): SIGUSR1
drains, SIGUSR2 restores.

1. Against ep-cscf (TLS pinned both ways): a drain without contexts is
   SERVICE_CHANGE GRACEFUL 905 then FORCED 905, seen in both daemons'
   metrics and logs (ep-cscf's registry then offers the AGW no context);
   the state survives a controller restart (7.7 item 6: FORCED 905 is the
   AGW's first request on the new registration); SIGUSR2 restores with
   RESTART 900.
2. Against iqp-ctl (plain TCP), with contexts: while draining a new
   context gets 521 and an existing one is still configured; the release of
   the last context brings FORCED 905, then RESERVE gets 503; with
   iq.drain_timeout the GRACEFUL carries SC_DELAY and at the deadline the
   AGW releases what is left and sends FORCED 905.
3. Drained by the controller (7.7 item 2): ep-cscf's iq.drain lists the
   AGW (config file, SIGHUP): SERVICE_CHANGE GRACEFUL 905 from ep-cscf,
   then the AGW's FORCED 905 (no contexts); removed from the list and
   reloaded, ep-cscf restores it with RESTART 900.
Prints TAP lines.  usage: agw_admin.py BINDIR"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lab, Tap, cert_fingerprint, free_port, metric_value  # noqa: E402
from iqp_ctl_proc import Ctl, find  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
CHOOSE = 4294967294
tap = Tap()
lab = Lab("agw_admin.")
TMP = lab.tmp


def wait_metric(port, series, want, secs=10):
    end = time.time() + secs
    while True:
        v = metric_value(port, series)
        if v == want or time.time() > end:
            return v
        time.sleep(0.1)


def wait_re(log, pattern, secs=10, start=0):
    end = time.time() + secs
    rx = re.compile(pattern)
    while True:
        m = rx.search(lab.log(log), start)
        if m or time.time() > end:
            return m
        time.sleep(0.05)


def prepare(prog, state, *args):
    """--check-config once so that the Iq+ certificate exists; its fingerprint."""
    subprocess.run([os.path.join(BIN, prog), "--check-config", "--state_dir=" + state] + list(args),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return cert_fingerprint(os.path.join(state, "iq", "tls", "cert.pem"))


def with_ep_cscf():
    ep_state, agw_state = os.path.join(TMP, "ep"), os.path.join(TMP, "agw")
    ep_fp = prepare("ep-cscf", ep_state)
    agw_fp = prepare("eims-agw", agw_state, "--node_id=agw-admin")
    iq_port, ep_metrics, agw_metrics = free_port(), free_port(), free_port()
    ep_args = ["--state_dir=" + ep_state, "--iq.listen=127.0.0.1:%d" % iq_port,
               "--iq.trusted_fingerprints=" + agw_fp, "--metrics.listen=127.0.0.1:%d" % ep_metrics,
               "--sip.wss.listen=127.0.0.1:%d" % free_port(), "--ims.listen=127.0.0.1:%d" % free_port(),
               "--log.level=info,iq=debug"]
    ep = lab.daemon(BIN, "ep-cscf", "ep1.log", ep_args)
    agw = lab.daemon(BIN, "eims-agw", "agw.log", [
        "--state_dir=" + agw_state, "--node_id=agw-admin", "--metrics.listen=127.0.0.1:%d" % agw_metrics,
        "--iq.controllers=127.0.0.1:%d ep-cscf" % iq_port, "--iq.trusted_fingerprints=" + ep_fp,
        "--iq.hb_interval=1000", "--log.level=info,iq=debug"])
    if not tap.result(ep is not None and agw is not None, "ep-cscf and eims-agw start",
                      lab.log("ep1.log")[-600:], lab.log("agw.log")[-600:]):
        return
    agws = 'epcscf_iq_agws{state="%s"}'
    admin = 'eimsagw_iq_admin_state{state="%s"}'
    tap.result(wait_metric(ep_metrics, agws % "in_service", 1) == 1 and
               metric_value(agw_metrics, admin % "in_service") == 1,
               "eims-agw registers in service", lab.log("agw.log")[-800:])

    agw.send_signal(signal.SIGUSR1)
    oos = wait_metric(ep_metrics, agws % "out_of_service", 1)
    tap.result(oos == 1 and metric_value(ep_metrics, agws % "in_service") == 0 and
               metric_value(agw_metrics, admin % "out_of_service") == 1,
               "SIGUSR1 without contexts: ep-cscf has the AGW out of service, so does the AGW",
               "ep-cscf out_of_service %s" % oos)
    ep_log = lab.log("ep1.log")
    tap.result(re.search(r'msg="iq agw service change".*method=1 reason=905 from=in_service to=draining', ep_log)
               is not None and
               re.search(r'msg="iq agw service change".*method=2 reason=905 from=draining to=out_of_service', ep_log)
               is not None and metric_value(agw_metrics, 'eimsagw_iq_service_changes_total{by="agw"}') == 2,
               "the drain is SERVICE_CHANGE GRACEFUL 905 then FORCED 905 (7.7 items 1, 4)",
               *[l for l in ep_log.splitlines() if "service change" in l][-4:])

    # 7.7 item 6: a restarted controller learns the state first thing.
    os.killpg(ep.pid, signal.SIGKILL)
    ep.wait()
    start = len(lab.log("agw.log"))
    ep = lab.daemon(BIN, "ep-cscf", "ep2.log", ep_args)
    oos = wait_metric(ep_metrics, agws % "out_of_service", 1, 20) if ep else None
    log2 = lab.log("ep2.log")
    reg = log2.find('msg="iq agw registered"')
    sc = log2.find('msg="iq agw service change"')
    agw_log = lab.log("agw.log")[start:]
    first = re.search(r'msg="iq (service change sent|event|node status)[^"]*"', agw_log)
    tap.result(oos == 1 and 0 <= reg < sc and
               re.search(r'method=2 reason=905 from=in_service to=out_of_service', log2) is not None and
               first is not None and first.group(1) == "service change sent",
               "after a controller restart, FORCED 905 is the AGW's first request (7.7 item 6)",
               "out_of_service %s" % oos, *[l for l in log2.splitlines() if "iq agw" in l][-3:])

    agw.send_signal(signal.SIGUSR2)
    ins = wait_metric(ep_metrics, agws % "in_service", 1)
    tap.result(ins == 1 and metric_value(agw_metrics, admin % "in_service") == 1 and
               re.search(r'method=3 reason=900 from=out_of_service to=in_service', lab.log("ep2.log")) is not None,
               "SIGUSR2 restores: RESTART 900, in service on both sides (7.7 item 5)", "in_service %s" % ins)
    agw.send_signal(signal.SIGUSR2)
    tap.result(wait_re("agw.log", r'msg="iq restore ignored"') is not None,
               "SIGUSR2 while in service is logged and ignored")
    lab.stop_daemon(tap, agw, "eims-agw", "agw.log")
    lab.stop_daemon(tap, ep, "ep-cscf", "ep2.log")


def code_of(r):
    return r["error"]["code"] if r and "error" in r else (0 if r and "reply" in r else None)


def reserve(ctl, tag, ctx=CHOOSE):
    r = ctl.request(tag, "RESERVE", [{"CONTEXT": [
        {"CONTEXT_ID": ctx},
        {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "IMS"}, {"REALM_NAME": "ims"},
                         {"STREAM": [{"STREAM_ID": 1}, {"MEDIA_TYPE": "AUDIO"}, {"TRANSPORT_PROTO": "RTP/AVP"},
                                     {"CODEC": [{"PAYLOAD_TYPE": 0}, {"CODEC_NAME": "PCMU"},
                                                {"CLOCK_RATE": 8000}]}]}]}]}])
    if code_of(r) != 0:
        return code_of(r), None, None
    c = find(r["reply"]["body"], "CONTEXT")
    return 0, find(c, "CONTEXT_ID"), find(find(c, "TERMINATION"), "TERM_ID")


def with_iqp_ctl():
    port, metrics_port = free_port(), free_port()
    ctl = Ctl(BIN, lab, port)
    tap.result(ctl.wait(lambda l: l.get("link") == "listening") is not None, "iqp-ctl listens")
    agw = lab.daemon(BIN, "eims-agw", "agw2.log", [
        "--state_dir=" + os.path.join(TMP, "agw2"), "--node_id=agw-admin-2", "--iq.security=tcp",
        "--iq.controllers=127.0.0.1:%d" % port, "--metrics.listen=127.0.0.1:%d" % metrics_port,
        "--iq.drain_timeout=2", "--log.level=info,iq=debug"])
    reg = ctl.wait(lambda l: l.get("link") == "registered", 15) if agw else None
    if not tap.result(reg is not None, "eims-agw registers with iqp-ctl", lab.log("agw2.log")[-600:]):
        return
    code, a, term = reserve(ctl, "a")
    agw.send_signal(signal.SIGUSR1)
    g = ctl.service_change("GRACEFUL", 905)
    delay = find(g["service_change"]["body"], "SC_DELAY") if g else None
    tap.result(code == 0 and g is not None and delay in (1, 2),
               "SIGUSR1 with a context: SERVICE_CHANGE GRACEFUL 905 with SC_DELAY from iq.drain_timeout",
               json.dumps(g), "SC_DELAY %s" % delay)
    code_new = reserve(ctl, "new")[0]
    r = ctl.request("cf", "CONFIGURE", [{"CONTEXT": [{"CONTEXT_ID": a}, {"TERMINATION": [
        {"TERM_ID": term}, {"STREAM": [{"STREAM_ID": 1},
                                        {"REMOTE_ADDR": "127.0.0.1:40000"}]}]}]}])
    tap.result(code_new == 521 and code_of(r) == 0,
               "draining: a new context gets 521, the existing one is still configured (7.7 item 3)",
               "RESERVE %s, CONFIGURE %s" % (code_new, json.dumps(r)[:300]))
    r = ctl.request("rl", "RELEASE", [{"CONTEXT": [{"CONTEXT_ID": a}]}])
    f = ctl.service_change("FORCED", 905)
    tap.result(code_of(r) == 0 and f is not None,
               "the release of the last context brings SERVICE_CHANGE FORCED 905 (7.7 item 4)", json.dumps(r)[:300])
    tap.result(reserve(ctl, "oos")[0] == 503, "out of service: RESERVE gets 503 (7.1)")
    agw.send_signal(signal.SIGUSR2)
    rs = ctl.service_change("RESTART", 900)
    code, b, _ = reserve(ctl, "b")
    tap.result(rs is not None and code == 0, "SIGUSR2: RESTART 900, then RESERVE succeeds (7.7 item 5)")
    agw.send_signal(signal.SIGUSR1)
    t0 = time.time()
    g = ctl.service_change("GRACEFUL", 905)
    f = ctl.service_change("FORCED", 905, 8)
    took = time.time() - t0
    r = ctl.request("rl-b", "RELEASE", [{"CONTEXT": [{"CONTEXT_ID": b}]}])
    tap.result(g is not None and f is not None and took >= 1.5 and code_of(r) == 411 and
               re.search(r'msg="iq drain deadline" contexts_released=1', lab.log("agw2.log")) is not None,
               "at iq.drain_timeout the AGW releases what is left and sends FORCED 905 (7.7 item 4)",
               "FORCED after %.1f s, RELEASE %s" % (took, code_of(r)))
    agw.send_signal(signal.SIGUSR2)
    tap.result(ctl.service_change("RESTART", 900) is not None and
               metric_value(metrics_port, 'eimsagw_iq_admin_state{state="in_service"}') == 1,
               "SIGUSR2 restores again")
    lab.stop_daemon(tap, agw, "eims-agw (iqp-ctl)", "agw2.log")


def controller_drain():
    ep_state, agw_state = os.path.join(TMP, "ep3"), os.path.join(TMP, "agw3")
    ep_fp = prepare("ep-cscf", ep_state)
    agw_fp = prepare("eims-agw", agw_state, "--node_id=agw-drained")
    iq_port, ep_metrics, agw_metrics = free_port(), free_port(), free_port()
    conf = os.path.join(TMP, "ep3.conf")
    base = "iq.trusted_fingerprints = %s\n" % agw_fp
    with open(conf, "w") as f:
        f.write(base)
    ep = lab.daemon(BIN, "ep-cscf", "ep3.log", [
        "--config=" + conf, "--state_dir=" + ep_state, "--iq.listen=127.0.0.1:%d" % iq_port,
        "--metrics.listen=127.0.0.1:%d" % ep_metrics, "--sip.wss.listen=127.0.0.1:%d" % free_port(),
        "--ims.listen=127.0.0.1:%d" % free_port(), "--log.level=info,iq=debug"])
    agw = lab.daemon(BIN, "eims-agw", "agw3.log", [
        "--state_dir=" + agw_state, "--node_id=agw-drained", "--metrics.listen=127.0.0.1:%d" % agw_metrics,
        "--iq.controllers=127.0.0.1:%d ep-cscf" % iq_port, "--iq.trusted_fingerprints=" + ep_fp,
        "--iq.hb_interval=1000", "--log.level=info,iq=debug"])
    if not tap.result(ep is not None and agw is not None, "ep-cscf (config file) and eims-agw start",
                      lab.log("ep3.log")[-600:], lab.log("agw3.log")[-600:]):
        return
    agws = 'epcscf_iq_agws{state="%s"}'
    admin = 'eimsagw_iq_admin_state{state="%s"}'
    tap.result(wait_metric(ep_metrics, agws % "in_service", 1) == 1, "eims-agw registers in service")
    with open(conf, "w") as f:
        f.write(base + "iq.drain = agw-drained\n")
    ep.send_signal(signal.SIGHUP)
    oos = wait_metric(ep_metrics, agws % "out_of_service", 1)
    log = lab.log("ep3.log")
    tap.result(oos == 1 and metric_value(agw_metrics, admin % "out_of_service") == 1 and
               re.search(r'msg="iq agw drain" node_id=agw-drained reason=905 by=iq.drain', log) is not None and
               re.search(r'msg="iq agw service change" node_id=agw-drained method=1 reason=905 '
                         r'by=controller from=in_service to=draining', log) is not None and
               re.search(r'msg="iq agw service change".*method=2 reason=905 from=draining to=out_of_service',
                         log) is not None and
               metric_value(agw_metrics, 'eimsagw_iq_service_changes_total{by="controller"}') == 1,
               "iq.drain + SIGHUP: ep-cscf sends GRACEFUL 905; the AGW, without contexts, FORCED 905 "
               "(7.7 items 2, 4)", *[l for l in log.splitlines() if "iq agw" in l][-4:])
    with open(conf, "w") as f:
        f.write(base)
    ep.send_signal(signal.SIGHUP)
    ins = wait_metric(ep_metrics, agws % "in_service", 1)
    tap.result(ins == 1 and wait_metric(agw_metrics, admin % "in_service", 1) == 1 and
               re.search(r'msg="iq agw restore" node_id=agw-drained reason=900', lab.log("ep3.log")) is not None,
               "removed from iq.drain + SIGHUP: ep-cscf restores the AGW with RESTART 900 (7.7 item 5)",
               *[l for l in lab.log("ep3.log").splitlines() if "iq agw" in l][-3:])
    lab.stop_daemon(tap, agw, "eims-agw", "agw3.log")
    lab.stop_daemon(tap, ep, "ep-cscf", "ep3.log")


try:
    with_ep_cscf()
    with_iqp_ctl()
    controller_drain()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

#!/usr/bin/python3
"""iqplus-conformance (proto/README.md) against our own implementations:
ep-cscf as the controller under test (the suite plays an AGW) and eims-agw
as the AGW under test (the suite plays the controller), both over mutual
TLS 1.3 with certificates pinned both ways, each daemon then stopped with
SIGTERM and checked for a clean exit.  The suite's own case lines are
repeated as this suite's TAP lines, prefixed with the target.
usage: iqplus_conformance.py BINDIR [controller|agw]..."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lab, Tap, cert_fingerprint, free_port  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
TARGETS = sys.argv[2:] or ["controller", "agw"]
SUITE = os.path.join(BIN, "iqplus-conformance")
tap = Tap()
lab = Lab("iqplus_conformance.")
TMP = lab.tmp


def suite_fingerprint(state, node_id):
    return subprocess.run([SUITE, "--print-fingerprint", "--state-dir", state, "--node-id", node_id],
                          capture_output=True, text=True, check=True).stdout.strip()


def daemon_fingerprint(prog, state, *args):
    subprocess.run([os.path.join(BIN, prog), "--check-config", "--state_dir=" + state] + list(args),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return cert_fingerprint(os.path.join(state, "iq", "tls", "cert.pem"))


def run_suite(target, args, timeout):
    """Runs the suite; each of its case lines becomes one of ours."""
    try:
        p = subprocess.run([SUITE, "--target", target] + args, capture_output=True, text=True,
                           timeout=timeout)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace"), "timeout"
    lines = out.splitlines()
    for line in lines:
        if line.startswith("ok ") or line.startswith("not ok "):
            tap.result(line.startswith("ok "), "%s: %s" % (target, line.split(" - ", 1)[-1]))
        elif line.startswith("#   "):
            print(line)
    summary = [l for l in lines if l.endswith(" failed")]
    tap.result(rc in (0, 1) and bool(summary), "%s: the suite ran to its summary line" % target,
               "exit %s" % rc, *(summary or lines[-3:]))


def controller():
    port = free_port()
    suite_state = os.path.join(TMP, "suite-agw")
    fp = suite_fingerprint(suite_state, "agw-conformance")
    ep_fp = daemon_fingerprint("ep-cscf", os.path.join(TMP, "ep"))
    ep = lab.daemon(BIN, "ep-cscf", "ep-cscf.log", [
        "--state_dir=" + os.path.join(TMP, "ep"), "--iq.listen=127.0.0.1:%d" % port,
        "--iq.trusted_fingerprints=" + fp, "--sip.wss.listen=127.0.0.1:%d" % free_port(),
        "--metrics.listen=127.0.0.1:%d" % free_port(), "--ims.listen=127.0.0.1:0"])
    if not tap.result(ep is not None, "ep-cscf starts", lab.log("ep-cscf.log")[-800:]):
        return
    run_suite("controller", ["--connect", "127.0.0.1:%d" % port, "--state-dir", suite_state,
                             "--node-id", "agw-conformance", "--trust", ep_fp, "--name", "ep-cscf",
                             "--slow"], 180)
    lab.stop_daemon(tap, ep, "ep-cscf", "ep-cscf.log")


def agw():
    port = free_port()
    suite_state = os.path.join(TMP, "suite-ctl")
    fp = suite_fingerprint(suite_state, "ctl-conformance")
    agw_state = os.path.join(TMP, "agw")
    agw_fp = daemon_fingerprint("eims-agw", agw_state, "--node_id=agw-under-test")
    # The suite listens first; the AGW connects to it.
    suite = subprocess.Popen([SUITE, "--target", "agw", "--listen", "127.0.0.1:%d" % port,
                              "--state-dir", suite_state, "--node-id", "ctl-conformance",
                              "--trust", agw_fp], stdout=subprocess.PIPE, text=True)
    lab.procs.append(suite)
    a = lab.daemon(BIN, "eims-agw", "eims-agw.log", [
        "--state_dir=" + agw_state, "--node_id=agw-under-test",
        "--iq.controllers=127.0.0.1:%d ctl-conformance" % port, "--iq.trusted_fingerprints=" + fp,
        "--metrics.listen=127.0.0.1:%d" % free_port(),
        # Small enough for the overload cases to reach every level (7.6),
        # large enough for a CONTEXT_LIST beyond one MAX_FRAME (7.11 item 2).
        "--iq.max_contexts=500"])
    if not tap.result(a is not None, "eims-agw starts", lab.log("eims-agw.log")[-800:]):
        return
    try:
        out, _ = suite.communicate(timeout=180)
        rc = suite.returncode
    except subprocess.TimeoutExpired:
        suite.kill()
        out, rc = suite.communicate()[0], "timeout"
    lines = out.splitlines()
    for line in lines:
        if line.startswith("ok ") or line.startswith("not ok "):
            tap.result(line.startswith("ok "), "agw: %s" % line.split(" - ", 1)[-1])
        elif line.startswith("#   "):
            print(line)
    summary = [l for l in lines if l.endswith(" failed")]
    tap.result(rc in (0, 1) and bool(summary), "agw: the suite ran to its summary line",
               "exit %s" % rc, *(summary or lines[-3:]))
    lab.stop_daemon(tap, a, "eims-agw", "eims-agw.log")


try:
    if "controller" in TARGETS:
        controller()
    if "agw" in TARGETS:
        agw()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

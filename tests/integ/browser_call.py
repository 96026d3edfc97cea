#!/usr/bin/python3
"""Chromium + JsSIP calls end to end: the WIC page registers through
ep-cscf and calls a SIPp UAS with RTP echo behind Kamailio; the IMS-ALG
drives two eims-agw over Iq+ (mutual TLS, pinned fingerprints).  Cases:
audio call with BYE from the browser, audio+video with bundlePolicy
balanced and max-bundle, BYE from the far end, CANCEL before
the answer, 486, a call from a SIPp UAC (RTP echo) to the browser, and the
AGW killed mid-call (BYE both ways) with the other AGW serving the next
call, and a call between two pages (alice calls bob through IMS: two AGW
contexts) with hold and resume by re-INVITE.  Media judged by the browser's own getStats().  Prints TAP lines.
usage: browser_call.py BINDIR"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import call_lab  # noqa: E402
from harness import ROOT, Lab, Tap, free_port  # noqa: E402

tap = Tap()
lab = Lab("browser_call.")
BIN = os.path.abspath(sys.argv[1])
WEB = os.path.join(ROOT, "tests/browser")
UAS_PORT = free_port(socket.SOCK_DGRAM)


def sipp_uac(kam_port, talk_ms):
    with open(os.path.join(ROOT, "tests/sipp/invite_uac.xml")) as f:
        text = f.read().replace('<pause milliseconds="500" />', '<pause milliseconds="%d" />' % talk_ms)
    scen = os.path.join(lab.tmp, "uac.xml")
    with open(scen, "w") as f:
        f.write(text)
    return subprocess.Popen(
        ["sipp", "127.0.0.1:%d" % kam_port, "-sf", scen, "-s", "alice", "-m", "1", "-i", "127.0.0.1",
         "-p", str(free_port(socket.SOCK_DGRAM)), "-mi", "127.0.0.1",
         "-mp", str(call_lab.media_port()), "-rtp_echo", "-timeout", "40s",
         "-timeout_error", "-nostdin", "-trace_err", "-error_file", os.path.join(lab.tmp, "uac_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp, start_new_session=True)


def serving_agw():
    """The AGW of the latest rewritten offer, from ep-cscf's log."""
    found = re.findall(r'msg="offer rewritten".*? node_id=(\S+)', lab.log("ep-cscf.log"))
    return found[-1] if found else None


def orchestrate(ports, node, stepdir):
    peers = {}

    def finish(name, proc, what):
        try:
            rc = proc.wait(25)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "timeout"
        tap.result(rc == 0, "SIPp side of '%s': %s" % (name, what), "exit %s" % rc)

    done = set()
    want_file = os.path.join(stepdir, "want")
    while node.poll() is None:
        time.sleep(0.1)
        try:
            with open(want_file) as f:
                want = f.read().strip()
        except FileNotFoundError:
            continue
        # An empty read is a write in progress (older drivers did not
        # rename into place): not a step.
        if not want or want in done or want == "done":
            if want == "done":
                break
            continue
        done.add(want)
        if want == "echo":
            peers[want] = (call_lab.sipp_echo_uas(lab, UAS_PORT, name="uas_echo"), "INVITE, ACK, BYE")
        elif want == "far-bye":
            peers[want] = (call_lab.sipp_echo_uas(lab, UAS_PORT, subst={"IS486": "0", "UASBYE": "1"},
                                                  name="uas_bye"), "its BYE answered 200")
        elif want == "cancel":
            peers[want] = (call_lab.sipp_echo_uas(lab, UAS_PORT, "invite_uas_cancel.xml", {},
                                                  name="uas_cancel"), "CANCEL, then the ACK of its 487")
        elif want == "busy":
            peers[want] = (call_lab.sipp_echo_uas(lab, UAS_PORT, subst={"IS486": "1", "UASBYE": "0"},
                                                  name="uas_busy"), "the ACK of its 486")
        elif want in ("video", "video-mb"):
            peers[want] = (call_lab.sipp_echo_uas(
                lab, UAS_PORT, subst={"IS486": "0", "UASBYE": "0", "VIDEO":
                                      "m=video [media_port+2] RTP/AVP 96\na=rtpmap:96 VP8/90000\n"},
                name="uas_" + want), "audio+video call, INVITE, ACK, BYE")
        elif want == "early":
            peers[want] = (call_lab.sipp_echo_uas(lab, UAS_PORT, "invite_uas_early.xml", {},
                                                  name="uas_early"), "183 with SDP, 200, ACK, BYE")
        elif want == "terminating":
            peers[want] = (sipp_uac(ports["kam"], 6000), "UAC call to the browser with RTP echo, BYE")
        elif want in ("agw-call", "agw-second"):
            peers[want] = (call_lab.sipp_echo_uas(lab, UAS_PORT, name="uas_" + want),
                           "BYE from the eP-CSCF when the AGW died" if want == "agw-call"
                           else "INVITE, ACK, BYE")
        elif want == "agw-kill":
            name = serving_agw()
            proc = ports["agws"].get(name)
            tap.result(proc is not None, "the AGW serving the call is known (%s)" % name)
            if proc:
                proc.send_signal(signal.SIGKILL)
                proc.wait(5)
                del ports["agws"][name]
        # The previous peer must be done before the next starts on the port.
        for prev in list(peers):
            if prev != want and peers[prev] and want != "agw-kill":
                p, what = peers.pop(prev)
                finish(prev, p, what)
        open(os.path.join(stepdir, "ready-" + want), "w").close()
    for name, (p, what) in peers.items():
        finish(name, p, what)


def main():
    if not tap.result(os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
                      "npm packages installed (deploy/install-deps.sh)"):
        return
    page_port = free_port()
    origin = "https://127.0.0.1:%d" % page_port
    # T_HOLD short: the calls of the AGW killed mid-call end (BYE both
    # ways) when it has not come back within 3 s (SPEC 7.10).
    ports = call_lab.start(lab, tap, BIN, [origin], UAS_PORT, "127.0.0.1", agws=("agw-1", "agw-2"),
                           extra="iq.hold_timeout = 3000\n")
    if not ports:
        return
    www = os.path.join(lab.tmp, "www")
    os.makedirs(www)
    shutil.copy(os.path.join(WEB, "wic.html"), www)
    r = subprocess.run([os.path.join(WEB, "node_modules/.bin/esbuild"),
                        os.path.join(WEB, "node_modules/jssip/lib/JsSIP.js"), "--bundle",
                        "--format=iife", "--global-name=JsSIP", "--log-level=warning",
                        "--outfile=" + os.path.join(www, "jssip.js")], capture_output=True, text=True)
    if not tap.result(r.returncode == 0, "JsSIP bundled for the page", r.stderr):
        return
    call_lab.serve(www, page_port, os.path.join(lab.tmp, "state/tls/cert.pem"),
          os.path.join(lab.tmp, "state/tls/key.pem"))
    stepdir = os.path.join(lab.tmp, "steps")
    os.makedirs(stepdir)
    node = subprocess.Popen(["node", os.path.join(WEB, "wic_call.mjs"), "%s/wic.html" % origin,
                             "wss://127.0.0.1:%d" % ports["wss"], stepdir],
                            stdout=subprocess.PIPE, text=True, cwd=WEB)
    orchestrate(ports, node, stepdir)
    try:
        out, _ = node.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        node.kill()
        out, _ = node.communicate()
    for line in out.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            tap.result(line.startswith("ok "), line.split(" - ", 1)[1] if " - " in line else line)
        elif line.startswith("#"):
            print(line)
    tap.result(node.returncode == 0, "browser driver exited cleanly", "exit %s" % node.returncode)
    call_lab.check_nothing_left(lab, tap, ports)
    for n, p in ports["agws"].items():
        lab.stop_daemon(tap, p, n, n + ".log")
    lab.stop_ep_cscf(tap)


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

#!/usr/bin/python3
"""Calls from and to the demo WWSF's WIC page end to end, driven through
its buttons in Chromium: alice signs in at the WWSF (deploy/demo/wwsf.py),
registers with its token (Trusted Node Authentication toward Kamailio) and
calls the echo (a SIPp RTP echo) through ep-cscf's IMS-ALG and an
eims-agw (Iq+ over mutual TLS, fingerprints pinned); two guests get IMPUs
from the WWSF's range, which the eP-CSCF registers toward Kamailio as one
wildcarded identity (sip:guest-!.*!@ims.test, TS 23.003 13.4A) and for
which it is the guests' registrar; a SIPp UAC calls the second guest:
Kamailio routes the call by the wildcarded identity with
P-Called-Party-ID, the eP-CSCF delivers it to that guest's flow only, the
page rings, is answered, and media flows both ways (the page's getStats
counters); the guest calls the echo itself, then signs out, after which a
request for its IMPU gets 480.  Prints TAP lines.
usage: browser_wwsf_call.py BINDIR"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import call_lab  # noqa: E402
from harness import ROOT, Lab, Tap, free_port, wait_log  # noqa: E402

tap = Tap()
result = tap.result
lab = Lab("browser_wwsf_call.")
BIN = os.path.abspath(sys.argv[1])
WEB = os.path.join(ROOT, "tests/browser")
WWSF = os.path.join(ROOT, "deploy/demo/wwsf.py")
AUD = "sip:ep-cscf.ims.test"
UAS_PORT = free_port(socket.SOCK_DGRAM)
TALK_MS = 8000  # the SIPp caller's talk before its BYE


def wwsf_cmd(port, extra=()):
    return ["/usr/bin/python3", WWSF, "--name=demo", "--listen=127.0.0.1:%d" % port,
            "--audience=" + AUD, "--state_dir=" + os.path.join(lab.tmp, "wwsf")] + list(extra)


def sipp_uac(kam_port, user):
    """A SIP phone calling user@ims.test (RTP echo), BYE after TALK_MS."""
    with open(os.path.join(ROOT, "tests/sipp/invite_uac.xml")) as f:
        text = f.read().replace('<pause milliseconds="500" />',
                                '<pause milliseconds="%d" />' % TALK_MS)
    scen = os.path.join(lab.tmp, "uac.xml")
    with open(scen, "w") as f:
        f.write(text)
    return subprocess.Popen(
        ["sipp", "127.0.0.1:%d" % kam_port, "-sf", scen, "-s", user, "-m", "1", "-i", "127.0.0.1",
         "-p", str(free_port(socket.SOCK_DGRAM)), "-mi", "127.0.0.1",
         "-mp", str(call_lab.media_port()), "-rtp_echo", "-timeout", "60s", "-timeout_error",
         "-nostdin", "-trace_err", "-error_file", os.path.join(lab.tmp, "uac_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp, start_new_session=True)


def finish(name, proc, what):
    try:
        rc = proc.wait(40)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "timeout"
    result(rc == 0, "SIPp side of '%s': %s" % (name, what), "exit %s" % rc)


def orchestrate(ports, node, stepdir, facts):
    """Starts what each step of the driver needs (see wic_wwsf_call.mjs)."""
    peers = {}
    done = set()
    while node.poll() is None:
        time.sleep(0.1)
        try:
            with open(os.path.join(stepdir, "want")) as f:
                want = f.read().strip()
        except FileNotFoundError:
            continue
        if want == "done":
            break
        if want in done:
            continue
        done.add(want)
        name, _, arg = want.partition(" ")
        # The previous SIPp peer ends before the next one starts.
        for prev in list(peers):
            finish(prev, *peers.pop(prev))
        if name in ("echo", "echo-guest"):
            peers[name] = (call_lab.sipp_echo_uas(lab, UAS_PORT, name="uas_" + name),
                           "the echo answers, echoes RTP, gets the BYE")
        elif name == "guest-call":
            facts["called"] = arg
            peers[name] = (sipp_uac(ports["kam"], arg), "calls %s, ACK, BYE after %d ms"
                           % (arg, TALK_MS))
        elif name == "signedout":
            facts["signedout"] = arg
        open(os.path.join(stepdir, "ready-" + name), "w").close()
    for name, (p, what) in peers.items():
        finish(name, p, what)


def checks(ports, facts):
    kam, ep = lab.log("kamailio.log"), lab.log("ep-cscf.log")
    called = facts.get("called")
    result("TNA REGISTER for sip:guest-!.*!@ims.test (IMPI guest-!.*!@ims.test) from trusted "
           "127.0.0.1:%d" % ports["ims"] in kam,
           "the eP-CSCF registered the range as its wildcarded identity toward IMS (TNA)",
           kam[-1500:])
    result(re.search(r"TNA REGISTER for sip:guest-\d+@", kam) is None,
           "no guest IMPU registered toward IMS by itself")
    result(len(re.findall(r'msg="guest registered in range"', ep)) >= 2,
           "the eP-CSCF registered both guests itself (local registrar of the range)")
    result(called is not None and
           ("ims-core: sip:%s@ims.test via wildcarded identity sip:guest-!.*!@ims.test" % called)
           in kam, "Kamailio routed the call for %s by the wildcarded identity" % called)
    result(called is not None and re.search(
        r'msg="request for a range IMPU" impu=sip:%s@ims\.test range=sip:guest-!\.\*!@ims\.test '
        r'flow=\S+ method=INVITE' % re.escape(called or "-"), ep) is not None,
        "the eP-CSCF delivered the INVITE for %s to that guest's flow" % called)
    gone = facts.get("signedout")
    if gone:
        result(re.search(r'msg="guest deregistered" flow=\S+ impu=sip:%s@' % re.escape(gone), ep)
               is not None, "the guest's sign-out ended its registration at the eP-CSCF")
        rc = lab.sipp_message(ports["kam"], 480, gone, 15)
        result(rc == 0, "a MESSAGE to the signed-out guest's IMPU gets 480 (range registered, "
               "IMPU not)", "sipp exit %d" % rc)
    result("Bearer" not in kam, "no Bearer token reaches IMS")


def main():
    if not result(os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
                  "npm packages installed (deploy/install-deps.sh)"):
        return
    pw = free_port()
    r = subprocess.run(wwsf_cmd(pw) + ["--prepare"], capture_output=True, text=True, timeout=60)
    line = r.stdout.strip() if r.returncode == 0 else None
    if not result(line is not None and "ranges=sip:guest-*@ims.test" in line,
                  "the demo WWSF prepared (certificate, key, JWKS, JsSIP bundle)", r.stderr[-800:]):
        return
    ims = free_port(socket.SOCK_DGRAM)
    kam = lab.kamailio(uas_port=UAS_PORT, tna_peer="127.0.0.1:%d" % ims)
    if not result(kam is not None, "Kamailio started (TNA trusted from the eP-CSCF only)"):
        return
    ports = call_lab.start(lab, tap, BIN, ["https://digest.test"], UAS_PORT, "127.0.0.1",
                           agws=("agw-1",), extra="wwsf = %s\n" % line, ims_port=kam,
                           ep_ims_port=ims)
    if not ports:
        return
    ports["ims"] = ims
    wwsf = lab.start(wwsf_cmd(pw, ["--wss=wss://127.0.0.1:%d" % ports["wss"]]), "wwsf.log")
    if not result(wait_log(os.path.join(lab.tmp, "wwsf.log"), "msg=started", 15),
                  "the WWSF serves HTTPS", lab.log("wwsf.log")[-800:]):
        return
    stepdir = os.path.join(lab.tmp, "steps")
    os.makedirs(stepdir)
    node = subprocess.Popen(["node", os.path.join(WEB, "wic_wwsf_call.mjs"),
                             "https://127.0.0.1:%d" % pw, stepdir],
                            stdout=subprocess.PIPE, text=True, cwd=WEB, start_new_session=True)
    lab.procs.append(node)
    facts = {}
    orchestrate(ports, node, stepdir, facts)
    try:
        out, _ = node.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        node.kill()
        out, _ = node.communicate()
    for l in out.splitlines():  # the browser's own TAP lines, re-numbered
        if l.startswith("ok ") or l.startswith("not ok "):
            tap.result(l.startswith("ok "), l.split(" - ", 1)[1] if " - " in l else l)
        elif l.startswith("#"):
            print(l, flush=True)
    tap.result(node.returncode == 0, "browser driver exited cleanly", "exit %s" % node.returncode)
    checks(ports, facts)
    call_lab.check_nothing_left(lab, tap, ports)
    wwsf.terminate()
    wwsf.wait(10)
    for n, p in ports["agws"].items():
        lab.stop_daemon(tap, p, n, n + ".log")
    lab.stop_ep_cscf(tap)


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

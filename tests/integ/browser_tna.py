#!/usr/bin/python3
"""Web authentication end to end with a real browser: Chromium signs in at
the demo WWSF (deploy/demo/wwsf.py), whose WIC page (JsSIP) registers
through ep-cscf with the WWSF's ES256 token; the eP-CSCF registers it
toward Kamailio with Trusted Node Authentication (no digest challenge).
Two WWSFs, each an instance of the demo WWSF with its own origin and key:
A (with a guest range) and B.  Checked: registration with A's token and
its renewal past the first token's expiry, a MESSAGE from SIPp; a page of
A's origin using B's token gets 403; a guest IMPU from A's range registers
and receives a MESSAGE; sign-out un-registers; JWKS served = JWKS file;
neither tokens nor the signing key in any log.  Prints TAP lines.
usage: browser_tna.py BINDIR"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Lab, Tap, free_port, wait_log  # noqa: E402

tap = Tap()
result = tap.result
lab = Lab("browser_tna.")
BIN = os.path.abspath(sys.argv[1])
WEB = os.path.join(ROOT, "tests/browser")
WWSF = os.path.join(ROOT, "deploy/demo/wwsf.py")
AUD = "sip:ep-cscf.ims.test"
TTL_A = 20  # WWSF A's token lifetime: the page renews it during the test


def wwsf_cmd(name, port, state, extra=()):
    return ["/usr/bin/python3", WWSF, "--name=" + name, "--listen=127.0.0.1:%d" % port,
            "--audience=" + AUD, "--state_dir=" + os.path.join(lab.tmp, state)] + list(extra)


def prepare(name, port, extra):
    """Makes the WWSF's keys and JWKS; returns the eP-CSCF's `wwsf` value."""
    r = subprocess.run(wwsf_cmd(name, port, name, extra) + ["--prepare"], capture_output=True,
                       text=True, timeout=60)
    return r.stdout.strip() if r.returncode == 0 else None, r.stderr


def https_get(url):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
        return r.read()


def wait_step(lines, want, node, secs):
    """Waits until the driver appended a line starting with `want`."""
    end = time.time() + secs
    path = os.path.join(lab.tmp, "step")
    while time.time() < end and node.poll() is None:
        if os.path.exists(path):
            with open(path) as f:
                for line in f.read().splitlines():
                    if line.startswith(want + " "):
                        lines.append(line)
                        return line[len(want) + 1:]
        time.sleep(0.1)
    return None


def tokens_issued(log, user):
    """exp of each token WWSF A's log says it issued for user."""
    return [int(m) for m in re.findall(r'msg="token issued" user=%s .*? exp=(\d+)' % re.escape(user),
                                       lab.log(log))]


def run_browser(ports, pa, pb):
    url_a, url_b = "https://127.0.0.1:%d" % pa, "https://127.0.0.1:%d" % pb
    node = subprocess.Popen(["node", os.path.join(WEB, "wic_tna.mjs"), url_a, url_b,
                             "wss://127.0.0.1:%d" % ports["wss"], os.path.join(lab.tmp, "step")],
                            stdout=subprocess.PIPE, text=True, cwd=WEB, start_new_session=True)
    lab.procs.append(node)
    seen, secrets = [], []
    kam_log = os.path.join(lab.tmp, "kamailio.log")
    if wait_step(seen, "registered", node, 60) == "alice":
        k = lab.log("kamailio.log")
        result("TNA REGISTER for sip:alice@ims.test (IMPI alice@ims.test) from trusted 127.0.0.1:%d"
               % ports["ims"] in k and "challenge REGISTER for sip:alice" not in k,
               "Kamailio registered alice's TNA REGISTER from the eP-CSCF without a challenge",
               k[-800:])
        # Past the first token's expiry (leeway 0): the page must have renewed it.
        first = tokens_issued("wwsf-a.log", "alice")
        end = time.time() + TTL_A + 15
        while time.time() < end and (not first or time.time() < first[0] + 2 or
                                     len(tokens_issued("wwsf-a.log", "alice")) < 2):
            time.sleep(0.2)
        issued = tokens_issued("wwsf-a.log", "alice")
        ep = lab.log("ep-cscf.log")
        result(len(issued) >= 2 and time.time() > issued[0] and
               "token expired without renewal" not in ep and
               len(re.findall(r"TNA REGISTER for sip:alice@ims\.test \(IMPI alice@ims\.test\) "
                              r"from trusted", lab.log("kamailio.log"))) >= 2,
               "the page renewed its token before expiry and refreshed the TNA registration",
               "tokens issued (exp) %s, now %d" % (issued, time.time()))
        rc = lab.sipp_message(ports["kam"], 200, "alice", 15)
        result(rc == 0, "SIPp's MESSAGE to alice (renewed registration) gets 200 OK",
               "sipp exit %d" % rc)
    tok_b = wait_step(seen, "tokenb", node, 60)
    if tok_b:
        secrets.append(tok_b)
    user = wait_step(seen, "guest", node, 60)
    if user:
        rc = lab.sipp_message(ports["kam"], 200, user, 15)
        result(rc == 0, "SIPp's MESSAGE to the guest %s gets 200 OK" % user, "sipp exit %d" % rc)
    if wait_step(seen, "signedout", node, 60) == "alice":
        result(wait_log(kam_log, "TNA REGISTER for sip:alice@ims.test (IMPI alice@ims.test) from "
                        "trusted 127.0.0.1:%d, expires 0" % ports["ims"], 5),
               "sign-out de-registered alice toward IMS (TNA REGISTER, Expires 0)")
        rc = lab.sipp_message(ports["kam"], 404, "alice", 15)
        result(rc == 0, "after sign-out IMS no longer reaches alice (MESSAGE gets 404)",
               "sipp exit %d" % rc)
    try:
        out, _ = node.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(node.pid, signal.SIGKILL)
        out, _ = node.communicate()
    for line in out.splitlines():  # the browser's own TAP lines, re-numbered
        if line.startswith("ok ") or line.startswith("not ok "):
            tap.result(line.startswith("ok "), line.split(" - ", 1)[1] if " - " in line else line)
        elif line.startswith("#"):
            print(line, flush=True)
    tap.result(node.returncode == 0, "browser driver exited cleanly", "exit %s" % node.returncode)
    return secrets


def checks(secrets, pa, pb):
    tok_b = bool(secrets)  # the driver reported WWSF B's token
    ep = lab.log("ep-cscf.log")
    result('reason="origin is not one of wwsf wwsf-b" status=403' in ep,
           "the eP-CSCF logs why it refused B's token on A's origin (403)")
    result(re.search(r'msg="bearer token accepted" .*wwsf=wwsf-a impu=sip:guest-\d+@ims\.test '
                     r'range="?sip:guest-\*@ims\.test', ep) is not None,
           "the guest IMPU was accepted as one of WWSF A's range")
    k = lab.log("kamailio.log")
    result("untrusted" not in k and "challenge REGISTER" not in k,
           "Kamailio challenged none of the eP-CSCF's TNA REGISTERs")
    for name, port in (("wwsf-a", pa), ("wwsf-b", pb)):
        with open(os.path.join(lab.tmp, name, "jwks.json"), "rb") as f:
            on_disk = json.load(f)
        try:
            served = json.loads(https_get("https://127.0.0.1:%d/jwks.json" % port))
        except OSError as e:
            served = repr(e)
        result(served == on_disk and len(on_disk["keys"]) == 1 and
               on_disk["keys"][0]["kty"] == "EC" and "d" not in on_disk["keys"][0],
               "%s serves at /jwks.json the public JWKS the eP-CSCF reads" % name)
        with open(os.path.join(lab.tmp, name, "signing", "es256.pem")) as f:
            secrets += [l for l in f.read().splitlines() if not l.startswith("-----")]
        mode = os.stat(os.path.join(lab.tmp, name, "signing", "es256.pem")).st_mode & 0o777
        result(mode == 0o600, "%s's signing key file is private (mode 0600)" % name, oct(mode))
    logs = "".join(lab.log(n) for n in ("wwsf-a.log", "wwsf-b.log", "ep-cscf.log", "kamailio.log"))
    result(tok_b and not any(s in logs for s in secrets) and "Bearer" not in k,
           "neither tokens nor signing keys appear in any log; no Bearer reaches IMS")


def stop_wwsf(proc, name):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = "timeout"
    result(rc == 0 and "msg=stopped" in lab.log(name + ".log"),
           "%s stops on SIGTERM with exit 0" % name, "exit %s" % rc)


def main():
    if not result(os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
                  "npm packages installed (deploy/install-deps.sh)"):
        return
    pa, pb = free_port(), free_port()
    line_a, err = prepare("wwsf-a", pa, ["--token_ttl=%d" % TTL_A])
    if not result(line_a is not None and "ranges=sip:guest-*@ims.test" in line_a,
                  "WWSF A prepared (certificate, key, JWKS, JsSIP bundle)", err[-800:]):
        return
    line_b, err = prepare("wwsf-b", pb, ["--guest_range=", "--waf=waf-b"])
    if not result(line_b is not None, "WWSF B prepared (its own key and origin)", err[-800:]):
        return
    ims = free_port(socket.SOCK_DGRAM)
    kam = lab.kamailio(tna_peer="127.0.0.1:%d" % ims)
    if not result(kam is not None, "Kamailio started (TNA trusted from the eP-CSCF only)"):
        return
    extra = "wwsf = %s\nwwsf = %s\nauth.leeway = 0\n" % (line_a, line_b)
    ports = lab.ep_cscf(BIN, kam, ["https://digest.test"], extra, ims_port=ims)
    if not result(ports is not None, "ep-cscf started with WWSFs A and B",
                  lab.log("ep-cscf.log")[-1500:]):
        return
    ports["kam"] = kam
    wss = ["--wss=wss://127.0.0.1:%d" % ports["wss"]]
    a = lab.start(wwsf_cmd("wwsf-a", pa, "wwsf-a", ["--token_ttl=%d" % TTL_A] + wss), "wwsf-a.log")
    b = lab.start(wwsf_cmd("wwsf-b", pb, "wwsf-b", ["--guest_range=", "--waf=waf-b"] + wss),
                  "wwsf-b.log")
    up = (wait_log(os.path.join(lab.tmp, "wwsf-a.log"), "msg=started", 15) and
          wait_log(os.path.join(lab.tmp, "wwsf-b.log"), "msg=started", 15))
    if not result(up, "WWSFs A and B serve HTTPS", lab.log("wwsf-a.log")[-800:],
                  lab.log("wwsf-b.log")[-800:]):
        return
    secrets = run_browser(ports, pa, pb)
    checks(secrets, pa, pb)
    stop_wwsf(a, "wwsf-a")
    stop_wwsf(b, "wwsf-b")
    lab.stop_ep_cscf(tap)


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

#!/usr/bin/python3
"""Chromium + JsSIP register through ep-cscf against Kamailio (digest),
receive a MESSAGE sent by SIPp, un-register; a page from an unlisted origin
cannot open the WebSocket.  The WIC page is served over HTTPS from two
origins: one listed under a WWSF, one not.  Prints TAP lines.
usage: browser_register.py BINDIR"""
import asyncio
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Lab, Tap, free_port  # noqa: E402

tap = Tap()
lab = Lab("browser_register.")
BIN = os.path.abspath(sys.argv[1])
WEB = os.path.join(ROOT, "tests/browser")


def serve(www, port, cert, key):
    """HTTPS static server for the WIC page (a thread; dies with us)."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=www)  # noqa: E731

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, *a):
            pass
    httpd = Quiet(("127.0.0.1", port), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    threading.Thread(target=httpd.serve_forever, daemon=True).start()


def main():
    if not tap.result(os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
                      "npm packages installed (deploy/install-deps.sh)"):
        return
    kam = lab.kamailio()
    if not tap.result(kam is not None, "Kamailio started"):
        return
    page_port, bad_port = free_port(), free_port()
    origin = "https://127.0.0.1:%d" % page_port
    ports = lab.ep_cscf(BIN, kam, [origin])
    if not tap.result(ports is not None, "ep-cscf started", lab.log("ep-cscf.log")[-1500:]):
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
    cert = os.path.join(lab.tmp, "state/tls/cert.pem")
    key = os.path.join(lab.tmp, "state/tls/key.pem")
    serve(www, page_port, cert, key)
    serve(www, bad_port, cert, key)

    step = os.path.join(lab.tmp, "step")
    node = subprocess.Popen(["node", os.path.join(WEB, "wic_register.mjs"),
                             "%s/wic.html" % origin, "https://localhost:%d/wic.html" % bad_port,
                             "wss://127.0.0.1:%d" % ports["wss"], step],
                            stdout=subprocess.PIPE, text=True, cwd=WEB)
    # Send the MESSAGE when the page is registered and waiting for it.
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(step) and node.poll() is None:
        time.sleep(0.1)
    if os.path.exists(step):
        rc = lab.sipp_message(kam, 200, "alice", 15)
        tap.result(rc == 0, "SIPp's MESSAGE to the browser gets 200 OK", "sipp exit %d" % rc)
    try:
        out, _ = node.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        node.kill()
        out, _ = node.communicate()
    # Re-number the browser's own TAP lines into ours.
    for line in out.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            ok = line.startswith("ok ")
            tap.result(ok, line.split(" - ", 1)[1] if " - " in line else line)
        elif line.startswith("#"):
            print(line)
    tap.result(node.returncode == 0, "browser driver exited cleanly", "exit %s" % node.returncode)
    lab.stop_ep_cscf(tap)


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)

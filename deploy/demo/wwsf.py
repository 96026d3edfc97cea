#!/usr/bin/python3
"""A small demo WWSF (the web server that serves WIC pages and vouches for
its users, TR 23.701 A.2.1.3): HTTPS, a sign-in form for the
demo accounts (deploy/demo/accounts.json, scrypt-hashed passwords) and a
guest sign-in that grants an IMPU from the WWSF's range, short-lived ES256
tokens for the eP-CSCF (wwsf_tokens.py), its JWKS at /jwks.json and in
<state>/jwks.json (the file the eP-CSCF's `wwsf ... jwks=` reads), and the
WIC page: JsSIP registering over WSS with the token (authorization_jwt).

  /usr/bin/python3 deploy/demo/wwsf.py --state_dir=build/demo/wwsf [--prepare]

--prepare makes what is missing in the state directory (certificate,
signing key, JWKS, the JsSIP bundle), prints the value of the eP-CSCF's
`wwsf` setting that trusts this WWSF (its name, origins, issuer, JWKS file,
the IMPUs of its accounts, its guest range and WAF) and exits, so that the
eP-CSCF can be started with the JWKS before the WWSF serves.  Logs logfmt lines on
stderr; tokens and keys are never logged.  SIGTERM or SIGINT stops it.

Routes:
  GET  /              sign-in page          POST /signin   user, password
  POST /guest         guest sign-in         POST /signout
  GET  /wic.html      the WIC page (signed-in only)
  POST /token         {"token", "exp", "impu", "impi", "wss", ...} for the
                      session (same-origin POST only)
  GET  /jwks.json     the WWSF's JWK Set    GET  /healthz"""
import argparse
import http.cookies
import http.server
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from wwsf_accounts import Accounts  # noqa: E402
from wwsf_identity import Identity  # noqa: E402
from wwsf_tokens import Issuer  # noqa: E402

WWW = os.path.join(HERE, "www")
SESSION_SECS = 8 * 3600
MAX_BODY = 4096
STATIC = {"/wwsf.css": "text/css; charset=utf-8", "/wic.js": "text/javascript; charset=utf-8"}


def log(level, msg, **kv):
    """One logfmt line on stderr."""
    def q(v):
        # Values may come from the network: quotes, backslashes and control
        # characters escaped, so that one event stays one line.
        v = "".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in str(v))
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"') if (
            not v or any(c in v for c in ' ="\\')) else v
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
    fields = " ".join("%s=%s" % (k, q(v)) for k, v in kv.items())
    sys.stderr.write("ts=%s level=%s sub=wwsf msg=%s %s\n" % (ts, level, q(msg), fields))
    sys.stderr.flush()


def bundle_jssip(out):
    """Bundles JsSIP for the browser (esbuild, as tests/browser does) unless
    the bundle is newer than the installed JsSIP package."""
    web = os.path.join(ROOT, "tests", "browser", "node_modules")
    src = os.path.join(web, "jssip", "lib", "JsSIP.js")
    pkg = os.path.join(web, "jssip", "package.json")
    if not os.path.exists(src):
        raise RuntimeError("JsSIP is not installed (%s); run deploy/install-deps.sh" % src)
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(pkg):
        return False
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run([os.path.join(web, ".bin", "esbuild"), src, "--bundle", "--format=iife",
                        "--global-name=JsSIP", "--minify", "--log-level=warning",
                        "--outfile=" + out + ".tmp"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("esbuild failed: " + r.stderr.strip())
    os.replace(out + ".tmp", out)
    return True


class Sessions:
    """Signed-in browsers: random session id -> identity, for SESSION_SECS."""

    def __init__(self, accounts):
        self._v = {}
        self._lock = threading.Lock()
        self._accounts = accounts

    def new(self, ident):
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sweep()
            self._v[sid] = (ident, time.time() + SESSION_SECS)
        return sid

    def get(self, sid):
        with self._lock:
            s = self._v.get(sid) if sid else None
            return s[0] if s and s[1] > time.time() else None

    def drop(self, sid):
        with self._lock:
            s = self._v.pop(sid, None) if sid else None
        if s:
            self._accounts.release_guest(s[0])

    def _sweep(self):
        now = time.time()
        for sid in [k for k, (_, exp) in self._v.items() if exp <= now]:
            self._accounts.release_guest(self._v.pop(sid)[0])


class Wwsf:
    """The WWSF's state, shared by the request handlers (the server's root)."""

    def __init__(self, a):
        self.a = a
        self.cookie = "__Host-wwsf-" + a.name
        self.identity = Identity(a.state_dir, urllib.parse.urlsplit(a.origin).hostname)
        self.accounts = Accounts(a.accounts, a.guest_range)
        self.sessions = Sessions(self.accounts)
        self.issuer = None
        self.jssip = os.path.join(self.identity.state_dir, "www", "jssip.js")

    def epcscf_wwsf_line(self):
        """The eP-CSCF's `wwsf` value for this WWSF (ep-cscf/wwsf_policy.h)."""
        impus = sorted({u["impu"] for u in self.accounts.users.values()})
        line = "%s origins=%s issuer=%s jwks=%s impus=%s wafs=%s" % (
            self.a.name, ",".join(self.a.origins), self.a.issuer, self.identity.jwks_path,
            ",".join(impus), self.a.waf)
        return line + (" ranges=%s" % self.a.guest_range if self.a.guest_range else "")

    def prepare(self):
        self.identity.load()
        if bundle_jssip(self.jssip):
            self.identity.made.append("jssip bundle")
        self.issuer = Issuer(self.identity, self.a.issuer, self.a.audience, self.a.name,
                             self.a.waf, self.a.token_ttl)


class Handler(http.server.BaseHTTPRequestHandler):
    def version_string(self):
        return "demo-wwsf"
    protocol_version = "HTTP/1.1"

    @property
    def w(self):
        return self.server.wwsf

    def log_message(self, fmt, *args):  # requests are logged by route, below
        pass

    # --- responses -------------------------------------------------------
    def send(self, status, body=b"", ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "same-origin")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; connect-src 'self' %s; frame-ancestors 'none'; "
                         "form-action 'self'" % self.w.a.wss)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, where, headers=()):
        self.send(303, b"", headers=[("Location", where)] + list(headers))

    def send_file(self, path, ctype):
        with open(path, "rb") as f:
            self.send(200, f.read(), ctype)

    def send_index(self, query):
        with open(os.path.join(WWW, "index.html"), "rb") as f:
            page = f.read()
        note = b""
        if "failed" in query:
            note = b'<p id="error" class="error">Wrong user name or password.</p>'
        elif "noguest" in query:
            note = b'<p id="error" class="error">This site offers no guest sign-in.</p>'
        self.send(200, page.replace(b"<!--STATUS-->", note), "text/html; charset=utf-8")

    def send_json(self, status, doc, ctype="application/json"):
        self.send(status, json.dumps(doc).encode(), ctype)

    def set_cookie(self, sid, max_age):
        return ("Set-Cookie", "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d"
                % (self.w.cookie, sid, max_age))

    # --- requests --------------------------------------------------------
    def session_id(self):
        c = http.cookies.SimpleCookie()
        try:
            c.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return None
        m = c.get(self.w.cookie)
        return m.value if m else None

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        if not 0 <= n <= MAX_BODY:
            raise ValueError("body too large")
        body = self.rfile.read(n).decode("utf-8", "replace")
        return {k: v[0] for k, v in urllib.parse.parse_qs(body, max_num_fields=8).items()}

    def same_origin(self):
        """A state-changing POST must come from a page of this origin."""
        return self.headers.get("Origin") in self.w.a.origins

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/":
            if self.w.sessions.get(self.session_id()):
                return self.redirect("/wic.html")
            return self.send_index(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
        if path == "/wic.html":
            if not self.w.sessions.get(self.session_id()):
                return self.redirect("/")
            return self.send_file(os.path.join(WWW, "wic.html"), "text/html; charset=utf-8")
        if path in STATIC:
            return self.send_file(os.path.join(WWW, path[1:]), STATIC[path])
        if path == "/jssip.js":
            return self.send_file(self.w.jssip, "text/javascript; charset=utf-8")
        if path == "/jwks.json":
            return self.send_json(200, self.w.identity.jwks(), "application/jwk-set+json")
        if path == "/favicon.ico":
            return self.send(204)
        if path == "/healthz":
            return self.send(200, b"ok\n")
        self.send(404, b"not found\n")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path not in ("/signin", "/guest", "/signout", "/token"):
            return self.send(404, b"not found\n")
        try:
            form = self.form()
        except ValueError:
            return self.send(413, b"too large\n")
        if not self.same_origin():
            log("warn", "cross-origin POST refused", path=path,
                origin=self.headers.get("Origin", "(none)"), peer=self.client_address[0])
            return self.send(403, b"cross-origin request refused\n")
        if path == "/signin":
            ident = self.w.accounts.sign_in(form.get("user", ""), form.get("password", ""))
            if not ident:
                log("info", "sign-in refused", user=form.get("user", "")[:64],
                    peer=self.client_address[0])
                return self.redirect("/?failed=1")
            return self.signed_in(ident)
        if path == "/guest":
            ident = self.w.accounts.guest()
            if not ident:
                return self.redirect("/?noguest=1")
            return self.signed_in(ident)
        sid = self.session_id()
        if path == "/signout":
            self.w.sessions.drop(sid)
            return self.redirect("/", [self.set_cookie("", 0)])
        ident = self.w.sessions.get(sid)
        if not ident:
            return self.send_json(401, {"error": "not signed in"})
        tok, claims = self.w.issuer.issue(ident)
        log("info", "token issued", user=ident["user"], impu=claims["impu"], jti=claims["jti"],
            exp=claims["exp"], kid=self.w.identity.kid)
        self.send_json(200, {"token": tok, "exp": claims["exp"], "iat": claims["iat"],
                             "impu": claims["impu"], "impi": claims["impi"],
                             "user": ident["user"], "guest": ident["guest"],
                             "wss": self.w.a.wss, "wwsf": self.w.a.name})

    def signed_in(self, ident):
        self.w.sessions.drop(self.session_id())  # a new sign-in ends the old session
        sid = self.w.sessions.new(ident)
        log("info", "signed in", user=ident["user"], impu=ident["impu"],
            guest="yes" if ident["guest"] else "no", peer=self.client_address[0])
        self.redirect("/wic.html", [self.set_cookie(sid, SESSION_SECS)])


class Server(http.server.ThreadingHTTPServer):
    """HTTPS; the TLS handshake runs in the request's thread, so that a slow
    client cannot stall the accept loop."""
    daemon_threads = True

    def __init__(self, addr, wwsf):
        self.wwsf = wwsf
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.tls.load_cert_chain(wwsf.identity.cert_path, wwsf.identity.tls_key_path)
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if not isinstance(e, (ConnectionError, socket.timeout, ssl.SSLError)):
            log("error", "request failed", peer=client_address[0], error=repr(e))


def args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="demo",
                   help="the WWSF's name: the eP-CSCF's `wwsf NAME` and the 3gpp-wwsf claim (demo)")
    p.add_argument("--listen", default="127.0.0.1:8080", help="HTTPS address (127.0.0.1:8080)")
    p.add_argument("--origin", action="append", dest="origins", metavar="ORIGIN",
                   help="an origin of its pages, repeatable; the first is its URL (https://LISTEN, "
                   "and https://localhost:PORT when LISTEN is 127.0.0.1)")
    p.add_argument("--issuer", help="the iss claim (the first origin)")
    p.add_argument("--audience", default="sip:ep-cscf.ims.test",
                   help="the aud claim: the eP-CSCF's auth.audience (sip:ep-cscf.ims.test)")
    p.add_argument("--waf", default="demo-wic", help="the 3gpp-waf claim (demo-wic)")
    p.add_argument("--wss", default="wss://127.0.0.1:8443",
                   help="the eP-CSCF's SIP over WSS URL (wss://127.0.0.1:8443)")
    p.add_argument("--guest_range", dest="guest_range", default="sip:guest-*@ims.test",
                   help="IMPU range for guests, one '*' (sip:guest-*@ims.test; empty: no guests)")
    p.add_argument("--token_ttl", dest="token_ttl", type=int, default=300,
                   help="token lifetime in seconds (300)")
    p.add_argument("--accounts", default=os.path.join(HERE, "accounts.json"),
                   help="accounts file (deploy/demo/accounts.json)")
    p.add_argument("--state_dir", dest="state_dir", default=os.path.join(ROOT, "build/demo/wwsf"),
                   help="certificate, signing key, JWKS, JsSIP bundle (build/demo/wwsf)")
    p.add_argument("--prepare", action="store_true",
                   help="make what is missing in the state directory, print the eP-CSCF's "
                   "wwsf setting for this WWSF, exit")
    a = p.parse_args()
    host, _, port = a.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        p.error("--listen: HOST:PORT expected")
    a.addr = (host, int(port))
    if not a.origins:
        a.origins = ["https://%s" % a.listen]
        if host == "127.0.0.1":
            a.origins.append("https://localhost:%s" % port)
    a.origins = [o.rstrip("/") for o in a.origins]
    a.origin = a.origins[0]
    a.issuer = a.issuer or a.origin
    if not 10 <= a.token_ttl <= 3600:
        p.error("--token_ttl: 10 to 3600 seconds")
    return a


def main():
    a = args()
    try:
        w = Wwsf(a)
        w.prepare()
    except (OSError, ValueError, RuntimeError) as e:
        log("error", "cannot start", error=str(e))
        return 2
    if w.identity.made:
        log("info", "generated", what=",".join(w.identity.made), state_dir=w.identity.state_dir)
    if a.prepare:
        print(w.epcscf_wwsf_line())
        return 0
    try:
        srv = Server(a.addr, w)
    except OSError as e:
        log("error", "cannot listen", listen=a.listen, error=str(e))
        return 2

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("info", "started", wwsf=a.name, url=a.origin + "/", issuer=a.issuer, kid=w.identity.kid,
        jwks=w.identity.jwks_path, guest_range=a.guest_range or "(none)", token_ttl=a.token_ttl)
    srv.serve_forever()
    srv.server_close()
    log("info", "stopped", wwsf=a.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

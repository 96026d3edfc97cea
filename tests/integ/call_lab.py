#!/usr/bin/python3
"""The lab of the end-to-end call tests: Kamailio (IMS core stand-in, its
"uas" user routed to a SIPp UAS), ep-cscf with media anchoring, and one or
more eims-agw registered over Iq+ with mutual TLS, certificate
fingerprints pinned both ways (as deploy/run-demo.sh does)."""
import http.server
import os
import random
import socket
import ssl
import subprocess
import threading
import time

from harness import ROOT, cert_fingerprint, free_port, metric_value, wait_log


def prepare_agw(lab, bindir, name):
    """Runs the AGW's --check-config once: its Iq+ certificate exists then.
    Returns its SHA-256 fingerprint."""
    state = os.path.join(lab.tmp, name)
    subprocess.run([os.path.join(bindir, "eims-agw"), "--check-config", "--state_dir=" + state,
                    "--node_id=" + name],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return cert_fingerprint(os.path.join(state, "iq", "tls", "cert.pem"))


def start_agw(lab, bindir, name, iq_port, ep_fp, w3_ip, agw_extra=()):
    """Starts eims-agw `name` toward the eP-CSCF; returns the process once
    it logged its start, else None."""
    # Below the kernel's ephemeral range (32768-60999) and the AGW's default
    # range (20000-39999, other AGWs on this machine), where nothing binds
    # by chance (SIPp and the tests' own sockets take ephemeral ports).
    lo = 10000 + random.randrange(0, 4800) * 2
    if not hasattr(lab, "agw_metrics"):
        lab.agw_metrics = {}
    lab.agw_metrics[name] = free_port()
    return lab.daemon(bindir, "eims-agw", name + ".log", [
        "--state_dir=%s/%s" % (lab.tmp, name), "--node_id=" + name,
        "--metrics.listen=127.0.0.1:%d" % lab.agw_metrics[name],
        "--iq.controllers=127.0.0.1:%d" % iq_port, "--iq.trusted_fingerprints=" + ep_fp,
        "--iq.realm=w3=%s ims=127.0.0.1" % w3_ip, "--media.port_min=%d" % lo,
        "--media.port_max=%d" % (lo + 199), "--log.level=info,media=debug"] + list(agw_extra))


def start(lab, tap, bindir, origins, uas_port, w3_ip, agws=("agw-1",), extra="", ims_port=None,
          agw_extra=(), ep_ims_port=None):
    """Kamailio (or, with ims_port, whatever listens there), ep-cscf (its
    IMS port ep_ims_port when given) and the AGWs, each registered
    (agw_extra: arguments for all, or per name).  Returns the eP-CSCF's
    ports (dict, with "kam" and "agws": {name: process}) or None."""
    kam = ims_port or lab.kamailio(uas_port=uas_port)
    if not ims_port:
        tap.result(kam is not None, "kamailio (IMS core stand-in) starts")
    if not kam:
        return None
    fps = {n: prepare_agw(lab, bindir, n) for n in agws}
    pins = "".join("iq.trusted_fingerprints = %s\n" % fp for fp in fps.values())
    ports = lab.ep_cscf(bindir, kam, origins, pins + extra, ims_port=ep_ims_port)
    tap.result(ports is not None, "ep-cscf starts (media anchoring, Iq+ over TLS)")
    if not ports:
        return None
    ep_fp = cert_fingerprint(os.path.join(lab.tmp, "state", "iq", "tls", "cert.pem"))
    ports["kam"] = kam
    ports["agws"] = {}
    for n in agws:
        more = agw_extra.get(n, []) if isinstance(agw_extra, dict) else agw_extra
        p = start_agw(lab, bindir, n, ports["iq"], ep_fp, w3_ip, more)
        ok = p is not None and wait_log(os.path.join(lab.tmp, "ep-cscf.log"),
                                        'msg="iq agw registered" node_id=%s' % n, 15)
        tap.result(ok, "%s registers with the eP-CSCF over mutual TLS (pinned)" % n)
        if not ok:
            return None
        ports["agws"][n] = p
    return ports


def media_port():
    """An even port with the next three free on UDP (SIPp's -mp: audio RTP
    and RTCP, video RTP and RTCP at +2)."""
    for _ in range(200):
        base = free_port(socket.SOCK_DGRAM) & ~1
        socks = []
        try:
            for i in range(4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no four free UDP ports in a row")


def sipp_echo_uas(lab, uas_port, scenario="invite_uas.xml", subst=None, name="uas"):
    """The far end with RTP echo (-rtp_echo on its media port)."""
    with open(os.path.join(ROOT, "tests/sipp", scenario)) as f:
        text = f.read()
    subst = dict(subst or {"IS486": "0", "UASBYE": "0"})
    text = text.replace("VIDEO\n", subst.pop("VIDEO", ""))
    for k, v in subst.items():
        text = text.replace(k, v)
    scen = os.path.join(lab.tmp, "%s.xml" % name)
    with open(scen, "w") as f:
        f.write(text)
    return subprocess.Popen(
        ["sipp", "-sf", scen, "-i", "127.0.0.1", "-p", str(uas_port), "-m", "1",
         "-mi", "127.0.0.1", "-mp", str(media_port()), "-rtp_echo",
         "-timeout", "40s", "-timeout_error", "-nostdin", "-trace_err",
         "-error_file", os.path.join(lab.tmp, name + "_err.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=lab.tmp, start_new_session=True)


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


def check_nothing_left(lab, tap, ports, names=None):
    """After the calls: no call left in ep-cscf's table and no context on
    any AGW still running (each call's context released, none leaked)."""
    deadline = time.time() + 40  # Timer H/L/M: ended calls linger 32 s
    calls = ctx = None
    while time.time() < deadline:
        calls = metric_value(ports["metrics"], "epcscf_calls")
        ctx = {n: metric_value(lab.agw_metrics[n], "eimsagw_media_contexts")
               for n in (names or ports["agws"])}
        if calls == 0 and all(v == 0 for v in ctx.values()):
            break
        time.sleep(0.5)
    tap.result(all(v == 0 for v in ctx.values()), "no media context left on the AGWs", str(ctx))
    tap.result(calls == 0, "no call left in ep-cscf's dialog table", "epcscf_calls %s" % calls)

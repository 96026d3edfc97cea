"""Shared pieces of the Python integration tests: TAP result lines, free
ports, processes started in their own session and killed by PID group, and
the IMS core stand-in (Kamailio) and ep-cscf started on free ports; daemons
started with command-line settings, metric values, certificate
fingerprints."""
import asyncio
import faulthandler
import glob
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, *detail):
        self.n += 1
        if ok:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            for d in detail:
                print("#   %s" % d, flush=True)
        return ok


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port free now; for SIP (SOCK_DGRAM) free for both UDP and
    TCP, since SIP listeners take the same port on both."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        if kind == socket.SOCK_DGRAM:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                t.bind(("127.0.0.1", p))
            except OSError:
                s.close()
                continue
            finally:
                t.close()
        s.close()
        return p
    raise RuntimeError("no free port")


def wait_log(path, text, secs=10):
    end = time.time() + secs
    while time.time() < end:
        with open(path, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def metric_value(port, series):
    """Value of one exposition line, e.g. 'x_total{event="lost"}'; None if absent."""
    for line in metrics(port).splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def cert_fingerprint(path):
    """SHA-256 fingerprint "AB:CD:..." of a PEM certificate, as the daemons log it."""
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def sanitizer_lines(text):
    # "media page pool leak": eims-agw's own report of objects its page
    # pool still had handed out at exit (ASan sees only the pool's blocks).
    return [l for l in text.splitlines()
            if "Sanitizer" in l or "runtime error" in l or "media page pool leak" in l]


# Every Lab of this process, for the watchdog below.
LABS = []


def on_sigterm(signum, frame):
    """tests/run-all.sh stops a suite that outlives its time limit with
    SIGTERM: say where it was stuck (every thread's stack, every asyncio
    task's), show the tail of each log the suite's processes wrote, kill
    those processes and exit 124, so a hang is a failure with a reason
    rather than a CI run that never ends."""
    # run-all.sh counts the failure; this says where.
    print("# stopped by SIGTERM (the suite's time limit in tests/run-all.sh)", flush=True)
    faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
    try:
        for t in asyncio.all_tasks(asyncio.get_running_loop()):
            print("# asyncio task %r" % t, flush=True)
            t.print_stack(file=sys.stdout)
    except RuntimeError:
        pass  # no loop running
    for lab in LABS:
        lab.kill_all()
        for path in sorted(glob.glob(os.path.join(lab.tmp, "*.log"))):
            with open(path, errors="replace") as f:
                tail = f.read().splitlines()[-15:]
            print("# --- last lines of %s" % path)
            for line in tail:
                print("#   " + line)
        print("# logs kept in %s" % lab.tmp)
    sys.stdout.flush()
    os._exit(124)


signal.signal(signal.SIGTERM, on_sigterm)


class Lab:
    """Processes of one test run, all under one temporary directory."""

    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.procs = []
        LABS.append(self)

    def kill_all(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def start(self, cmd, log, **kw):
        f = open(os.path.join(self.tmp, log), "w")
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.tmp, name), errors="replace") as f:
            return f.read()

    def daemon(self, bindir, prog, log, args, ready="msg=started", secs=15):
        """Starts ep-cscf or eims-agw with command-line settings; returns the
        process once `ready` is in its log, else None."""
        p = self.start([os.path.join(bindir, prog)] + list(args), log)
        return p if wait_log(os.path.join(self.tmp, log), ready, secs) else None

    def stop_daemon(self, tap, proc, name, log):
        """SIGTERM: expects exit 0 and no sanitizer report in the log."""
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = "timeout"
        tap.result(rc == 0, "%s stops on SIGTERM with exit 0" % name, "exit %s" % rc)
        bad = sanitizer_lines(self.log(log))
        tap.result(not bad, "no sanitizer or leak report in %s" % name, *bad[:5])

    def kamailio(self, uas_port=None, tls=None, tna_peer=None, range_expires=None):
        """Starts the IMS core stand-in (requests for sip:uas@ims.test go to
        127.0.0.1:uas_port when given); returns its UDP port.  tls: a dict
        with its certificate "cert", "key" and the PEM "trust" it verifies
        peers against; its TLS port is then self.kam_tls_port.
        range_expires: the longest lifetime of a wildcarded registration."""
        port = free_port(socket.SOCK_DGRAM)
        rundir = os.path.join(self.tmp, "kam")
        os.makedirs(rundir, exist_ok=True)
        defs = ["-A", "KAM_IP=127.0.0.1", "-A", "KAM_PORT=%d" % port]
        if uas_port:
            defs += ["-A", "UAS_PORT=%d" % uas_port]
        if tls:
            self.kam_tls_port = free_port()
            cfg = os.path.join(rundir, "tls.cfg")
            side = ("method = TLSv1.2+\nverify_certificate = yes\nrequire_certificate = yes\n"
                    "certificate = %s\nprivate_key = %s\nca_list = %s\n" % (tls["cert"], tls["key"], tls["trust"]))
            with open(cfg, "w") as f:
                f.write("[server:default]\n%s\n[client:default]\n%s" % (side, side))
            defs += ["-A", "KAM_TLS_PORT=%d" % self.kam_tls_port, "-A", 'KAM_TLS_CFG="%s"' % cfg]
        if tna_peer:  # "ip:port" trusted for TNA REGISTERs
            defs += ["-A", 'TNA_PEER="%s"' % tna_peer]
        if range_expires:
            defs += ["-A", "RANGE_EXPIRES=%d" % range_expires]
        self.start(["kamailio", "-f", os.path.join(ROOT, "tests/kamailio/ims-core.cfg"), "-DD", "-E",
                    "-Y", rundir] + defs, "kamailio.log")
        ok = wait_log(os.path.join(self.tmp, "kamailio.log"), "SO_RCVBUF is finally", 10)
        return port if ok else None

    def ep_cscf(self, bindir, kam_port, origins, extra="", ims_port=None):
        """Starts ep-cscf toward Kamailio; returns dict of its ports or None."""
        ports = {"metrics": free_port(), "wss": free_port(),
                 "ims": ims_port or free_port(socket.SOCK_DGRAM), "iq": free_port()}
        conf = os.path.join(self.tmp, "ep-cscf.conf")
        with open(conf, "w") as f:
            f.write("state_dir = %s/state\n" % self.tmp)
            f.write("metrics.listen = 127.0.0.1:%d\n" % ports["metrics"])
            f.write("sip.wss.listen = 127.0.0.1:%d\n" % ports["wss"])
            f.write("ims.listen = 127.0.0.1:%d\n" % ports["ims"])
            f.write("ims.next_hop = 127.0.0.1:%d\n" % kam_port)
            f.write("iq.listen = 127.0.0.1:%d\n" % ports["iq"])
            f.write("wwsf = test origins=%s\n" % ",".join(origins))
            f.write("log.level = info,sip=%s,ws=debug\n" % os.environ.get("SIP_LOG", "debug"))
            f.write(extra)
        self.ep = self.start([os.path.join(bindir, "ep-cscf"), "-c", conf], "ep-cscf.log")
        ok = wait_log(os.path.join(self.tmp, "ep-cscf.log"), "msg=started", 15)
        return ports if ok else None

    def sipp_message(self, kam_port, expected, user="alice", timeout_s=10):
        """A SIP user (SIPp) sends MESSAGE to user@ims.test through the IMS
        core at kam_port and expects the final response `expected`.
        Returns SIPp's exit code (0: got it)."""
        scen = os.path.join(self.tmp, "message_%d.xml" % expected)
        with open(os.path.join(ROOT, "tests/sipp/message_uac.xml")) as f:
            text = f.read().replace("EXPECTED", str(expected))
        with open(scen, "w") as f:
            f.write(text)
        r = subprocess.run(["sipp", "127.0.0.1:%d" % kam_port, "-sf", scen, "-s", user, "-m", "1",
                            "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)),
                            "-timeout", "%ds" % timeout_s, "-timeout_error", "-nostdin",
                            "-trace_err", "-error_file", os.path.join(self.tmp, "sipp_err.log")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=self.tmp,
                           timeout=timeout_s + 20)
        return r.returncode

    def stop_ep_cscf(self, tap):
        self.ep.send_signal(signal.SIGTERM)
        try:
            rc = self.ep.wait(10)
        except subprocess.TimeoutExpired:
            rc = "timeout"
        tap.result(rc == 0, "ep-cscf stops on SIGTERM with exit 0", "exit %s" % rc)
        bad = [l for l in self.log("ep-cscf.log").splitlines()
               if "Sanitizer" in l or "runtime error" in l]
        tap.result(not bad, "no sanitizer or leak report in ep-cscf", *bad[:5])

    def close(self, tap):
        # Called from `finally`: an exception on its way up (a suite that
        # crashed) keeps the logs like a failure does.
        crashed = sys.exc_info()[0] is not None
        self.kill_all()
        if tap.failed or crashed or os.environ.get("KEEP_LOGS"):
            print("# logs kept in %s" % self.tmp)
        else:
            subprocess.run(["rm", "-rf", self.tmp])
        sys.stdout.flush()
        if crashed:
            # Exit now: a normal exit waits for every non-daemon thread,
            # and a peer left open (aiortc's decoder threads wait on
            # their queues forever) would hang the suite.
            print("not ok - the suite stopped on an exception:", flush=True)
            traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
            os._exit(1)

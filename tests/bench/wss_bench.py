#!/usr/bin/python3
"""Issue 6 benchmark: ep-cscf beside Kamailio 5.6's websocket module, SIP
over WSS, same machine, same run, same load client (bench_wss_load).

For each server it measures, on a freshly started server each time:
  1. memory per idle registered WSS connection: PSS summed over the
     server's processes (/proc/PID/smaps_rollup) before and after opening N
     connections that each register (REGISTER, 401, REGISTER with digest,
     200) and then stay idle; N = --small and --conns;
  2. server CPU per WSS connection set-up (TCP + TLS + WebSocket upgrade):
     utime+stime (/proc/PID/stat, summed over processes) across opening
     --conns connections with up to --inflight handshakes in flight, and
     the failures; and again with all --conns started at once (--burst);
  3. server CPU seconds per 1,000 REGISTERs in a closed loop over the open
     connections (--loop REGISTERs, --loop-concurrency outstanding, digest
     credentials reused; same client, message and concurrency for both).
     For ep-cscf each REGISTER is forwarded to the IMS core stand-in
     (Kamailio, tests/kamailio/ims-core.cfg) whose CPU is reported apart.

Servers: ep-cscf (its generated ECDSA P-256 certificate), kamailio (the same
certificate and key; tests/bench/kamailio-wss.cfg), kamailio-rsa (an
RSA-2048 certificate, for the record), and optionally ep-cscf-rsa.
Everything listens on 127.0.0.1 on free ports; every process started is
stopped by its PID (process group) at the end.  Not a test: not in
tests/run-all.sh.

usage: wss_bench.py [--builddir DIR] [--servers ep-cscf,kamailio,kamailio-rsa]
                    [--conns 10000] [--small 1000] [--inflight 100] [--burst]
                    [--loop 50000] [--loop-concurrency 200] [--json FILE]
  DIR holds bin/ep-cscf and tests/bench/bench_wss_load
  (make BUILDDIR=X bins benches: DIR is X/release)."""
import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ORIGIN = "https://bench.test"
TICK = os.sysconf("SC_CLK_TCK")


GIVEN = set()  # ports handed out in this run: never twice


def free_port(kind=socket.SOCK_STREAM):
    while True:
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p not in GIVEN:
            GIVEN.add(p)
            return p


def free_port_tcp_udp():
    """A port free for both TCP and UDP (ep-cscf's ims.listen takes both)."""
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if port in GIVEN:
                continue
            t.bind(("127.0.0.1", port))
            GIVEN.add(port)
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no port free for both TCP and UDP")


def group_pids(pgid):
    """PIDs whose process group is pgid (Kamailio forks its workers)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:
            out.append(int(d))
    return out


def cpu_s(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        t += int(fields[11]) + int(fields[12])  # utime, stime
    return t / TICK


def pss_kib(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        t += int(line.split()[1])
                        break
        except OSError:
            pass
    return t


def machine_busy_s():
    """CPU seconds all processes of the machine have used (from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / TICK  # all but idle and iowait


def established(port):
    r = subprocess.run(["ss", "-Htn", "state", "established", "sport = :%d" % port],
                       capture_output=True, text=True)
    return len(r.stdout.splitlines())


def wait_log(path, text, secs=15):
    end = time.time() + secs
    while time.time() < end:
        with open(path, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Lab:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self, cmd, log):
        f = open(os.path.join(self.tmp, log), "w")
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=no_core, cwd=self.tmp)
        self.procs.append(p)
        return p

    def stop(self, p):
        """SIGTERM to the process group the PID leads, SIGKILL after 15 s."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # stragglers of the group
        except ProcessLookupError:
            pass
        p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


class Server:
    """One server under test, freshly started: pids() to sample, port."""

    def __init__(self, lab, kind, cert, key, bindir, tag, ping=180, extra=""):
        self.lab, self.kind = lab, kind
        self.standin = None
        self.port = free_port()
        d = os.path.join(lab.tmp, tag)
        os.makedirs(d, exist_ok=True)
        if kind == "ep-cscf":
            # Kamailio listens on both TCP and UDP there: a port free for
            # UDP only (an earlier phase's connections hold many TCP
            # ports) made it exit after logging its UDP start.
            ims_port = free_port_tcp_udp()
            rundir = os.path.join(d, "ims")
            os.makedirs(rundir, exist_ok=True)
            self.standin = lab.start(["kamailio", "-f", os.path.join(ROOT, "tests/kamailio/ims-core.cfg"),
                                      "-DD", "-E", "-Y", rundir, "-A", "KAM_IP=127.0.0.1",
                                      "-A", "KAM_PORT=%d" % ims_port], tag + "/ims-core.log")
            if not wait_log(os.path.join(d, "ims-core.log"), "SO_RCVBUF is finally"):
                raise RuntimeError("IMS core stand-in did not start: see %s" % d)
            time.sleep(1)
            if self.standin.poll() is not None:
                raise RuntimeError("IMS core stand-in exited at start: see %s" % d)
            conf = os.path.join(d, "ep-cscf.conf")
            with open(conf, "w") as f:
                f.write("state_dir = %s\n" % os.path.join(lab.tmp, "state"))
                if cert:
                    f.write("tls.cert = %s\ntls.key = %s\n" % (cert, key))
                f.write("metrics.listen = 127.0.0.1:%d\n" % free_port())
                # Not the default 7190: another ep-cscf on the machine
                # (a demo) would make this one exit at start.
                f.write("iq.listen = 127.0.0.1:%d\n" % free_port())
                f.write("sip.wss.listen = 127.0.0.1:%d\n" % self.port)
                f.write("ims.listen = 127.0.0.1:%d\n" % free_port_tcp_udp())
                f.write("ims.next_hop = 127.0.0.1:%d\n" % ims_port)
                f.write("wwsf = bench origins=%s\n" % ORIGIN)
                f.write("ws.max_flows_per_ip = 20000\nws.max_connections = 20000\n")
                # Kamailio's websocket keep-alive default (180 s): no pings
                # during the measurements on either side.
                f.write("ws.ping_interval = %d\n" % ping)
                f.write(extra)
            self.proc = lab.start([os.path.join(bindir, "bin", "ep-cscf"), "-c", conf],
                                  tag + "/ep-cscf.log")
            if not wait_log(os.path.join(d, "ep-cscf.log"), "msg=started"):
                raise RuntimeError("ep-cscf did not start: see %s" % d)
        else:
            rundir = os.path.join(d, "run")
            os.makedirs(rundir, exist_ok=True)
            self.proc = lab.start(["kamailio", "-f", os.path.join(ROOT, "tests/bench/kamailio-wss.cfg"),
                                   "-DD", "-E", "-Y", rundir, "-m", "2048", "-M", "32",
                                   "-A", "KAM_IP=127.0.0.1", "-A", "WSS_PORT=%d" % self.port,
                                   "-A", 'TLS_CERT="%s"' % cert, "-A", 'TLS_KEY="%s"' % key,
                                   "-A", 'WS_ORIGIN="%s"' % ORIGIN], tag + "/kamailio.log")
            if not wait_log(os.path.join(d, "kamailio.log"), "Server MAY present invalid"):
                raise RuntimeError("Kamailio did not start: see %s" % d)
        time.sleep(2)  # workers forked and idle
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited at start: see %s" % (kind, d))

    def pids(self):
        return group_pids(self.proc.pid)

    def standin_pids(self):
        return group_pids(self.standin.pid) if self.standin else []

    def sample(self):
        p = self.pids()
        return {"cpu": cpu_s(p), "pss": pss_kib(p), "nproc": len(p),
                "standin_cpu": cpu_s(self.standin_pids()), "busy": machine_busy_s(),
                "t": time.time()}

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.lab.stop(self.proc)
        if self.standin:
            self.lab.stop(self.standin)


def kv(line):
    words = line.split()
    d = {"phase": words[0]}
    for w in words[1:]:
        k, _, v = w.partition("=")
        try:
            d[k] = float(v) if "." in v else int(v)
        except ValueError:
            d[k] = v
    return d


class Client:
    def __init__(self, bindir, port, conns, inflight, register, loop, args):
        cmd = [os.path.join(bindir, "tests", "bench", "bench_wss_load"), "--port=%d" % port,
               "--origin=%s" % ORIGIN, "--conns=%d" % conns, "--inflight=%d" % inflight,
               "--reg-concurrency=%d" % args.reg_concurrency, "--timeout=%d" % args.timeout,
               "--control"]
        if register:
            cmd.append("--register")
        if loop:
            cmd += ["--loop=%d" % loop, "--loop-concurrency=%d" % args.loop_concurrency]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  preexec_fn=no_core)
        self.expect("ready")

    def expect(self, phase):
        line = self.p.stdout.readline()
        if not line.startswith(phase):
            raise RuntimeError("load client: expected %s, got %r" % (phase, line))
        return kv(line)

    def go(self, phase):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        return self.expect(phase)

    def finish(self):
        self.go("closed")
        self.p.stdin.close()
        self.p.wait(60)


def others(a, b, phase):
    """Cores used by processes outside the benchmark during a phase (other
    work on the machine): all CPU minus server, stand-in and client."""
    ours = (b["cpu"] - a["cpu"]) + (b["standin_cpu"] - a["standin_cpu"]) + phase.get("client_cpu", 0)
    return max(0.0, (b["busy"] - a["busy"] - ours) / (b["t"] - a["t"]))


def run(lab, kind, cert, key, bindir, tag, conns, args, register, loop, inflight):
    srv = Server(lab, kind, cert, key, bindir, tag)
    r = {"server": tag, "conns": conns, "inflight": inflight}
    try:
        cl = Client(bindir, srv.port, conns, inflight, register, loop, args)
        s0 = srv.sample()
        r["connect"] = cl.go("connect")
        s1 = srv.sample()
        ok = r["connect"]["ok"]
        r["setup_cpu_s"] = s1["cpu"] - s0["cpu"]
        r["setup_ms"] = r["setup_cpu_s"] * 1000 / ok if ok else None
        r["failed"] = r["connect"]["failed"]
        r["others_connect"] = others(s0, s1, r["connect"])
        if register:
            r["register"] = cl.go("register")
            time.sleep(args.settle)
            s2 = srv.sample()
            r["established"] = established(srv.port)
            reg = r["register"]["ok"]
            r["pss_before_kib"], r["pss_after_kib"] = s0["pss"], s2["pss"]
            r["kib_per_conn"] = (s2["pss"] - s0["pss"]) / reg if reg else None
            r["nproc"] = s2["nproc"]
            if loop:
                s3 = srv.sample()
                r["loop"] = cl.go("loop")
                s4 = srv.sample()
                done = r["loop"]["ok"]
                r["loop_cpu_s"] = s4["cpu"] - s3["cpu"]
                r["others_loop"] = others(s3, s4, r["loop"])
                r["cpu_per_1000_reg"] = r["loop_cpu_s"] * 1000 / done if done else None
                if srv.standin:
                    r["standin_cpu_s"] = s4["standin_cpu"] - s3["standin_cpu"]
                    r["standin_per_1000_reg"] = r["standin_cpu_s"] * 1000 / done if done else None
        r["alive"] = srv.alive()
        cl.finish()
    finally:
        srv.stop()
    print("# %s" % json.dumps(r), flush=True)
    return r


def machine_info(bindir):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pkgs = out(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "kamailio", "libwebsockets17",
                "libssl3", "libuv1", "libsofia-sip-ua0"])
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": os.uname().release,
            "ep-cscf": out([os.path.join(bindir, "bin", "ep-cscf"), "--version"]),
            "packages": pkgs.replace("\n", ", ")}


def fmt(v, f="%.1f"):
    return "n/a" if v is None else f % v


def ratio(a, b):
    return "n/a" if a is None or not b else "%.2f" % (a / b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--builddir", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--servers", default="ep-cscf,kamailio,kamailio-rsa")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--inflight", type=int, default=100)
    ap.add_argument("--burst", action="store_true", help="also open --conns all at once")
    ap.add_argument("--reg-concurrency", type=int, default=200)
    ap.add_argument("--loop", type=int, default=50000)
    ap.add_argument("--loop-concurrency", type=int, default=200)
    # Idle means no transaction left: Timer K (T4, 5 s) has run out.
    ap.add_argument("--settle", type=float, default=8)
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=1, help="runs of everything; the table shows medians")
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.conns + 2000
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < want:
        sys.exit("wss_bench: open files limit %d < %d; raise the hard limit (ulimit -Hn)"
                 % (resource.getrlimit(resource.RLIMIT_NOFILE)[0], want))

    bindir = os.path.abspath(args.builddir)
    info = machine_info(bindir)
    for k, v in info.items():
        print("# %s: %s" % (k, v), flush=True)
    tmp = tempfile.mkdtemp(prefix="wss_bench.")
    lab = Lab(tmp)
    results = {}
    failed = True
    try:
        # The ECDSA P-256 certificate ep-cscf generates in its state_dir,
        # given to Kamailio too; an RSA-2048 one for the record.
        subprocess.run([os.path.join(bindir, "bin", "ep-cscf"), "--state_dir=%s/state" % tmp,
                        "--check-config"], check=True, stdout=subprocess.DEVNULL)
        ec_cert, ec_key = tmp + "/state/tls/cert.pem", tmp + "/state/tls/key.pem"
        rsa_cert, rsa_key = tmp + "/rsa-cert.pem", tmp + "/rsa-key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                        "-keyout", rsa_key, "-out", rsa_cert, "-days", "7", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        setups = {"ep-cscf": ("ep-cscf", None, None), "ep-cscf-rsa": ("ep-cscf", rsa_cert, rsa_key),
                  "kamailio": ("kamailio", ec_cert, ec_key),
                  "kamailio-rsa": ("kamailio", rsa_cert, rsa_key)}
        names = args.servers.split(",")
        for i in range(args.repeat):
            # Servers take turns, so that changing load on the machine
            # falls on each of them alike.
            for name in names[i % len(names):] + names[:i % len(names)]:
                kind, cert, key = setups[name]
                res = results.setdefault(name, {"small": [], "big": [], "burst": []})
                res["small"].append(run(lab, kind, cert, key, bindir, name + "-small", args.small,
                                        args, True, 0, args.inflight))
                res["big"].append(run(lab, kind, cert, key, bindir, name + "-big", args.conns, args,
                                      True, args.loop, args.inflight))
                if args.burst:
                    res["burst"].append(run(lab, kind, cert, key, bindir, name + "-burst",
                                            args.conns, args, False, 0, args.conns))
        failed = False
    finally:
        lab.stop_all()
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": info, "args": vars(args), "results": results}, f, indent=1)
        if args.keep or failed:
            print("# logs in %s" % tmp)
        else:
            subprocess.run(["rm", "-rf", tmp])

    names = [n for n in args.servers.split(",") if n in results]
    print()
    if args.repeat > 1:
        print("Medians of %d runs." % args.repeat)
        print()
    print("| measure | " + " | ".join(names) + " | ratio ep-cscf/kamailio |")
    print("|---|" + "---|" * len(names) + "---|")

    def med(name, get, agg=statistics.median):
        """Median (or agg) over the runs of get(run of each kind), None if none."""
        runs = results[name]
        vals = []
        for i in range(len(runs["big"])):
            one = {k: runs[k][i] for k in runs if i < len(runs[k])}
            try:
                v = get(one)
            except (KeyError, TypeError):
                v = None
            if v is not None:
                vals.append(v)
        return agg(vals) if vals else None

    def row(label, get, f="%.1f", with_ratio=True, kam_get=None, agg=statistics.median):
        vals = [med(n, get, agg) for n in names]
        ours = med("ep-cscf", get) if "ep-cscf" in results else None
        kam = med("kamailio", kam_get or get) if "kamailio" in results else None
        print("| %s | %s | %s |" % (label, " | ".join(fmt(v, f) for v in vals),
                                    ratio(ours, kam) if with_ratio else ""))

    row("KiB per idle registered WSS connection, N=%d" % args.small, lambda r: r["small"].get("kib_per_conn"))
    row("KiB per idle registered WSS connection, N=%d" % args.conns, lambda r: r["big"].get("kib_per_conn"))
    row("server CPU ms per WSS set-up (%d, %d in flight)" % (args.conns, args.inflight),
        lambda r: r["big"].get("setup_ms"), "%.3f")
    row("failed connections of %d (%d in flight; worst run)" % (args.conns, args.inflight),
        lambda r: r["big"].get("failed"), "%d", False, agg=max)
    if args.burst:
        row("server CPU ms per WSS set-up (%d at once)" % args.conns,
            lambda r: r["burst"].get("setup_ms"), "%.3f")
        row("failed connections of %d (all at once; worst run)" % args.conns,
            lambda r: r["burst"].get("failed"), "%d", False, agg=max)
    row("server CPU-s per 1,000 REGISTERs (closed loop, %d outstanding)" % args.loop_concurrency,
        lambda r: r["big"].get("cpu_per_1000_reg"), "%.4f")
    row("IMS core stand-in CPU-s per 1,000 REGISTERs (behind ep-cscf)",
        lambda r: r["big"].get("standin_per_1000_reg"), "%.4f", False)
    row("ep-cscf + stand-in CPU-s per 1,000 REGISTERs",
        lambda r: (r["big"]["cpu_per_1000_reg"] + r["big"]["standin_per_1000_reg"])
        if r["big"].get("standin_per_1000_reg") is not None else None, "%.4f",
        kam_get=lambda r: r["big"].get("cpu_per_1000_reg"))
    row("REGISTERs per second (closed loop)", lambda r: r["big"].get("loop", {}).get("rate"), "%.0f")
    row("WSS set-ups per second", lambda r: r["big"].get("connect", {}).get("rate"), "%.0f")
    row("other load on the machine during set-ups (cores)", lambda r: r["big"].get("others_connect"), "%.2f", False)
    row("other load on the machine during the REGISTER loop (cores)",
        lambda r: r["big"].get("others_loop"), "%.2f", False)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Issue 5 benchmark: SRTP in -> RTP out through eims-agw, through a
minimal reference relay (bench_min_relay) and through rtpengine
(userspace, one worker thread), same machine, same run, same load
generator (bench_relay_load); ratios eims-agw over each at the end.

Per relay and per load step (streams), on a freshly started relay:
  * eims-agw: iqp-ctl (plain TCP) RESERVEs and CONFIGUREs one context per
    stream (W3 + IMS, PCMU); the generator runs the ICE check and a DTLS
    client handshake per stream (the AGW is DTLS server) and sends SRTP
    (the generator offers AES_CM_128_HMAC_SHA1_80 only, the profile the
    other two relays use: same crypto for all three) to each W3 port;
  * rtpengine: one ng offer/answer per stream (RTP/SAVP with a=crypto from
    the generator, RTP/AVP toward the generator's IMS socket); keys by SDES
    (the key exchange is not on the measured path; rtpengine's DTLS needs
    its own handshake driver, which this generator does not have);
  * min-relay: bench_min_relay opens a W3 and an IMS socket per stream and
    gets a pre-shared key per stream on stdin (the generator the same);
    epoll, recv, SRTP unprotect (eims-agw's srtp_transform on OpenSSL),
    sendto; nothing else; its IMS sockets are polled too, as a relay that
    relays back must (min-oneway: not polled, for comparison);
  * the generator sends 50 packets/s per stream, 160-byte payload, for 1 s of
    warm-up then --seconds measured, and receives the plain RTP on one
    socket; late (> 100 ms) counts as lost;
  * relay CPU: utime+stime of the relay process over the measured window,
    divided by the packets delivered.
The generator is pinned to CPU 0 and the relay to CPU 1 (taskset); each
step is repeated --repeat times and medians are reported.  Not a test:
not in tests/run-all.sh.

usage: relay_bench.py [--builddir build/release] [--streams 500,1000,1500,2000]
                      [--seconds 10] [--repeat 3] [--relays eims-agw,min-relay,rtpengine]
                      [--interleave] [--json FILE]"""
import argparse
import base64
import contextlib
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TICK = os.sysconf("SC_CLK_TCK")
CHOOSE = 4294967294
# Disjoint port ranges, both below the ephemeral range (32768-60999, where
# the generators and bench_min_relay bind), so that --interleave can run
# all relays at once: 3,000+ streams each (rtpengine takes 4 ports per
# stream, eims-agw 3).
RTPENGINE_PORTS = (10000, 21999)
AGW_PORTS = (22000, 32767)
# A relay alone (step()): both ranges and the ports below them (no
# service listens there on these machines): 7,400 streams at 4 ports each
# (eims-agw's W3 port and its IMS RTP/RTCP pair on an even port; rtpengine
# the same).
ALONE_PORTS = (3000, 32767)
GIVEN = set()


def free_port(kind=socket.SOCK_STREAM):
    while True:
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p not in GIVEN:
            GIVEN.add(p)
            return p


def cpu_us(pid):
    """(utime, stime) of pid in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


class Lines:
    """A subprocess speaking lines on stdin/stdout."""

    def __init__(self, cmd, log):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                  start_new_session=True)
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            self.q.put(raw.decode().rstrip("\n"))
        self.q.put(None)

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def get(self, secs=60):
        return self.q.get(timeout=secs)

    def stop(self):
        try:
            os.killpg(self.p.pid, signal.SIGTERM)
            self.p.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def find(elems, name):
    for e in elems:
        if name in e:
            return e[name]
    return None


def udp_rcvbuf_errors():
    """The kernel's count of UDP datagrams dropped because a socket's
    receive buffer was full (whole host: generator and relay alike)."""
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def run_steps(gen, relay_pid, seconds, repeat, spin=False):
    out = []
    for _ in range(repeat):
        gen.send("run %g 50 160%s\n" % (seconds, " spin" if spin else ""))
        line = gen.get(seconds + 30)
        assert line == "t0", line
        u0, s0 = cpu_us(relay_pid)
        g0 = sum(cpu_us(gen.p.pid))
        d0 = udp_rcvbuf_errors()
        line = gen.get(seconds + 30)
        assert line == "t1", line
        u1, s1 = cpu_us(relay_pid)
        g1 = sum(cpu_us(gen.p.pid))
        d1 = udp_rcvbuf_errors()
        res = json.loads(gen.get(30))
        # Loss the kernel saw (a relay too slow to drain its sockets),
        # as against packets relayed too late.
        res["rcvbuf_drops"] = d1 - d0
        # The generator's share of its core: near 1, it is the limit.
        res["gen_core"] = (g1 - g0) / seconds
        cpu = (u1 - u0) + (s1 - s0)
        res["relay_cpu_s"] = cpu
        res["relay_user_s"], res["relay_sys_s"] = u1 - u0, s1 - s0
        res["loss"] = 1 - res["received"] / res["sent"] if res["sent"] else 1
        res["pps"] = res["received"] / seconds
        res["cpu_us_per_packet"] = cpu * 1e6 / res["received"] if res["received"] else None
        res["user_share"] = res["relay_user_s"] / cpu if cpu else 0
        out.append(res)
        time.sleep(0.5)
    return out


def agw_ports(slot, slots, with_rtpengine=True):
    """The slot-th of `slots` equal shares of AGW_PORTS (one per eims-agw
    running at once); without rtpengine in the run, of ALONE_PORTS."""
    low = AGW_PORTS[0] if with_rtpengine else ALONE_PORTS[0]
    span = (AGW_PORTS[1] - low + 1) // slots
    return low + slot * span, low + (slot + 1) * span - 1


@contextlib.contextmanager
def agw_relay(args, n, tmp, agw_build=None, ports=AGW_PORTS, io="auto"):
    """eims-agw set up for n streams: yields (generator, relay pid).
    agw_build: the eims-agw of another build directory (A/B of two
    versions in one --interleave run: --relays eims-agw,eims-agw@DIR);
    io: its media.io (eims-agw-epoll: the epoll back end)."""
    iq_port, gw3, gims = free_port(), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    logs = {k: open(os.path.join(tmp, "%s-%d-%d.log" % (k, n, gw3)), "w") for k in ("agw", "ctl", "gen")}
    ctl = Lines([os.path.join(args.builddir, "bin/iqp-ctl"), "--listen", "127.0.0.1:%d" % iq_port,
                 "--security", "tcp"], logs["ctl"])
    agw = subprocess.Popen(["taskset", "-c", "1", os.path.join(agw_build or args.builddir, "bin/eims-agw"),
                            "--state_dir=%s/agw" % tmp, "--node_id=bench", "--metrics.listen=127.0.0.1:%d" % free_port(),
                            "--iq.security=tcp", "--iq.controllers=127.0.0.1:%d" % iq_port,
                            "--iq.max_contexts=100000", "--media.port_min=%d" % ports[0],
                            "--media.port_max=%d" % ports[1], "--log.level=warn"]
                           + (["--media.io=%s" % io] if io != "auto" else []), stdout=logs["agw"], stderr=subprocess.STDOUT,
                           start_new_session=True)
    gen = Lines(["taskset", "-c", "0", os.path.join(args.builddir, "tests/bench/bench_relay_load"),
                 str(gw3), str(gims)], logs["gen"])
    try:
        fp = gen.get(10).split()[1]
        while True:
            line = json.loads(ctl.get(20))
            if line.get("link") == "registered":
                break
        opus = [{"CODEC": [{"PAYLOAD_TYPE": 0}, {"CODEC_NAME": "PCMU"}, {"CLOCK_RATE": 8000}]}]
        for i in range(n):
            ctl.send(json.dumps({"tag": i, "header": {"code": "RESERVE"}, "body": [{"CONTEXT": [
                {"CONTEXT_ID": CHOOSE},
                {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "W3"}, {"REALM_NAME": "w3"},
                                 {"ICE": [{"ICE_REMOTE_UFRAG": "benchgen"}, {"ICE_REMOTE_PWD": "benchpassword0123456789"}]},
                                 {"DTLS": [{"DTLS_SETUP": "PASSIVE"}, {"REMOTE_FINGERPRINT": [
                                     {"FP_HASH": "SHA-256"}, {"FP_VALUE": fp.replace(":", "").lower()}]}]},
                                 {"STREAM": [{"STREAM_ID": 1}, {"MEDIA_TYPE": "AUDIO"},
                                             {"TRANSPORT_PROTO": "UDP/TLS/RTP/SAVPF"}] + opus}]},
                {"TERMINATION": [{"TERM_ID": CHOOSE}, {"TERM_KIND": "IMS"}, {"REALM_NAME": "ims"},
                                 {"STREAM": [{"STREAM_ID": 1}, {"MEDIA_TYPE": "AUDIO"}, {"TRANSPORT_PROTO": "RTP/AVP"},
                                             {"REMOTE_ADDR": "127.0.0.1:%d" % gims}] + opus}]}]}]}) + "\n")
        got = 0
        while got < n:
            line = json.loads(ctl.get(60))
            if "request" not in line:
                continue
            got += 1
            r = line.get("reply")
            if not r or r["header"]["flags"]:
                raise RuntimeError("RESERVE failed: %s" % line)
            w3 = find(find(r["body"], "CONTEXT"), "TERMINATION")
            ice = find(w3, "ICE")
            ip, port = find(find(ice, "LOCAL_CANDIDATE"), "CAND_ADDR").rsplit(":", 1)
            fpv = find(find(find(w3, "DTLS"), "LOCAL_FINGERPRINT"), "FP_VALUE").upper()
            fpv = ":".join(fpv[k:k + 2] for k in range(0, 64, 2))
            gen.send("dtls %s %s %s %s %s\n" % (ip, port, find(ice, "ICE_LOCAL_UFRAG"),
                                                find(ice, "ICE_LOCAL_PWD"), fpv))
        gen.send("setup\n")
        ready = gen.get(120)
        if not ready.startswith("ready"):
            raise RuntimeError("generator: %s" % ready)
        if ready.split()[-1] != "SRTP_AES128_CM_SHA1_80":
            raise RuntimeError("DTLS negotiated %s, not the benchmark's profile" % ready.split()[-1])
        yield gen, agw.pid
    finally:
        gen.stop()
        ctl.stop()
        agw.send_signal(signal.SIGTERM)
        try:
            agw.wait(15)
        except subprocess.TimeoutExpired:
            agw.kill()


@contextlib.contextmanager
def min_relay(args, n, tmp, oneway=False, binary=None):
    """bench_min_relay (the reference: epoll, recv, SRTP unprotect with
    eims-agw's transform, send; no ICE, DTLS, demux or stats), keys
    pre-shared per stream as with rtpengine's SDES.  oneway: its IMS
    sockets are not polled (a relay that could not relay back).  binary:
    another reference relay speaking the same stdin protocol
    (min-relay@PATH, to compare reference relays in one run)."""
    gw3, gims = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    logs = {k: open(os.path.join(tmp, "%s-%d-%d.log" % (k, n, gw3)), "w") for k in ("min-relay", "gen")}
    rel = Lines(["taskset", "-c", "1", binary or os.path.join(args.builddir, "tests/bench/bench_min_relay"),
                 str(gims)] + (["oneway"] if oneway else []), logs["min-relay"])
    gen = Lines(["taskset", "-c", "0", os.path.join(args.builddir, "tests/bench/bench_relay_load"),
                 str(gw3), str(gims)], logs["gen"])
    try:
        gen.get(10)  # fingerprint line: unused
        for _ in range(n):
            key = base64.b64encode(os.urandom(30)).decode()
            rel.send("stream %s\n" % key)
            line = rel.get(10)
            if not line or not line.startswith("port "):
                raise RuntimeError("min-relay: %s" % line)
            gen.send("sdes 127.0.0.1 %s %s\n" % (line.split()[1], key))
        rel.send("start\n")
        line = rel.get(10)
        if not line or not line.startswith("started"):
            raise RuntimeError("min-relay: %s" % line)
        gen.send("setup\n")
        ready = gen.get(60)
        if not ready.startswith("ready"):
            raise RuntimeError("generator: %s" % ready)
        yield gen, rel.p.pid
    finally:
        gen.stop()
        rel.stop()


# --- rtpengine's ng protocol (bencode over UDP) -------------------------------

def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    ln = int(b[i:j])
    return b[j + 1:j + 1 + ln], j + 1 + ln


class Ng:
    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(5)
        self.addr = ("127.0.0.1", port)
        self.n = 0

    def cmd(self, d):
        self.n += 1
        cookie = b"c%d" % self.n
        self.s.sendto(cookie + b" " + benc(d), self.addr)
        while True:
            data = self.s.recv(65535)
            c, rest = data.split(b" ", 1)
            if c == cookie:
                return bdec(rest)[0]


def sdp(port, proto, extra=""):
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\n%sa=sendrecv\r\n" % (port, proto, extra))


@contextlib.contextmanager
def rtpengine_relay(args, n, tmp, ports=RTPENGINE_PORTS):
    ng_port, gw3, gims = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    logs = {k: open(os.path.join(tmp, "%s-%d.log" % (k, n)), "w") for k in ("rtpengine", "gen")}
    rtpe = subprocess.Popen(["taskset", "-c", "1", "rtpengine", "--foreground", "--log-stderr",
                             "--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng_port,
                             "--port-min=%d" % ports[0], "--port-max=%d" % ports[1], "--num-threads=1", "--table=-1",
                             "--log-level=3", "--pidfile=%s/rtpengine.pid" % tmp],
                            stdout=logs["rtpengine"], stderr=subprocess.STDOUT, start_new_session=True)
    gen = Lines(["taskset", "-c", "0", os.path.join(args.builddir, "tests/bench/bench_relay_load"),
                 str(gw3), str(gims)], logs["gen"])
    try:
        gen.get(10)  # fingerprint line: unused
        ng = Ng(ng_port)
        for _ in range(50):
            try:
                if ng.cmd({"command": "ping"}).get("result") == b"pong":
                    break
            except (socket.timeout, ConnectionRefusedError):
                time.sleep(0.1)
        for i in range(n):
            key = base64.b64encode(os.urandom(30)).decode()
            off = ng.cmd({"command": "offer", "call-id": "c%d" % i, "from-tag": "f%d" % i,
                          "sdp": sdp(gw3, "RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n" % key),
                          "transport-protocol": "RTP/AVP", "ICE": "remove"})
            if off.get("result") != b"ok":
                raise RuntimeError("offer: %s" % off)
            ans = ng.cmd({"command": "answer", "call-id": "c%d" % i, "from-tag": "f%d" % i, "to-tag": "t%d" % i,
                          "sdp": sdp(gims, "RTP/AVP")})
            if ans.get("result") != b"ok":
                raise RuntimeError("answer: %s" % ans)
            port = int(ans["sdp"].decode().split("m=audio ")[1].split()[0])
            gen.send("sdes 127.0.0.1 %d %s\n" % (port, key))
        gen.send("setup\n")
        ready = gen.get(60)
        if not ready.startswith("ready"):
            raise RuntimeError("generator: %s" % ready)
        yield gen, rtpe.pid
    finally:
        gen.stop()
        rtpe.send_signal(signal.SIGTERM)
        try:
            rtpe.wait(15)
        except subprocess.TimeoutExpired:
            rtpe.kill()


RELAYS = {"eims-agw": agw_relay, "rtpengine": rtpengine_relay, "min-relay": min_relay,
          "min-oneway": lambda args, n, tmp: min_relay(args, n, tmp, oneway=True)}


def relay_setup(relay, args, n, tmp, ports=AGW_PORTS):
    if relay.startswith("eims-agw@"):
        return agw_relay(args, n, tmp, agw_build=relay.split("@", 1)[1], ports=ports)
    if relay == "eims-agw":
        return agw_relay(args, n, tmp, ports=ports)
    if relay == "eims-agw-epoll":
        return agw_relay(args, n, tmp, ports=ports, io="epoll")
    if relay.startswith("min-relay@"):
        return min_relay(args, n, tmp, binary=relay.split("@", 1)[1])
    if relay == "rtpengine":
        return rtpengine_relay(args, n, tmp, ports or RTPENGINE_PORTS)
    return RELAYS[relay](args, n, tmp)


def step(relay, args, n, tmp):
    """One relay alone: set up, --repeat runs, torn down, on ALONE_PORTS
    (eims-agw and rtpengine; in rtpengine's range alone it stops at 3,000
    streams)."""
    with relay_setup(relay, args, n, tmp, ALONE_PORTS) as (gen, pid):
        return run_steps(gen, pid, args.seconds, args.repeat, args.spin)


def interleaved(relays, args, n, tmp):
    """All relays set up at once (each with its own generator, all relays
    on CPU 1, all generators on CPU 0; an idle relay costs nothing), then
    --repeat rounds of one run each, the order rotated every round.  The
    machine's speed drifts between minutes (the same binary measured
    6.6 and 9.1 us per packet in runs an hour apart): runs of the relays
    next to each other see the same machine, so the ratio of a round is
    steadier than the ratio of two separate steps.  Returns {relay: runs}
    and the per-round ratios eims-agw over each other relay."""
    runs, rounds = {r: [] for r in relays}, []
    with contextlib.ExitStack() as stack:
        up = {}
        agws = [r for r in relays if r.startswith("eims-agw")]
        for r in relays:
            ports = (agw_ports(agws.index(r), len(agws), "rtpengine" in relays)
                     if r in agws else None)
            up[r] = stack.enter_context(relay_setup(r, args, n, tmp, ports))
        for k in range(args.repeat):
            order = relays[k % len(relays):] + relays[:k % len(relays)]
            got = {}
            for r in order:
                gen, pid = up[r]
                # The others wait stopped (SIGSTOP), so that their own
                # timers (rtpengine's threads walk every call each
                # second) neither take CPU 1 nor evict the measured
                # relay's state from the caches -- except eims-agw, whose
                # Iq+ link would miss its heartbeats: its idle CPU is
                # reported instead.
                idle = {o: up[o][1] for o in relays if o != r}
                for o, opid in idle.items():
                    if not o.startswith("eims-agw"):
                        os.killpg(opid, signal.SIGSTOP)
                before = {o: sum(cpu_us(opid)) for o, opid in idle.items()}
                try:
                    got[r] = run_steps(gen, pid, args.seconds, 1, args.spin)[0]
                finally:
                    for o, opid in idle.items():
                        if not o.startswith("eims-agw"):
                            os.killpg(opid, signal.SIGCONT)
                got[r]["idle_cpu_s"] = {o: sum(cpu_us(opid)) - before[o] for o, opid in idle.items()}
                runs[r].append(got[r])
            if "eims-agw" in got and got["eims-agw"]["cpu_us_per_packet"]:
                rounds.append({o: got["eims-agw"]["cpu_us_per_packet"] / got[o]["cpu_us_per_packet"]
                               for o in got if o != "eims-agw" and got[o]["cpu_us_per_packet"]})
    return runs, rounds


def summary(runs):
    med = lambda k: statistics.median([r[k] for r in runs if r[k] is not None] or [0])  # noqa: E731
    return {"pps": med("pps"), "loss": med("loss"), "p50_us": med("p50_us"), "p99_us": med("p99_us"),
            "cpu_us_per_packet": med("cpu_us_per_packet"), "relay_cpu_s": med("relay_cpu_s"),
            "user_share": med("user_share"),
            "runs": runs}


def ratios(results):
    """eims-agw over each other relay, same load, same run: CPU per packet
    (and, for rtpengine, the loss beside it: a relay that drops packets
    spends less per delivered one only in appearance).  With --interleave
    also the median of the per-round ratios (the steadier figure)."""
    for n in sorted(results, key=int):
        ours = results[n].get("eims-agw")
        if not ours or not ours["cpu_us_per_packet"]:
            continue
        rounds = results[n].get("rounds") or []
        for other in [r for r in results[n] if r not in ("eims-agw", "rounds")]:
            ref = results[n].get(other)
            if ref and ref["cpu_us_per_packet"]:
                r = ours["cpu_us_per_packet"] / ref["cpu_us_per_packet"]
                ours.setdefault("ratio", {})[other] = r
                per_round = sorted(x[other] for x in rounds if other in x)
                extra = ""
                if per_round:
                    ours.setdefault("round_ratio", {})[other] = statistics.median(per_round)
                    extra = "; per round: median %.3f, range %.3f-%.3f over %d" % (
                        statistics.median(per_round), per_round[0], per_round[-1], len(per_round))
                print("%5s streams: eims-agw/%-9s CPU per packet %.3f (%.2f / %.2f us; loss %.4f%% / %.4f%%)%s"
                      % (n, other, r, ours["cpu_us_per_packet"], ref["cpu_us_per_packet"],
                         100 * ours["loss"], 100 * ref["loss"], extra), flush=True)


def report(relay, n, res):
    print("%-9s %5d streams: %8.0f pkt/s delivered, loss %.4f%%, p50 %5d us, p99 %6d us, "
          "%.2f CPU-us/packet (%.0f%% user)" % (relay, n, res["pps"], 100 * res["loss"], res["p50_us"],
                                               res["p99_us"], res["cpu_us_per_packet"] or -1,
                                               100 * res["user_share"]), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(ROOT, "build/release"))
    ap.add_argument("--streams", default="500,1000,1500,2000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--relays", default="eims-agw,min-relay,rtpengine",
                    help="eims-agw@BUILDDIR: the eims-agw of another build, for an A/B; "
                    "eims-agw-epoll: media.io epoll")
    ap.add_argument("--interleave", action="store_true",
                    help="all relays up at once, runs alternated round by round (see interleaved())")
    ap.add_argument("--spin", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="relay_bench.")
    results = {}
    relays = args.relays.split(",")
    for n in [int(x) for x in args.streams.split(",")]:
        if args.interleave:
            try:
                runs, rounds = interleaved(relays, args, n, tmp)
            except Exception as e:  # report and go on with the next load
                print("interleaved %d: failed: %s" % (n, e), flush=True)
                continue
            results[str(n)] = {"rounds": rounds}
            for relay in relays:
                results[str(n)][relay] = summary(runs[relay])
                report(relay, n, results[str(n)][relay])
            continue
        for relay in relays:
            try:
                res = summary(step(relay, args, n, tmp))
            except Exception as e:  # report and go on with the next step
                print("%s %d: failed: %s" % (relay, n, e), flush=True)
                continue
            results.setdefault(str(n), {})[relay] = res
            report(relay, n, res)
    ratios(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print("logs in %s" % tmp)


if __name__ == "__main__":
    main()

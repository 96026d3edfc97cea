"""iqp-ctl (proto/tools/iqp_ctl.c, the scripted Iq+ controller) as a
subprocess of a test: JSON lines in, JSON lines out (proto/README.md
"iqp-ctl")."""
import json
import os
import queue
import subprocess
import threading
import time


class Ctl:
    """One iqp-ctl listening on 127.0.0.1:port (plain TCP unless `args`
    say otherwise); its stdout is copied to <tmp>/<name>.out, its stderr to
    <tmp>/<name>.err.  `epoch`: the controller's EPOCH (a restart that kept
    its state passes the old one, SPEC 7.9); None: iqp-ctl picks one."""

    def __init__(self, bindir, lab, port, name="iqp-ctl", epoch=None, args=("--security", "tcp")):
        self.out = os.path.join(lab.tmp, name + ".out")
        self.err = open(os.path.join(lab.tmp, name + ".err"), "w")
        self.epoch = epoch
        cmd = [os.path.join(bindir, "iqp-ctl"), "--listen", "127.0.0.1:%d" % port] + list(args)
        if epoch:
            cmd += ["--epoch", str(epoch)]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, start_new_session=True)
        lab.procs.append(self.p)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        for raw in self.p.stdout:
            with open(self.out, "a") as f:
                f.write(raw.decode())
            self.q.put(json.loads(raw))

    def wait(self, pred, secs=10):
        """First line (seen before or arriving within secs) matching pred."""
        end = time.time() + secs
        for line in self.lines:
            if pred(line):
                self.lines.remove(line)
                return line
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(line):
                return line
            self.lines.append(line)

    def request(self, tag, code, body, secs=10):
        self.p.stdin.write((json.dumps({"tag": tag, "header": {"code": code}, "body": body}) + "\n").encode())
        self.p.stdin.flush()
        return self.wait(lambda l: l.get("tag") == tag, secs)

    def event(self, etype, secs=10, ctx=None):
        """The next EVENT of type etype (of context ctx when given)."""
        return self.wait(lambda l: "event" in l and any(
            find(ev["EVENT"], "EVENT_TYPE") == etype and ctx in (None, find(ev["EVENT"], "CONTEXT_ID"))
            for ev in l["event"]["body"]), secs)

    def service_change(self, method, reason, secs=10):
        def match(l):
            b = l.get("service_change", {}).get("body", [])
            return find(b, "SC_METHOD") == method and find(b, "SC_REASON") == reason
        return self.wait(match, secs)


def find(elems, name):
    """Value of the first child `name` in a decoded element list."""
    for e in elems or []:
        if name in e:
            return e[name]
    return None


def find_all(elems, name):
    return [e[name] for e in elems or [] if name in e]

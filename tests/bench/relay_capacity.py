#!/usr/bin/python3
"""Issue 5's streams-per-core figure: the highest load each relay holds,
found by stepping the load with the relays taking turns at every step (the
machine's speed drifts by 25 % within minutes, so only relays measured
next to each other compare).

At each step every relay still in the race is started alone on CPU 1 (the
generator on CPU 0, as relay_bench.py does), runs --repeat times and is
torn down; the load is HELD when at least --need of those runs deliver
all but --max-loss of the nominal packets (streams x 50/s x --seconds; late
over 100 ms counts as lost).  The generator's own shortfall (packets it
could not send in time: its core is full) is printed beside: where it
reaches --max-loss in --need runs the step is GENERATOR SHORT, not a
verdict on the relay, and the relay's figure is a lower bound.  A relay leaves the race
after --misses steps in a row that it did not hold.  The result: per relay
the highest load held, and eims-agw's over each other relay's.  Not a test.

A relay given --join RELAY=N enters the race only at N streams (a relay
known to hold the lower steps need not spend the half hour they take;
its figure is then "held from N up", and the steps below N are not
claimed for it).

usage: relay_capacity.py [--from 1250] [--step 125] [--to 4000]
                         [--relays eims-agw,min-relay,rtpengine] [--repeat 3]
                         [--seconds 5] [--join eims-agw=5000 ...] [--json FILE]"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(relay_bench.ROOT, "build/release"))
    ap.add_argument("--relays", default="eims-agw,min-relay,rtpengine")
    ap.add_argument("--from", dest="start", type=int, default=1250)
    ap.add_argument("--step", type=int, default=125)
    ap.add_argument("--to", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--need", type=int, default=2, help="runs of --repeat that must hold")
    ap.add_argument("--max-loss", type=float, default=0.001)
    ap.add_argument("--misses", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--join", action="append", default=[], metavar="RELAY=N",
                    help="RELAY enters the race at N streams")
    ap.add_argument("--json")
    args = ap.parse_args()
    join = {r: int(v) for r, v in (j.split("=", 1) for j in args.join)}
    args.spin = False
    tmp = tempfile.mkdtemp(prefix="relay_capacity.")
    racing = args.relays.split(",")
    held = {r: 0 for r in racing}
    missed = {r: 0 for r in racing}
    gen_limit = {}  # relay: the first load the generator could not offer it
    steps = []
    n = args.start
    while racing and n <= args.to:
        # Rotate who goes first, so that no relay always runs right after
        # the same other relay's teardown.
        k = (n // args.step) % len(racing)
        for relay in racing[k:] + racing[:k]:
            if n < join.get(relay, 0):
                continue
            try:
                runs = relay_bench.step(relay, args, n, tmp)
            except Exception as e:  # a relay that cannot start this load did not hold it
                print("%s %d: failed: %s" % (relay, n, e), flush=True)
                runs = []
            # Loss against the nominal load, not against what the
            # generator managed to send: a generator short of its own
            # core sends less, and its shortfall must not pass for a
            # relay that kept up.
            nominal = n * 50 * args.seconds
            losses = [1 - r["received"] / nominal for r in runs]
            short = [1 - r["sent"] / nominal for r in runs]
            ok = sum(1 for x in losses if x < args.max_loss) >= args.need
            # Not held, but the generator did not send the load: the step
            # says nothing about the relay (it may have relayed all it got).
            gen_short = not ok and sum(1 for x in short if x >= args.max_loss) >= args.need
            steps.append({"streams": n, "relay": relay, "at": time.strftime("%H:%M:%S"),
                          "losses": losses, "generator_short": short, "held": ok,
                          "generator_limited": gen_short,
                          "pps": [r["pps"] for r in runs], "p50_us": [r["p50_us"] for r in runs],
                          "cpu_us_per_packet": [r["cpu_us_per_packet"] for r in runs],
                          "rcvbuf_drops": [r.get("rcvbuf_drops") for r in runs],
                          "generator_core": [r.get("gen_core") for r in runs]})
            print("%-10s %5d streams: %s  (loss %s; generator short %s, its core %s; CPU-us/packet %s)" % (
                relay, n, "held" if ok else "GENERATOR SHORT" if gen_short else "NOT held",
                ", ".join("%.3f%%" % (100 * x) for x in losses),
                ", ".join("%.3f%%" % (100 * x) for x in short),
                ", ".join("%.0f%%" % (100 * r["gen_core"]) for r in runs),
                ", ".join("%.2f" % (r["cpu_us_per_packet"] or 0) for r in runs)), flush=True)
            if ok:
                held[relay], missed[relay] = n, 0
            else:
                missed[relay] += 1
                if gen_short and relay not in gen_limit:
                    gen_limit[relay] = n
        racing = [r for r in racing if missed[r] < args.misses]
        n += args.step
    print("highest load held (%d of %d runs under %.2f%% loss):" % (args.need, args.repeat,
                                                                   100 * args.max_loss))
    for r, v in held.items():
        print("  %-10s %5d streams%s%s" % (r, v, " (then the generator fell short at %d: a lower bound)"
                                            % gen_limit[r] if r in gen_limit else "",
                                            " (joined at %d)" % join[r] if r in join else ""))
    ours = held.get("eims-agw")
    for r, v in held.items():
        if r != "eims-agw" and ours and v:
            print("  eims-agw/%-10s %.2fx" % (r, ours / v))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"held": held, "generator_limited_from": gen_limit, "joined_at": join,
                       "steps": steps}, f, indent=1)
    print("logs in %s" % tmp)


if __name__ == "__main__":
    main()

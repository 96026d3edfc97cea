#!/bin/bash
# The loopback demo, in the foreground: both daemons with their embedded
# default configuration; state (generated certificates) under build/demo/.
# Ctrl-C (or SIGTERM to this script) stops both.  If either daemon exits,
# the other is stopped too and the script exits non-zero.
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-build/release/bin}
STATE=${STATE:-build/demo}
mkdir -p "$STATE"

setting() { # DAEMON KEY: the effective value, from the daemon itself
	"$BIN/$1" --check-config --state_dir="$STATE/$1" | sed -n "s/^$2 = \(.*\)  # .*/\1/p"
}
EP_METRICS=$(setting ep-cscf metrics.listen) || exit 2
AGW_METRICS=$(setting eims-agw metrics.listen) || exit 2

"$BIN/ep-cscf" --state_dir="$STATE/ep-cscf" &
EP=$!
"$BIN/eims-agw" --state_dir="$STATE/eims-agw" &
AGW=$!

stop() { kill -TERM "$EP" "$AGW" 2>/dev/null; }
trap stop INT TERM

up=0
for _ in $(seq 100); do
	if curl -sf -o /dev/null "http://$EP_METRICS/healthz" &&
	   curl -sf -o /dev/null "http://$AGW_METRICS/healthz"; then
		up=1
		break
	fi
	kill -0 "$EP" 2>/dev/null && kill -0 "$AGW" 2>/dev/null || break
	sleep 0.1
done

if [ $up -eq 1 ]; then
	cat <<BANNER

  WebRTC access to IMS gateway: loopback demo is running
    ep-cscf   metrics  http://$EP_METRICS/metrics   health http://$EP_METRICS/healthz
    eims-agw  metrics  http://$AGW_METRICS/metrics   health http://$AGW_METRICS/healthz
    state (certificates): $STATE/
  Press Ctrl-C to stop both.

BANNER
fi

wait -n "$EP" "$AGW"
stop
wait "$EP"; rc_ep=$?
wait "$AGW"; rc_agw=$?
# A stop we asked for exits 0; anything else is reported.
if [ $rc_ep -ne 0 ] || [ $rc_agw -ne 0 ]; then
	echo "demo: ep-cscf exited $rc_ep, eims-agw exited $rc_agw" >&2
	exit 1
fi

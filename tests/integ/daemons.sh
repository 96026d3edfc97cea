#!/bin/bash
# Both daemons on free ports: start-up lines, /metrics, /healthz, bad HTTP,
# SIGHUP reload, certificate reuse, and a clean SIGTERM exit without any
# sanitizer report.  usage: daemons.sh BINDIR
set -u
BIN=$1
. "$(dirname "$0")/../lib.sh"

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# start NAME DAEMON ARGS...: starts in the background, logs to $TMP/NAME.log,
# sets $PID and $ADDR (the metrics address from the "listening" line).
start() {
	local name=$1 daemon=$2; shift 2
	"$BIN/$daemon" --metrics.listen=127.0.0.1:0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
	PID=$!
	PIDS+=("$PID")
	local line
	line=$(wait_for_line "$TMP/$name.log" 'started' 20 >/dev/null &&
	       grep -m1 -E 'listening.*metrics' "$TMP/$name.log")
	ADDR=$(sed -E 's/.*"?addr"?[=:]"?([0-9.]+:[0-9]+).*/\1/' <<<"$line")
}

# stop_clean NAME LOG PID: SIGTERM, expect exit 0 within 8 s and a clean log.
stop_clean() {
	local name=$1 log=$TMP/$2.log pid=$3
	kill -TERM "$pid"
	wait_pid "$pid" 8
	expect_eq "$name: SIGTERM exits 0" 0 "$WAIT_STATUS"
	if grep -qE 'Sanitizer|runtime error|ERROR' "$log"; then
		not_ok "$name: no sanitizer or leak report" "$(grep -m3 -E 'Sanitizer|runtime error|ERROR' "$log")"
	else
		ok "$name: no sanitizer or leak report"
	fi
	check "$name: logs stopped" grep -q 'msg=stopped exit_code=0\|"msg":"stopped","exit_code":0' "$log"
}

cat >"$TMP/ep.conf" <<CONF
# test configuration
log.level = info
state_dir = $TMP/ep-state
CONF

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
IQ_PORT=$(free_port)
EP_PORTS=(--sip.wss.listen=127.0.0.1:$(free_port) --ims.listen=127.0.0.1:0 --iq.listen=127.0.0.1:$IQ_PORT)
start ep ep-cscf -c "$TMP/ep.conf" "${EP_PORTS[@]}"
EP_PID=$PID EP=$ADDR
start agw eims-agw --state_dir="$TMP/agw-state" --log.format=json --iq.controllers=127.0.0.1:$IQ_PORT
AGW_PID=$PID AGW=$ADDR

check "ep-cscf: start-up line names the metrics address" \
	grep -qE 'msg=listening service=metrics addr=127\.0\.0\.1:[1-9][0-9]*' "$TMP/ep.log"
check "eims-agw: JSON log lines parse" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no lines"
for l in lines:
    d = json.loads(l)
    assert {"ts", "level", "subsys", "msg"} <= d.keys(), l
' "$TMP/agw.log"
check "eims-agw: logs its DTLS fingerprint" \
	grep -qE '"fingerprint":"([0-9A-F]{2}:){31}[0-9A-F]{2}"' "$TMP/agw.log"

# /metrics: well-formed text format with the expected families.
for pair in "ep-cscf:$EP:epcscf" "eims-agw:$AGW:eimsagw"; do
	IFS=: read -r name host port prefix <<<"$pair"
	body=$(curl -sf --max-time 5 "http://$host:$port/metrics")
	check "$name: /metrics answers" test -n "$body"
	check "$name: /metrics is valid exposition format" python3 -c '
import re, sys
body = sys.stdin.read()
typed = set()
sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$")
for line in body.splitlines():
    if line.startswith("# TYPE "):
        typed.add(line.split()[2]); continue
    if line.startswith("# HELP "): continue
    m = sample.match(line)
    assert m, "bad line: " + line
    assert m.group(1) in typed, "sample before TYPE: " + line
' <<<"$body"
	check "$name: build_info and process metrics" \
		grep -qE "^${prefix}_build_info\{version=\"[^\"]+\"\} 1$" <<<"$body"
	check "$name: process_open_fds present" grep -qE '^process_open_fds [0-9]+$' <<<"$body"
	expect_eq "$name: /healthz" "200 ok" \
		"$(curl -s --max-time 5 -w '%{http_code}' -o "$TMP/h" "http://$host:$port/healthz"; echo " $(cat "$TMP/h")")"
	expect_eq "$name: unknown path is 404" 404 \
		"$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$host:$port/nope")"
	expect_eq "$name: POST is 405" 405 \
		"$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "http://$host:$port/metrics")"
done

# Bad and oversized requests, and an idle connection held across SIGTERM.
got=$(python3 - "$EP" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
def ask(data):
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(data)
    r = s.recv(100).split(b"\r\n")[0].decode()
    s.close()
    return r
print(ask(b"GET / HTTP/3.0\r\n\r\n"), "|", ask(b"GET /" + b"a" * 400 + b" HTTP/1.1\r\n\r\n"),
      "|", ask(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000))
PY
)
expect_eq "ep-cscf: bad HTTP gets 505, 414, 431" \
	"HTTP/1.1 505 HTTP Version Not Supported | HTTP/1.1 414 URI Too Long | HTTP/1.1 431 Request Header Fields Too Large" "$got"
rejected=$(curl -sf --max-time 5 "http://$EP/metrics" | grep -E '^metrics_http_rejected_total ' | cut -d' ' -f2)
expect_eq "ep-cscf: rejected requests are counted" 3 "$rejected"

# SIGHUP: a reloadable change applies, a non-reloadable one is named,
# a broken file leaves everything as it was.
sed -i 's/^log.level = info/log.level = debug/' "$TMP/ep.conf"
sed -i "s|^state_dir = .*|state_dir = $TMP/elsewhere|" "$TMP/ep.conf"
kill -HUP "$EP_PID"
check "ep-cscf: SIGHUP applies log.level" \
	wait_for_line "$TMP/ep.log" 'msg="setting reloaded" key=log.level where=.*ep.conf:2' 5
check "ep-cscf: SIGHUP names settings that need a restart" \
	wait_for_line "$TMP/ep.log" 'restart to apply" key=state_dir' 5
check "ep-cscf: metrics still on the old address" curl -sf --max-time 5 -o /dev/null "http://$EP/healthz"
echo "bogus = 1" >>"$TMP/ep.conf"
kill -HUP "$EP_PID"
check "ep-cscf: broken file on SIGHUP is refused" \
	wait_for_line "$TMP/ep.log" 'msg="reload failed, configuration unchanged" reason=".*unknown key \\"bogus\\""' 5
check "ep-cscf: still serving after a failed reload" curl -sf --max-time 5 -o /dev/null "http://$EP/metrics"

# An idle client must not hold up the stop.
python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port))); print("connected", flush=True); time.sleep(30)' "$EP" >"$TMP/idle.out" &
IDLE=$!
PIDS+=("$IDLE")
check "an idle client is connected before the stop" wait_for_line "$TMP/idle.out" connected 5
FP1=$(grep -m1 -oE 'fingerprint=[0-9A-F:]+' "$TMP/ep.log")
stop_clean ep-cscf ep "$EP_PID"
kill "$IDLE" 2>/dev/null
stop_clean eims-agw agw "$AGW_PID"

# Second start with the same state directory reuses the certificate.
mv "$TMP/ep.log" "$TMP/ep1.log"
start ep ep-cscf --state_dir="$TMP/ep-state" "${EP_PORTS[@]}"
check "ep-cscf: certificate generated on first run" grep -q 'generated=yes' "$TMP/ep1.log"
check "ep-cscf: certificate reused on second run" grep -q 'generated=no' "$TMP/ep.log"
expect_eq "ep-cscf: same fingerprint after restart" "$FP1" \
	"$(grep -m1 -oE 'fingerprint=[0-9A-F:]+' "$TMP/ep.log")"
kill -INT "$PID"
wait_pid "$PID" 8
expect_eq "ep-cscf: SIGINT exits 0" 0 "$WAIT_STATUS"

finish

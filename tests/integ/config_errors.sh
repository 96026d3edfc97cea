#!/bin/bash
# Bad configuration and command lines: each must stop start-up with exit
# code 2 and exactly one line on stderr, the one given here.
# usage: config_errors.sh BINDIR
set -u
BIN=$1
. "$(dirname "$0")/../lib.sh"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [ -n "${HOLD:-}" ] && kill "$HOLD" 2>/dev/null' EXIT
printf 'not a certificate\n' >"$TMP/junk.pem"
: >"$TMP/plainfile"

# case NAME DAEMON WANT_LINE CONFIG_TEXT [ARGS...]
# CONFIG_TEXT "-" means no config file.
case_() {
	local name=$1 daemon=$2 want=$3 text=$4; shift 4
	local conf=() err rc
	if [ "$text" != "-" ]; then
		printf '%b' "$text" >"$TMP/c.conf"
		conf=(-c "$TMP/c.conf")
	fi
	# A daemon that starts instead of refusing must fail the case, not hang it.
	err=$(timeout 30 "$BIN/$daemon" "${conf[@]}" --state_dir="$TMP/state" "$@" 2>&1 >/dev/null)
	rc=$?
	want=${want//@F@/$TMP/c.conf}
	want=${want//@T@/$TMP}
	if [ $rc -eq 2 ] && [ "$err" = "$want" ]; then
		ok "$daemon: $name"
	else
		not_ok "$daemon: $name" "exit: $rc (want 2)" "want: $want" "got:  $err"
	fi
}

case_ "unknown key" ep-cscf \
	'ep-cscf: error: @F@:2: unknown key "metrics.lisen"' \
	'# demo\nmetrics.lisen = 127.0.0.1:1\n'
case_ "bad address" ep-cscf \
	'ep-cscf: error: @F@:1: metrics.listen: "nowhere" is not an address (IPv4:port or [IPv6]:port)' \
	'metrics.listen = nowhere\n'
case_ "syntax" ep-cscf \
	'ep-cscf: error: @F@:3: expected "key = value"' \
	'\n\nlog.level\n'
case_ "duplicate key" eims-agw \
	'eims-agw: error: @F@:4: log.format: set twice (first at line 1)' \
	'log.format = json\n\n\nlog.format = logfmt\n'
case_ "bad enum" eims-agw \
	'eims-agw: error: @F@:1: log.format: "xml" is not one of logfmt, json' \
	'log.format = xml\n'
case_ "bad media.io" eims-agw \
	'eims-agw: error: @F@:1: media.io: "dpdk" is not one of auto, io_uring, epoll' \
	'media.io = dpdk\n'
case_ "bad log level" ep-cscf \
	'ep-cscf: error: @F@:1: log.level: unknown level "loud" (error, warn, info, debug, trace)' \
	'log.level = loud\n'
case_ "unknown log subsystem" ep-cscf \
	'ep-cscf: error: @F@:1: log.level: unknown subsystem "rtp"' \
	'log.level = info,rtp=debug\n'
case_ "bad media.anchor" ep-cscf \
	'ep-cscf: error: @F@:1: media.anchor: "sbc" is not one of agw, none' \
	'media.anchor = sbc\n'
case_ "bad media.bundle" ep-cscf \
	'ep-cscf: error: @F@:1: media.bundle: "maybe" is not a boolean (yes or no)' \
	'media.bundle = maybe\n'
case_ "bad media.w3_realm" ep-cscf \
	'ep-cscf: error: @F@:1: media.w3_realm: "w 3" is not a realm name (1-64 of A-Z a-z 0-9 . _ -)' \
	'media.w3_realm = w 3\n'
case_ "media.anchor agw without iq.listen" ep-cscf \
	'ep-cscf: error: @F@:1: iq.listen: empty, but media.anchor agw needs an Iq+ listener for the AGWs' \
	'iq.listen =\n'
case_ "missing certificate" ep-cscf \
	'ep-cscf: error: @F@:2: tls.cert: cannot read certificate "/nonexistent/cert.pem": No such file or directory' \
	'log.level = info\ntls.cert = /nonexistent/cert.pem\n'
case_ "garbage certificate" eims-agw \
	'eims-agw: error: @F@:1: dtls.cert: "@T@/junk.pem" is not a PEM certificate (error:0480006C:PEM routines::no start line)' \
	"dtls.cert = $TMP/junk.pem\n"
case_ "key without certificate" ep-cscf \
	'ep-cscf: error: @F@:1: tls.key: set without tls.cert' \
	'tls.key = /etc/ssl/private/x.pem\n'
case_ "state dir not creatable" eims-agw \
	'eims-agw: error: command line: state_dir: cannot create "@T@/plainfile/sub/tls": Not a directory' \
	- --state_dir="$TMP/plainfile/sub"
case_ "missing config file" ep-cscf \
	'ep-cscf: error: /nonexistent/ep-cscf.conf: cannot open: No such file or directory' \
	- -c /nonexistent/ep-cscf.conf
case_ "unknown option" ep-cscf \
	'ep-cscf: error: command line: unknown option "--bogus" (see --help)' \
	- --bogus=1
case_ "option without value" eims-agw \
	'eims-agw: error: command line: --metrics.listen needs a value: --metrics.listen=VALUE' \
	- --metrics.listen
case_ "stray argument" eims-agw \
	'eims-agw: error: command line: unknown argument "start" (see --help)' \
	- start
case_ "override out of range" ep-cscf \
	'ep-cscf: error: command line: metrics.listen: "127.0.0.1:70000" is not an address (IPv4:port or [IPv6]:port)' \
	- --metrics.listen=127.0.0.1:70000

case_ "bad transport" ep-cscf \
	'ep-cscf: error: @F@:1: ims.transport: "sctp" is not one of udp, tcp, tls' \
	'ims.transport = sctp\n'
case_ "bad WWSF line" ep-cscf \
	'ep-cscf: error: @F@:2: wwsf demo: "ftp://x" is not an origin (scheme://host[:port])' \
	'wwsf = ok origins=https://a.example\nwwsf = demo origins=ftp://x\n'
case_ "WWSF defined twice" ep-cscf \
	'ep-cscf: error: @F@:2: wwsf a: defined twice' \
	'wwsf = a origins=https://a.example\nwwsf = a origins=https://b.example\n'
printf '{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}' >"$TMP/hmac.jwks"
printf '{"keys":[{"kty":"EC","kid":"e","crv":"P-521","x":"AA","y":"AA"}]}' >"$TMP/p521.jwks"
case_ "wwsf JWKS missing" ep-cscf \
	'ep-cscf: error: @F@:1: wwsf w: jwks /nonexistent.jwks: cannot read: No such file or directory' \
	'wwsf = w origins=https://a.example issuer=https://w.example jwks=/nonexistent.jwks impus=sip:*@ims.test\n'
case_ "wwsf JWKS with a symmetric key" ep-cscf \
	'ep-cscf: error: @F@:1: wwsf w: jwks @T@/hmac.jwks: key 1: holds private or symmetric key material ("k")' \
	"wwsf = w origins=https://a.example issuer=https://w.example jwks=$TMP/hmac.jwks impus=sip:*@ims.test\n"
case_ "wwsf JWKS with a P-521 key" ep-cscf \
	'ep-cscf: error: @F@:1: wwsf w: jwks @T@/p521.jwks: key 1 (kid "e"): crv P-521 is not P-256' \
	"wwsf = w origins=https://a.example issuer=https://w.example jwks=$TMP/p521.jwks impus=sip:*@ims.test\n"
case_ "wwsf issuer without IMPUs" ep-cscf \
	'ep-cscf: error: @F@:1: wwsf w: a token issuer needs impus or ranges' \
	"wwsf = w origins=https://a.example issuer=https://w.example jwks=$TMP/p521.jwks\n"
case_ "wwsf bad barring switch" ep-cscf \
	'ep-cscf: error: @F@:1: wwsf w: barred is not yes or no' \
	'wwsf = w origins=https://a.example barred=1\n'
case_ "auth leeway out of range" ep-cscf \
	'ep-cscf: error: @F@:1: auth.leeway: 3600 is out of range [0, 300]' \
	'auth.leeway = 3600\n'
case_ "no WebSocket listener" ep-cscf \
	'ep-cscf: error: @F@:1: sip.wss.listen: no WebSocket listener configured' \
	'sip.wss.listen =\n'
case_ "message size out of range" ep-cscf \
	'ep-cscf: error: @F@:1: ws.max_message_bytes: 10 is out of range [1024, 1048576]' \
	'ws.max_message_bytes = 10\n'

# Iq+ settings (docs/operations.md, proto/SPEC.md 2.2, 7.2.2).
case_ "bad Iq+ security" ep-cscf \
	'ep-cscf: error: @F@:1: iq.security: "ssl" is not one of tls, tcp' \
	'iq.security = ssl\n'
case_ "bad Iq+ listen address" ep-cscf \
	'ep-cscf: error: @F@:1: iq.listen: "somewhere" is not an address (IPv4:port or [IPv6]:port)' \
	'iq.listen = somewhere\n'
case_ "bad trusted fingerprint" ep-cscf \
	'ep-cscf: error: @F@:3: iq.trusted_fingerprints: "AB:CD" is not a SHA-256 fingerprint' \
	'log.level = info\niq.trusted_fingerprints = 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0\niq.trusted_fingerprints = AB:CD\n'
case_ "bad controller node id" ep-cscf \
	'ep-cscf: error: @F@:1: iq.node_id: "a b" is not a node id (1-64 of A-Z a-z 0-9 . _ -)' \
	'iq.node_id = "a b"\n'
case_ "missing Iq+ CA file" ep-cscf \
	'ep-cscf: error: @F@:1: iq.ca_file: cannot read CA file "/nonexistent/ca.pem": No such file or directory' \
	'iq.ca_file = /nonexistent/ca.pem\n'
case_ "Iq+ CA file without certificates" eims-agw \
	'eims-agw: error: @F@:2: iq.ca_file: cannot load CA file "@T@/junk.pem": no certificate or crl found' \
	"iq.controllers = 127.0.0.1:7190 ep-cscf\niq.ca_file = $TMP/junk.pem\n"
case_ "TLS toward IMS without a TLS listener" ep-cscf \
	'ep-cscf: error: @F@:1: ims.tls.listen: needed when ims.transport is tls' \
	'ims.transport = tls\n'
case_ "TLS toward IMS without a trusted peer" ep-cscf \
	'ep-cscf: error: <default>: ims.tls.ca_file: no trusted fingerprint or CA file for TLS toward IMS' \
	'ims.transport = tls\nims.tls.listen = 127.0.0.1:0\n'
case_ "bad IMS TLS fingerprint" ep-cscf \
	'ep-cscf: error: @F@:3: ims.tls.trusted_fingerprints: "12:34" is not a SHA-256 fingerprint' \
	'ims.tls.listen = 127.0.0.1:0\nims.tls.trusted_fingerprints = 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0\nims.tls.trusted_fingerprints = 12:34\n'
case_ "IMS TLS CA file without certificates" ep-cscf \
	'ep-cscf: error: @F@:2: ims.tls.ca_file: cannot load CA file "@T@/junk.pem": no certificate or crl found' \
	"ims.tls.listen = 127.0.0.1:0\nims.tls.ca_file = $TMP/junk.pem\n"
case_ "missing Iq+ certificate" ep-cscf \
	'ep-cscf: error: @F@:1: iq.cert: cannot read certificate "/nonexistent/iq.pem": No such file or directory' \
	'iq.cert = /nonexistent/iq.pem\n'
case_ "Iq+ key without certificate" eims-agw \
	'eims-agw: error: @F@:1: iq.key: set without iq.cert' \
	'iq.key = /etc/ssl/private/x.pem\n'
case_ "heartbeat interval out of range" ep-cscf \
	'ep-cscf: error: @F@:1: iq.hb_interval: 100 is out of range [1000, 60000]' \
	'iq.hb_interval = 100\n'
case_ "bad controller address" eims-agw \
	'eims-agw: error: @F@:2: iq.controllers: "localhost:7190" is not IP:PORT[ NAME]' \
	'iq.controllers = 127.0.0.1:7190\niq.controllers = localhost:7190\n'
case_ "controller without port" eims-agw \
	'eims-agw: error: command line: iq.controllers: "127.0.0.1:0" is not IP:PORT[ NAME]' \
	- --iq.controllers=127.0.0.1:0
case_ "controller name needed with a CA file" eims-agw \
	'eims-agw: error: <default>: iq.controllers: "127.0.0.1:7190" needs the name its certificate carries (IP:PORT NAME) when iq.ca_file is set' \
	"iq.ca_file = $TMP/junk.pem\n"
case_ "bad AGW node id" eims-agw \
	'eims-agw: error: @F@:1: node_id: "agw/1" is not a node id (1-64 of A-Z a-z 0-9 . _ -)' \
	'node_id = agw/1\n'
case_ "realm without side" eims-agw \
	'eims-agw: error: @F@:1: iq.realm: realm "core": give its side (NAME:w3, NAME:ims or NAME:both)' \
	'iq.realm = "w3=127.0.0.1 core=10.0.0.1"\n'
case_ "realm with a bad address" eims-agw \
	'eims-agw: error: command line: iq.realm: realm "ims": "10.0.0.300" is not an IP address' \
	- '--iq.realm=w3=127.0.0.1 ims=10.0.0.300'
case_ "bad AGW Iq+ security" eims-agw \
	'eims-agw: error: @F@:1: iq.security: "none" is not one of tls, tcp' \
	'iq.security = none\n'
case_ "bad workers" eims-agw \
	'eims-agw: error: @F@:1: workers: "many" is not a number of workers (1-128) or auto' \
	'workers = many\n'
case_ "workers 0" eims-agw \
	'eims-agw: error: command line: workers: "0" is not a number of workers (1-128) or auto' \
	- --workers=0
case_ "more workers than media ports" eims-agw \
	'eims-agw: error: @F@:1: workers: 3 workers need at least 12 media ports (4 each); media.port_min..media.port_max has 11' \
	'workers = 3\nmedia.port_min = 20000\nmedia.port_max = 20010\n'
case_ "more workers than contexts" eims-agw \
	'eims-agw: error: command line: workers: 4 workers need iq.max_contexts of at least 4 (one context each); it is 3' \
	- --workers=4 --iq.max_contexts=3
case_ "more workers than declared ports" eims-agw \
	'eims-agw: error: command line: workers: 4 workers need iq.max_ports of 0 or at least 4; it is 2' \
	- --workers=4 --iq.max_ports=2
case_ "node id too long for workers" eims-agw \
	'eims-agw: error: command line: node_id: "agw-0123456789-0123456789-0123456789-0123456789-0123456789-x" is too long for 2 workers (at most 59 characters: each adds "-w<k>")' \
	- --workers=2 --node_id=agw-0123456789-0123456789-0123456789-0123456789-0123456789-x
case_ "no metrics ports left for workers" eims-agw \
	'eims-agw: error: command line: metrics.listen: port 65534 leaves no room for the 2 workers'"'"' ports (65534 + 1 ... 65534 + 2)' \
	- --workers=2 --metrics.listen=127.0.0.1:65534

# Port in use: hold a listening socket, then point the daemon at it.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$TMP/port" &
HOLD=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")
case_ "port in use" ep-cscf \
	"ep-cscf: error: command line: metrics.listen: cannot listen on 127.0.0.1:$PORT: address already in use" \
	- --metrics.listen=127.0.0.1:$PORT
# Listeners after the metrics endpoint log before they fail: the error is
# the last line.
err=$("$BIN/ep-cscf" --state_dir="$TMP/state" --metrics.listen=127.0.0.1:0 --ims.listen=127.0.0.1:0 \
	--iq.listen=127.0.0.1:$PORT 2>&1 >/dev/null)
rc=$?
want="ep-cscf: error: command line: iq.listen: cannot listen on 127.0.0.1:$PORT: address already in use"
if [ $rc -eq 2 ] && [ "$(tail -n1 <<<"$err")" = "$want" ]; then
	ok "ep-cscf: Iq+ port in use"
else
	not_ok "ep-cscf: Iq+ port in use" "exit: $rc (want 2)" "want: $want" "got:  $(tail -n1 <<<"$err")"
fi
# start_case NAME DAEMON WANT_LAST_LINE ARGS...: a failure while starting,
# after the daemon has logged its first lines: exit 2, the error as the last
# line, and no abort or sanitizer report.
start_case() {
	local name=$1 daemon=$2 want=$3 err rc; shift 3
	err=$("$BIN/$daemon" --state_dir="$TMP/state" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 2 ] && [ "$(tail -n1 <<<"$err")" = "$want" ] &&
	   ! grep -qE 'Assertion|Sanitizer|runtime error' <<<"$err"; then
		ok "$daemon: $name"
	else
		not_ok "$daemon: $name" "exit: $rc (want 2)" "want last: $want" "got: $(tail -n3 <<<"$err")"
	fi
}

# The WSS port taken: libwebsockets is already up when its listener fails,
# and must be torn down cleanly (this once aborted in libuv).
start_case "WSS port in use" ep-cscf \
	"ep-cscf: error: command line: sip.wss.listen: cannot listen on 127.0.0.1:$PORT: address already in use" \
	--metrics.listen=127.0.0.1:0 --ims.listen=127.0.0.1:0 --iq.listen=127.0.0.1:0 --sip.wss.listen=127.0.0.1:$PORT
printf 'metrics.listen = 127.0.0.1:%s\n' "$PORT" >"$TMP/p.conf"
case_ "port in use (file)" eims-agw \
	"eims-agw: error: $TMP/p.conf:1: metrics.listen: cannot listen on 127.0.0.1:$PORT: address already in use" \
	- -c "$TMP/p.conf"

# The good paths of the same interface.
out=$("$BIN/ep-cscf" --check-config --state_dir="$TMP/state" --log.format=json 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -qx 'log.format = json  # command line' <<<"$out" &&
   grep -qx 'metrics.listen = 127.0.0.1:9101  # <default>' <<<"$out"; then
	ok "ep-cscf: --check-config prints the effective configuration"
else
	not_ok "ep-cscf: --check-config prints the effective configuration" "exit $rc" "$out"
fi
out=$("$BIN/eims-agw" --help 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'dtls.cert' <<<"$out"; then ok "eims-agw: --help lists settings"
else not_ok "eims-agw: --help lists settings" "exit $rc"; fi
out=$("$BIN/eims-agw" --version 2>&1); rc=$?
if [ $rc -eq 0 ] && [[ $out == "eims-agw "* ]]; then ok "eims-agw: --version"
else not_ok "eims-agw: --version" "exit $rc: $out"; fi

finish

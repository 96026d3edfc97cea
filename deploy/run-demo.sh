#!/bin/bash
# The loopback demo, in the foreground: both daemons with their embedded
# default configuration (plus each other's Iq+ certificate fingerprint, so
# that the AGW registers with the eP-CSCF over mutual TLS, and the demo
# WWSF as the eP-CSCF's trusted `wwsf`), Kamailio as the IMS core stand-in
# (tests/kamailio/ims-core.cfg: subscribers alice, bob, carol; passwords
# <user>-secret; Trusted Node Authentication accepted from the eP-CSCF's IMS
# address only) on the eP-CSCF's default next hop, 127.0.0.1:5060, with
# an echo service at sip:echo@ims.test (SIPp answering every call and
# sending each RTP packet back), the demo WWSF (deploy/demo/wwsf.py)
# serving its WIC page on https://127.0.0.1:8080 (WWSF_LISTEN: sign in,
# register with its token, call; its guest range sip:guest-*@ims.test is
# the stand-in's default wildcarded identity), and a plain
# WIC page for IMS digest credentials that registers and calls on
# https://127.0.0.1:8081/ (PAGE; a WWSF "digest" that issues no tokens).
# Arguments go to ep-cscf after the demo's own settings.
# State (generated certificates and keys) under build/demo/.  Ctrl-C (or SIGTERM to
# this script) stops everything.  If a daemon exits, the rest is stopped
# too and the script exits non-zero.
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
EP_WSS=$(setting ep-cscf sip.wss.listen) || exit 2
IMS_HOP=$(setting ep-cscf ims.next_hop) || exit 2
EP_IQ=$(setting ep-cscf iq.listen) || exit 2
EP_IMS=$(setting ep-cscf ims.listen) || exit 2
EP_AUD=$(setting ep-cscf auth.audience) || exit 2
WWSF_LISTEN=${WWSF_LISTEN:-127.0.0.1:8080}

# The demo WWSF's certificate, signing key and JWKS, and the eP-CSCF's
# `wwsf` setting that trusts it (its origins, issuer, JWKS file, IMPUs,
# guest range).
WWSF_CMD=(/usr/bin/python3 deploy/demo/wwsf.py --name=demo --listen="$WWSF_LISTEN"
	--wss="wss://$EP_WSS" --audience="$EP_AUD" --state_dir="$STATE/wwsf")
WWSF_LINE=$("${WWSF_CMD[@]}" --prepare) && [ -n "$WWSF_LINE" ] || exit 2
PAGE=${PAGE:-127.0.0.1:8081}
ECHO_PORT=${ECHO_PORT:-5090}
# The AGW's browser-side address: this host's own address (browsers do not
# gather loopback candidates), loopback when there is none.
W3_IP=$(ip -4 route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
W3_IP=${W3_IP:-127.0.0.1}

# The digest WIC page and JsSIP (bundled from the browser tests' npm packages).
mkdir -p "$STATE/www"
cp deploy/demo/index.html "$STATE/www/"
tests/browser/node_modules/.bin/esbuild tests/browser/node_modules/jssip/lib/JsSIP.js \
	--bundle --format=iife --global-name=JsSIP --log-level=warning \
	--outfile="$STATE/www/jssip.js" || exit 2

# --check-config above generated each daemon's Iq+ certificate under its
# state directory; pin them both ways (iq.trusted_fingerprints).
fingerprint() { # PEM file: its SHA-256 fingerprint, AB:CD:...
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}
EP_FP=$(fingerprint "$STATE/ep-cscf/iq/tls/cert.pem") && [ -n "$EP_FP" ] || exit 2
AGW_FP=$(fingerprint "$STATE/eims-agw/iq/tls/cert.pem") && [ -n "$AGW_FP" ] || exit 2

mkdir -p "$STATE/kamailio"
kamailio -f tests/kamailio/ims-core.cfg -DD -E -Y "$STATE/kamailio" \
	-A "KAM_IP=${IMS_HOP%:*}" -A "KAM_PORT=${IMS_HOP##*:}" -A "TNA_PEER=\"$EP_IMS\"" \
	-A "UAS_PORT=$ECHO_PORT" \
	>"$STATE/kamailio.log" 2>&1 &
KAM=$!
sed -e 's/IS486/0/' -e 's/UASBYE/0/' -e '/^VIDEO$/d' tests/sipp/invite_uas.xml >"$STATE/echo.xml"
sipp -sf "$STATE/echo.xml" -i 127.0.0.1 -p "$ECHO_PORT" -mi 127.0.0.1 -mp 6000 -rtp_echo \
	-nostdin -trace_err -error_file "$STATE/echo_err.log" >"$STATE/echo.log" 2>&1 &
ECHO=$!

"$BIN/ep-cscf" --state_dir="$STATE/ep-cscf" --iq.trusted_fingerprints="$AGW_FP" \
	--wwsf="$WWSF_LINE" --wwsf="digest origins=https://$PAGE,https://localhost:${PAGE##*:}" "$@" &
EP=$!
"$BIN/eims-agw" --state_dir="$STATE/eims-agw" --iq.trusted_fingerprints="$EP_FP" \
	--iq.realm="w3=$W3_IP ims=127.0.0.1" &
AGW=$!
"${WWSF_CMD[@]}" &
WWSF=$!
deploy/demo/serve_https.py "$STATE/www" "$PAGE" "$STATE/ep-cscf/tls/cert.pem" \
	"$STATE/ep-cscf/tls/key.pem" &
WEB=$!

stop() { kill -TERM "$EP" "$AGW" "$KAM" "$WWSF" "$WEB" "$ECHO" 2>/dev/null; }
trap stop INT TERM

up=0
for _ in $(seq 100); do
	if curl -sf -o /dev/null "http://$EP_METRICS/healthz" &&
	   curl -sf -o /dev/null "http://$AGW_METRICS/healthz" &&
	   curl -skf -o /dev/null "https://$WWSF_LISTEN/healthz"; then
		up=1
		break
	fi
	kill -0 "$EP" 2>/dev/null && kill -0 "$AGW" 2>/dev/null && kill -0 "$KAM" 2>/dev/null &&
		kill -0 "$WWSF" 2>/dev/null || break
	sleep 0.1
done

if [ $up -eq 1 ]; then
	cat <<BANNER

  WebRTC access to IMS gateway: loopback demo is running
    open      https://$WWSF_LISTEN/  the demo WWSF: sign in as alice/alice-wwsf or bob/bob-wwsf,
              or as a guest (sip:guest-N@ims.test); the WIC page registers with its token
              (no IMS password) and calls: press Call to reach the echo and hear yourself
              (first accept the self-signed certificates of https://$WWSF_LISTEN/ and https://$EP_WSS/)
    ep-cscf   SIP over WSS  wss://$EP_WSS  (subprotocol sip; origins of WWSF "demo")
              metrics  http://$EP_METRICS/metrics   health http://$EP_METRICS/healthz
              Iq+ controller  $EP_IQ (TLS 1.3, the eims-agw certificate pinned)
    eims-agw  metrics  http://$AGW_METRICS/metrics   health http://$AGW_METRICS/healthz
              registers with the eP-CSCF over Iq+ (eimsagw_iq_link_state)
    IMS core  Kamailio stand-in on udp:$IMS_HOP (alice/alice-secret, bob/bob-secret; domain ims.test)
              Trusted Node Authentication from the eP-CSCF ($EP_IMS) only; log: $STATE/kamailio.log
    echo      sip:echo@ims.test (SIPp on udp:127.0.0.1:$ECHO_PORT, RTP sent back)
    WWSF      JWKS https://$WWSF_LISTEN/jwks.json (eP-CSCF reads $STATE/wwsf/jwks.json)
    digest    https://$PAGE/  the alternative: a WIC page for IMS credentials (alice/alice-secret),
              press Register, then Call
    state (certificates, keys): $STATE/
  Press Ctrl-C to stop them all.

BANNER
fi

wait -n "$EP" "$AGW" "$KAM" "$WWSF"
stop
wait "$EP"; rc_ep=$?
wait "$AGW"; rc_agw=$?
wait "$WWSF"; rc_wwsf=$?
wait "$KAM"
# A stop we asked for exits 0; anything else is reported.
if [ $rc_ep -ne 0 ] || [ $rc_agw -ne 0 ] || [ $rc_wwsf -ne 0 ]; then
	echo "demo: ep-cscf exited $rc_ep, eims-agw exited $rc_agw, demo WWSF exited $rc_wwsf" >&2
	exit 1
fi

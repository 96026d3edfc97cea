#!/bin/sh
# Manual check (Firefox ESR is not a test dependency; the Chromium version
# of this check is the run-all suite e2e/alg_answers): Firefox ESR applies
# the IMS-ALG's answers to its own offers.  Prints TAP lines.
# usage: tests/golden/capture/check_answers_firefox.sh build/asan/tests/unit/test_ims_alg
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOOL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 "$HERE/check_answers_server.py" "$TOOL" "$TMP/port" &
SRV=$!
while [ ! -s "$TMP/port" ]; do sleep 0.1; done
mkdir -p "$TMP/prof"
cat > "$TMP/prof/user.js" <<PREFS
user_pref("media.navigator.permission.disabled", true);
user_pref("media.navigator.streams.fake", true);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("app.update.enabled", false);
PREFS
firefox-esr --headless --no-remote --profile "$TMP/prof" \
	"http://127.0.0.1:$(cat "$TMP/port")/check_answers.html" >"$TMP/ff.log" 2>&1 &
FF=$!
i=0
while kill -0 $SRV 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 900 ] || { echo "not ok - firefox did not report"; kill $FF $SRV; exit 1; }
	sleep 0.1
done
kill $FF 2>/dev/null || true
wait $FF 2>/dev/null || true

#!/bin/sh
# Captures real WebRTC offers from Debian's Chromium and Firefox ESR into
# tests/golden/alg/captured/ (see README.md).  Firefox ESR is needed only
# here: apt-get install firefox-esr (it is not a test dependency).
# usage: tests/golden/capture/capture.sh [chromium|firefox]...
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/alg/captured
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ $# -gt 0 ] || set -- chromium firefox

serve() { # browser
	rm -f "$TMP/port"
	/usr/bin/python3 "$HERE/capture_server.py" "$1" "$OUT" "$TMP/port" &
	SRV=$!
	i=0
	while [ ! -s "$TMP/port" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "server did not start" >&2; exit 1; }
		sleep 0.1
	done
	URL="http://127.0.0.1:$(cat "$TMP/port")/capture.html"
}

for b in "$@"; do
	case $b in
	chromium)
		serve chromium
		node "$HERE/capture_chromium.mjs" "$URL"
		wait $SRV
		;;
	firefox)
		serve firefox
		prof="$TMP/ffprofile"
		mkdir -p "$prof"
		cat > "$prof/user.js" <<PREFS
user_pref("media.navigator.permission.disabled", true);
user_pref("media.navigator.streams.fake", true);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.enabled", false);
PREFS
		firefox-esr --headless --no-remote --profile "$prof" "$URL" > "$TMP/ff.log" 2>&1 &
		FF=$!
		i=0
		while kill -0 $SRV 2>/dev/null; do
			i=$((i + 1))
			[ $i -lt 600 ] || { echo "firefox did not post its offers" >&2; cat "$TMP/ff.log" >&2; kill $FF $SRV; exit 1; }
			sleep 0.1
		done
		kill $FF 2>/dev/null || true
		wait $FF 2>/dev/null || true
		firefox-esr --version
		;;
	*) echo "unknown browser $b" >&2; exit 2 ;;
	esac
done

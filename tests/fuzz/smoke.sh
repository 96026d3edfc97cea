#!/bin/bash
# Runs every libFuzzer target briefly from its seed corpus: the targets
# build, load their seeds and survive a short mutation run.  Long runs are
# done by hand: build/fuzz/tests/fuzz/<target> -max_total_time=600 DIR
# usage: smoke.sh FUZZ_BINDIR [SECONDS_EACH]
set -u
DIR=$1
SECS=${2:-10}
. "$(dirname "$0")/../lib.sh"
CORPUS=$(dirname "$0")/corpus

for bin in "$DIR"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	work=$(mktemp -d)
	if [ -d "$CORPUS/$name" ]; then seeds=("$CORPUS/$name"); else seeds=(); fi
	if "$bin" -max_total_time="$SECS" -max_len=8192 -timeout=5 -rss_limit_mb=2048 \
		"$work" "${seeds[@]}" >"$work.log" 2>&1; then
		ok "$name: ${SECS}s fuzz run clean ($(grep -oE 'Done [0-9]+ runs' "$work.log"))"
	else
		not_ok "$name: fuzz run found a failure" "$(grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$work.log")"
	fi
	rm -rf "$work" "$work.log"
done
finish

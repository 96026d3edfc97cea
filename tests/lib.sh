# Shared helpers for shell test suites: TAP-style result lines that
# tests/run-all.sh counts ("ok N - name" / "not ok N - name").
# shellcheck shell=bash

T_N=0
T_FAILED=0

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
not_ok() {
	T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
}

# check NAME COMMAND...: ok when the command succeeds.
check() {
	local name=$1; shift
	if "$@" >/dev/null; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want: $2" "got:  $3"; fi
}

# wait_for_line FILE REGEX [SECONDS]: prints the first matching line.
wait_for_line() {
	local file=$1 re=$2 deadline=$((SECONDS + ${3:-10}))
	while [ $SECONDS -lt $deadline ]; do
		if grep -m1 -E -- "$re" "$file" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# wait_pid PID SECONDS: waits for a child of this shell to exit and sets
# WAIT_STATUS to its exit status, or to "timeout".  (Not usable inside $(),
# where the process is not a child.)
wait_pid() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then WAIT_STATUS=timeout; return 1; fi
		sleep 0.1
	done
	wait "$pid"; WAIT_STATUS=$?
}

# Sanitizer settings for the asan build: any report fails the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

finish() { [ "$T_FAILED" -eq 0 ]; exit $?; }

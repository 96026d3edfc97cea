#!/bin/bash
# Runs every test suite and ends with one line "N passed, N failed".
# Suites print TAP-style lines ("ok N - name" / "not ok N - name"); a suite
# that exits non-zero without reporting a failure counts as one failure.
# Expects the release, asan and fuzz builds (make test builds them).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh

PASSED=0
FAILED=0
START=$SECONDS

# A suite that outlives this many seconds is stopped (SIGTERM, SIGKILL 30 s
# later) and fails: a hang must not eat CI's whole time limit.  The Python
# suites answer SIGTERM with the stacks where they were stuck and the tails
# of their daemons' logs (tests/integ/harness.py on_sigterm).
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}

# suite NAME COMMAND...
suite() {
	local name=$1; shift
	local out rc p f t0=$SECONDS
	out=$(mktemp)
	timeout -k 30 "$SUITE_TIMEOUT" "$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "not ok - $name: stopped after ${SUITE_TIMEOUT} s (exit $rc)" >>"$out"
	fi
	p=$(grep -cE '^ok ' "$out")
	f=$(grep -cE '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$out"
		f=1
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	echo "== $name: $p passed, $f failed ($((SECONDS - t0))s)"
	# Failures in full; passes as one line each.
	if [ "$f" -gt 0 ]; then sed 's/^/   /' "$out"; else grep -E '^ok ' "$out" | sed 's/^/   /'; fi
	rm -f "$out"
}

for t in build/asan/tests/unit/test_*; do
	[ -x "$t" ] || continue
	suite "unit/$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done
suite "integ/config_errors" tests/integ/config_errors.sh build/asan/bin
suite "integ/daemons" tests/integ/daemons.sh build/asan/bin
suite "integ/daemons (release build)" tests/integ/daemons.sh build/release/bin
suite "integ/epcscf_ims (Kamailio, SIPp; UDP to IMS)" /usr/bin/python3 tests/integ/epcscf_ims.py build/asan/bin udp
suite "integ/epcscf_ims (Kamailio, SIPp; TCP to IMS)" /usr/bin/python3 tests/integ/epcscf_ims.py build/asan/bin tcp
suite "integ/epcscf_ims (Kamailio, SIPp; mutual TLS to IMS)" /usr/bin/python3 tests/integ/epcscf_ims.py build/asan/bin tls
suite "integ/sip_torture (RFC 4475 messages over WSS and from IMS)" /usr/bin/python3 tests/integ/sip_torture.py build/asan/bin
suite "integ/ws_accept (600 WSS connects at once, per-address limit)" /usr/bin/python3 tests/integ/ws_accept.py build/asan/bin
suite "integ/tna_register (web authentication: Bearer tokens, TNA to Kamailio, SIPp)" /usr/bin/python3 tests/integ/tna_register.py build/asan/bin
suite "e2e/browser_register (Chromium, JsSIP, Kamailio, SIPp)" /usr/bin/python3 tests/integ/browser_register.py build/asan/bin
suite "integ/epcscf_calls (WIC, Kamailio, SIPp UAS/UAC; UDP to IMS)" /usr/bin/python3 tests/integ/epcscf_calls.py build/asan/bin udp
suite "integ/epcscf_calls (WIC, Kamailio, SIPp UAS/UAC; TCP to IMS)" /usr/bin/python3 tests/integ/epcscf_calls.py build/asan/bin tcp
suite "integ/epcscf_calls (WIC, Kamailio, SIPp UAS/UAC; mutual TLS to IMS)" /usr/bin/python3 tests/integ/epcscf_calls.py build/asan/bin tls
suite "e2e/aiortc_call (aiortc, ep-cscf, eims-agw, Kamailio, SIPp RTP echo)" /usr/bin/python3 tests/integ/aiortc_call.py build/asan/bin
suite "e2e/browser_call (Chromium, JsSIP, ep-cscf, 2 x eims-agw, Kamailio, SIPp RTP echo)" /usr/bin/python3 tests/integ/browser_call.py build/asan/bin
suite "e2e/browser_tna (Chromium, JsSIP, demo WWSFs A and B, TNA to Kamailio, SIPp)" /usr/bin/python3 tests/integ/browser_tna.py build/asan/bin
suite "e2e/browser_wwsf_call (Chromium on the demo WWSF's WIC page: calls, guest range as a wildcarded identity, SIPp)" /usr/bin/python3 tests/integ/browser_wwsf_call.py build/asan/bin
suite "e2e/alg_answers (Chromium accepts the IMS-ALG's answers)" node tests/browser/alg_answers.mjs build/asan/tests/unit/test_ims_alg
suite "integ/iq_link" /usr/bin/python3 tests/integ/iq_link.py build/asan/bin
suite "conformance/iqplus-conformance (against ep-cscf and eims-agw)" /usr/bin/python3 tests/integ/iqplus_conformance.py build/asan/bin controller agw
suite "integ/agw_media (aiortc, iqp-ctl, RTP echo)" /usr/bin/python3 tests/integ/agw_media.py build/asan/bin
suite "integ/agw_admin (SIGUSR1 drain, SIGUSR2 restore; ep-cscf, iqp-ctl)" /usr/bin/python3 tests/integ/agw_admin.py build/asan/bin
suite "integ/agw_workers (workers = 2: two registrations, port slices, DTLS-SRTP through each (aiortc), restart; iqp-ctl)" /usr/bin/python3 tests/integ/agw_workers.py build/asan/bin
suite "fuzz/smoke" tests/fuzz/smoke.sh build/fuzz/tests/fuzz "${FUZZ_SECONDS:-10}"

echo "== all suites in $((SECONDS - START))s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

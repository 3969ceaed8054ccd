#!/usr/bin/env bash
# check.sh — runs every test parley has: the C unit tests (cmocka), then
# the integration suite (pytest against real lighttpd, FastCGI programs,
# ws-daemon and SQLite). Prints one closing line "N passed, N failed" over
# everything and exits non-zero on any failure. Usage: scripts/check.sh UNIT_BIN...
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mkdir -p build/reports
passed=0
failed=0

echo "== unit tests"
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}; f=${f:-0}
	# A crash or a run that reported nothing counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "check: $t ran no test"; fi
	passed=$((passed + p)); failed=$((failed + f))
done

echo "== integration tests"
/usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider \
	--junitxml=build/reports/integration.xml; rc=$?
read -r ip if_ < <(/usr/bin/python3 - <<'PY'
import xml.etree.ElementTree as ET
try:
    root = ET.parse("build/reports/integration.xml").getroot()
except Exception:
    print(0, 1); raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
)
if [ "$rc" -ne 0 ] && [ "$if_" -eq 0 ]; then if_=1; fi
if [ "$ip" -eq 0 ] && [ "$if_" -eq 0 ]; then if_=1; echo "check: the integration suite ran no test"; fi
passed=$((passed + ip)); failed=$((failed + if_))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

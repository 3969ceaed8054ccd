#!/usr/bin/env bash
# fuzz.sh — runs every libFuzzer target built in build/fuzz: first its
# regression inputs (tests/fuzz/regressions/<target>/), then fuzzing for
# SECONDS from the seed corpus. A crash input is copied into the target's
# regressions folder. Prints "fuzz: N passed, N failed" last (one per target).
# Usage: scripts/fuzz.sh SECONDS
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-10}
B=$ROOT/build/fuzz
passed=0
failed=0
for bin in "$B"/fuzz_*; do
	[ -x "$bin" ] || continue
	t=$(basename "$bin")
	reg=$ROOT/tests/fuzz/regressions/$t
	work=$(mktemp -d)
	ok=1
	inputs=$(find "$reg" -type f ! -name .keep 2>/dev/null)
	if [ -n "$inputs" ]; then
		# shellcheck disable=SC2086
		"$bin" -runs=1 $inputs >"$work/regress.log" 2>&1 || { ok=0; echo "fuzz: $t fails a regression input"; tail -30 "$work/regress.log"; }
	fi
	if [ $ok = 1 ]; then
		echo "fuzz: $t for ${SECONDS_EACH}s"
		if ! "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 \
			-print_final_stats=1 -artifact_prefix="$work/" "$work" "$ROOT/tests/fuzz/corpus/$t" \
			>"$work/fuzz.log" 2>&1; then
			ok=0
			tail -40 "$work/fuzz.log"
			for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
				[ -f "$a" ] || continue
				mkdir -p "$reg"
				cp "$a" "$reg/"
				echo "fuzz: $t: new regression input $reg/$(basename "$a")"
			done
		else
			grep -E "stat::number_of_executed_units|cov:" "$work/fuzz.log" | tail -2
		fi
	fi
	rm -rf "$work"
	if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

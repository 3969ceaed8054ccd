#!/usr/bin/env bash
# check.sh — runs every test parley has: the structure checks (lib/ include
# graph acyclic, sqlite3_* only in the engine file, the settings docs
# generated from lib/config_keys.h), the C unit tests (cmocka), the
# integration suite (pytest against real lighttpd, FastCGI programs,
# ws-daemon and SQLite), the same suite on PostgreSQL 15, then the core
# of that suite again behind nginx
# (FastCGI programs under spawn-fcgi) and as plain CGI (lighttpd mod_cgi,
# and Apache with the shipped .htaccess as on a shared host), then unit and
# integration suites on the sanitizer build (SAN_BIN, SAN_UNIT), then the
# client checks (scripts/check-client.sh).
# Prints one closing line "N passed, N failed, N skipped" over everything
# (skips: pytest's, from its JUnit XML, and cmocka's skip()) and exits
# non-zero on any failure; a skip is not a failure. Usage: scripts/check.sh UNIT_BIN...
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mkdir -p build/reports
rm -f build/reports/*.xml
passed=0
failed=0
skipped=0

# run_units BIN...: runs cmocka test programs, adds their counts.
run_units() {
	local t out rc p f s
	for t in "$@"; do
		out=$("$t" 2>&1); rc=$?
		printf '%s\n' "$out"
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		# cmocka 1.1: "[  SKIPPED ] N test(s), listed below:", then one line per test
		s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s), listed below:$/\1/p' | tail -1)
		p=${p:-0}; f=${f:-0}; s=${s:-0}
		# A crash, a sanitizer report or a run that reported nothing fails.
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "check: $t ran no test"; fi
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	done
}

# The layers (docs/ARCHITECTURE.md): lib/'s include graph has no cycle, and
# only each engine's implementation calls its library (issue 13).
echo "== structure"
if scripts/include-graph.py; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
engine=$(grep -l 'sqlite3_' lib/* fcgi-apps/* ws-daemon/* tools/* | grep -v '^lib/db_sqlite\.[ch]$')
if [ -z "$engine" ]; then
	echo "sqlite3_* is called only by lib/db_sqlite.c"
	passed=$((passed + 1))
else
	echo "check: sqlite3_* outside lib/db_sqlite.c: $engine"
	failed=$((failed + 1))
fi
engine=$(grep -lE '\bPQ[a-zA-Z]+\(|libpq-fe\.h' lib/* fcgi-apps/* ws-daemon/* tools/* | grep -v '^lib/db_pg\.c$')
if [ -z "$engine" ]; then
	echo "libpq (PQ*) is called only by lib/db_pg.c"
	passed=$((passed + 1))
else
	echo "check: libpq outside lib/db_pg.c: $engine"
	failed=$((failed + 1))
fi

# One source for the settings: README.md's table and parley.conf(5) are
# what lib/config_keys.h generates (issue 20).
if scripts/settings.py --check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# One release number (VERSION): debian/changelog, CHANGELOG.md and the man
# pages say the same (issue 18).
if scripts/version.sh --check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== unit tests"
run_units "$@"

# pytest-xdist (Debian's python3-pytest-xdist) runs the modules of a suite
# on PYTEST_WORKERS processes (default 2), each module whole in one
# (--dist loadfile: a module's server fixture is shared by its tests).
# Most tests wait on servers, so two workers on 2 cores take ~60 % of the
# time (make check's 30-minute budget). PYTEST_WORKERS=0 runs them in one.
XDIST=()
if [ "${PYTEST_WORKERS:-2}" != 0 ] && /usr/bin/python3 -c 'import xdist' 2>/dev/null; then
	XDIST=(-n "${PYTEST_WORKERS:-2}" --dist loadfile)
fi

# pytest_run NAME ARGS...: runs pytest, adds its counts from the JUnit XML.
pytest_run() {
	local name=$1 rc counts p f s
	shift
	/usr/bin/python3 -m pytest -q -p no:cacheprovider "${XDIST[@]}" \
		--junitxml="build/reports/$name.xml" "$@"; rc=$?
	counts=$(/usr/bin/python3 - "build/reports/$name.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1, 0); raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f, sk)
PY
)
	read -r p f s <<<"$counts"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "check: $name ran no test"; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

echo "== integration tests (lighttpd + FastCGI)"
pytest_run integration tests/integration

# The core suite, one suite on every server. As plain CGI the long poll is
# the real-time path of hosts where no daemon may run, so it runs there too.
# Under Apache (the shared-host path: no ws-daemon) conftest.py skips the
# WebSocket tests.
CORE=(tests/integration/test_core_flow.py tests/integration/test_abuse.py tests/integration/test_websocket.py
	tests/integration/test_files.py)
LONG_POLL=(tests/integration/test_realtime.py::test_long_poll)
echo "== core integration tests (nginx + spawn-fcgi)"
PARLEY_FRONTEND=nginx pytest_run integration-nginx "${CORE[@]}" tests/integration/test_static.py
echo "== core integration tests (lighttpd mod_cgi: plain CGI)"
PARLEY_FRONTEND=cgi pytest_run integration-cgi "${CORE[@]}" "${LONG_POLL[@]}"
echo "== core integration tests (Apache mod_cgi + cgi-bin/htaccess.example: shared host)"
PARLEY_FRONTEND=apache pytest_run integration-apache \
	tests/integration/test_core_flow.py tests/integration/test_abuse.py tests/integration/test_files.py tests/integration/test_static.py \
	"${LONG_POLL[@]}"

# The whole integration suite again on PostgreSQL 15 (issue 14): every
# server on a database of its own in one throwaway cluster (pg_util.py),
# plus what only PostgreSQL has (several frontends on one database).
echo "== integration tests on PostgreSQL (lighttpd + FastCGI)"
PARLEY_ENGINE=postgres pytest_run integration-postgres tests/integration
# Plain CGI on PostgreSQL: every request loads libpq and connects anew.
echo "== core integration tests on PostgreSQL (lighttpd mod_cgi: plain CGI)"
PARLEY_ENGINE=postgres PARLEY_FRONTEND=cgi pytest_run integration-cgi-postgres \
	tests/integration/test_core_flow.py tests/integration/test_files.py "${LONG_POLL[@]}"

# Everything again on the AddressSanitizer + UBSan build (make sanitize):
# a report aborts the process; the suite's teardown also scans the logs.
# Left out there (time budget): the slow tests, and the modules about
# installation, docs and tools rather than request paths (make install
# and the deployment paths, the README walkthrough, --version, the copy to
# PostgreSQL, the login flood's timing, the harness itself); the C they
# reach is reached by the rest of the suite.
SAN_SKIP=(test_ops.py test_readme.py test_version.py test_copy_postgres.py
	test_login_flood.py test_harness_http.py)
if [ -n "${SAN_BIN:-}" ]; then
	echo "== unit tests (sanitizers)"
	# shellcheck disable=SC2086
	run_units ${SAN_UNIT:-}
	echo "== integration tests (sanitizers)"
	PARLEY_BIN=$SAN_BIN pytest_run integration-san -m "not slow" \
		"${SAN_SKIP[@]/#/--ignore=tests/integration/}" tests/integration
fi

# Each fuzz target briefly (make fuzz runs them longer), regressions first.
if [ -x build/fuzz/fuzz_json ]; then
	echo "== fuzz smoke runs"
	scripts/fuzz.sh "${FUZZ_SECONDS:-5}" >build/reports/fuzz.log 2>&1
	cat build/reports/fuzz.log
	read -r p f < <(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' build/reports/fuzz.log | tail -1)
	p=${p:-0}; f=${f:-1}
	passed=$((passed + p)); failed=$((failed + f))
fi

# The web client in Chromium, the OpenAPI checks and the Postman collection.
if [ -x scripts/check-client.sh ]; then
	echo "== client: browser, OpenAPI, Postman"
	scripts/check-client.sh >build/reports/client.log 2>&1; rc=$?
	cat build/reports/client.log
	out=$(grep -E '^client: [0-9]+ passed, [0-9]+ failed$' build/reports/client.log | tail -1)
	p=$(printf '%s' "$out" | sed -n 's/^client: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(printf '%s' "$out" | sed -n 's/^client: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "check: the client checks reported nothing"; fi
	passed=$((passed + p)); failed=$((failed + f))
fi

# The source tarball (make dist) builds on its own (~10-60 s).
echo "== source tarball (make check-dist)"
if make --no-print-directory check-dist >build/reports/dist.log 2>&1; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
tail -3 build/reports/dist.log

# The Debian package (issue 18): built from the make dist tarball, lintian
# without errors, installed into a throwaway chroot and served from there
# (~2.5 minutes with the build; root and the DEB_DEPS of scripts/deps.sh,
# which make deb installs). make check stays under its time budget without
# it: here only a quick lint of the maintainer scripts, and the full test
# when PARLEY_CHECK_DEB=1 (or by itself: make check-deb).
echo "== Debian package"
if sh -n debian/parley.postinst && sh -n debian/parley.postrm &&
	grep -q '^Package: parley$' debian/control && [ -x debian/rules ]; then
	passed=$((passed + 1))
else
	echo "check: debian/ maintainer scripts or control do not parse"
	failed=$((failed + 1))
fi
if [ "${PARLEY_CHECK_DEB:-0}" = 1 ]; then
	if make --no-print-directory check-deb >build/reports/deb.log 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	grep -E '^(E|W):|^check-deb|^deb:|FAIL' build/reports/deb.log || true
else
	echo "check: the package's install test is make check-deb (or PARLEY_CHECK_DEB=1 make check)"
fi

# The container image (issue 18): building it and running the core suite
# against it takes minutes and root (make check-container); here only the
# lint of the Containerfile, its helpers and compose.yaml (seconds).
echo "== container files"
if /usr/bin/python3 scripts/lint-container.py; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
echo "check: the image's build and run test is make check-container"

# The shared-host bundle (make bundle, make check-bundle: root, a Debian 11
# chroot, a few minutes): here only that its scripts parse.
echo "== shared-host bundle scripts"
if bash -n scripts/bundle.sh && bash -n scripts/check-bundle.sh &&
	grep -q '@GLIBC_MIN@' scripts/bundle-INSTALL.in; then
	passed=$((passed + 1))
	echo "check: the bundle's own test is make check-bundle (as root)"
else
	echo "check: scripts/bundle.sh or scripts/check-bundle.sh do not parse"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

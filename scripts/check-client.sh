#!/usr/bin/env bash
# check-client.sh — the web client in real Chromium, the OpenAPI checks and
# the Postman collection, against a parley started here on free ports.
#
# Steps: installs the npm devDependencies of tests/client if missing (npm ci;
# no browser download: Chromium is Debian's /usr/bin/chromium, which make
# deps installs; this script installs no Debian package); starts scripts/serve.sh in its own process group with a
# fresh data dir (stopped on exit); then runs
#   1. the OpenAPI lint of docs/openapi.yaml (@redocly/cli),
#   2. tests/client/routes.test.mjs (described routes <=> served routes),
#   3. tests/client/browser.test.mjs (playwright-core + Chromium; screenshots
#      in build/screenshots/) and tests/client/reading.test.mjs (the reading
#      experience: markdown, grouping and days, jumps to a message, the unread
#      line, the character counter, the offline queue, search by prefix and
#      phrase with marked matches, notices clear of the composer, the files
#      served compressed and revalidated) and
#      tests/client/compose.test.mjs (composing: @mention suggestions and
#      highlights, :shortcode: emoji, the fuller reaction picker, the edit
#      box's counter and place under the toolbar),
#      tests/client/panels.test.mjs (threads in the side panel, pins, edit
#      history, Copy link and permalinks to replies),
#      tests/client/screens.test.mjs (desktop notifications and their sound,
#      the first screen, the channel browser, topic editing, one history
#      request on a reload, presence after a window closes),
#      tests/client/a11y.test.mjs (accessibility: keyboard use and focus, skip
#      links, themes, the phone's message menu, axe-core with no serious or
#      critical WCAG 2 A/AA violation, light and dark, desktop and phone),
#      (what these files share: tests/client/support.mjs),
#   4. newman with docs/parley.postman_collection.json + environment.
# Exits non-zero on any failure; the last line is always
# `client: N passed, N failed` (a crashed step counts as a failure).
#
# Environment: CHROMIUM (default /usr/bin/chromium), PARLEY_BIN (programs,
# default build/bin), CLIENT_KEEP_VAR=1 keeps the server's data dir,
# FILE_MAX_BYTES (the server's upload limit, default 2000000 here; the
# browser tests upload a file 1 MB over it).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENT=$ROOT/tests/client
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
passed=0
failed=0
server_pid=
VAR=$(mktemp -d "${TMPDIR:-/tmp}/parley-client.XXXXXX")
OUT=$VAR/results
mkdir -p "$OUT" "$ROOT/build/screenshots"

cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM -- "-$server_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "${CLIENT_KEEP_VAR:-0}" = 1 ]; then
		echo "client: server data and logs kept in $VAR"
	else
		rm -rf "$VAR"
	fi
}
finish() {
	cleanup
	echo "client: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
trap finish EXIT
trap 'exit 130' INT TERM

fail_step() { echo "client: FAILED: $*" >&2; failed=$((failed + 1)); }
section() { printf '\n== client: %s\n' "$*"; }

# --- prerequisites -------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	fail_step "node (>= 20.19) and npm are needed (scripts/deps.sh --check says more)"
	exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
	fail_step "$CHROMIUM is missing: make deps installs Debian's chromium"
	exit 1
fi
# Colour emoji in screenshots (reactions); optional.
if ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then
	echo "client: no emoji font, screenshots show boxes (make deps installs fonts-noto-color-emoji)"
fi
if [ ! -f "$CLIENT/node_modules/.package-lock.json" ] ||
	[ "$CLIENT/package-lock.json" -nt "$CLIENT/node_modules/.package-lock.json" ]; then
	section "npm ci (tests/client devDependencies)"
	(cd "$CLIENT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
		{ fail_step "npm ci"; exit 1; }
fi
BIN=${PARLEY_BIN:-$ROOT/build/bin}
if [ ! -x "$BIN/parley-auth" ] || [ ! -x "$BIN/parleyctl" ]; then
	fail_step "parley is not built ($BIN): run make first"
	exit 1
fi

# --- a server of our own -------------------------------------------------
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PORT=$(free_port)
WS_PORT=$(free_port)
while [ "$WS_PORT" = "$PORT" ]; do WS_PORT=$(free_port); done
BASE=http://127.0.0.1:$PORT
section "starting parley on $BASE (ws-daemon on $WS_PORT, data in $VAR)"
# A small upload limit, so that the browser tests can send a file over it
# (serve.sh reads FILE_MAX_BYTES; the tests read it too).
export FILE_MAX_BYTES=${FILE_MAX_BYTES:-2000000}
# Headroom for the registrations and logins of the tests (all from 127.0.0.1).
EXTRA=$'register_addr_limit = 100000\nlogin_addr_limit = 100000\nlogin_user_limit = 1000'
setsid env PORT="$PORT" WS_PORT="$WS_PORT" PARLEY_VAR="$VAR/srv" PARLEY_EXTRA_CONF="$EXTRA" \
	"$ROOT/scripts/serve.sh" >"$VAR/serve.log" 2>&1 &
server_pid=$!
up=0
for _ in $(seq 150); do
	if curl -fsS "$BASE/api/health" >/dev/null 2>&1; then up=1; break; fi
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.2
done
if [ "$up" != 1 ]; then
	tail -20 "$VAR/serve.log" >&2
	fail_step "parley did not come up on $BASE"
	exit 1
fi
# And the WebSocket daemon behind /ws (a 401 for no credentials means it answers).
for _ in $(seq 50); do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
		-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$BASE/ws" || true)
	[ "$code" = 401 ] && break
	sleep 0.2
done

# Runs a node:test file; adds its passes and failures (a crash counts as one).
run_node_tests() {
	local name=$1 file=$2 tap="$OUT/$1.tap" p f
	section "$name"
	(cd "$CLIENT" && PARLEY_URL=$BASE timeout 240 node --test --test-timeout=180000 \
		--test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination="$tap" "$file")
	local rc=$?
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
	if [ -z "$p" ] || [ -z "$f" ]; then
		fail_step "$name crashed (status $rc)"
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail_step "$name exited with status $rc"; fi
}

# --- 1. OpenAPI lint -------------------------------------------------------
section "OpenAPI lint (redocly) of docs/openapi.yaml"
if (cd "$CLIENT" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	node_modules/.bin/redocly lint --config redocly.yaml "$ROOT/docs/openapi.yaml" 2>&1 |
	grep -v '║\|╔\|╚'; exit "${PIPESTATUS[0]}"); then
	passed=$((passed + 1))
else
	fail_step "OpenAPI lint"
fi

# --- 2. described routes <=> served routes -------------------------------
run_node_tests "OpenAPI route coverage" routes.test.mjs

# --- 3. the web client in Chromium ----------------------------------------
run_node_tests "web client in Chromium" browser.test.mjs
run_node_tests "web client in Chromium: reading" reading.test.mjs
run_node_tests "web client in Chromium: compose" compose.test.mjs
run_node_tests "web client in Chromium: panels" panels.test.mjs
run_node_tests "web client in Chromium: screens" screens.test.mjs
run_node_tests "web client in Chromium: a11y" a11y.test.mjs
echo "client: screenshots in build/screenshots/"

# --- 4. newman -------------------------------------------------------------
section "newman: docs/parley.postman_collection.json"
(cd "$CLIENT" && timeout 180 node_modules/.bin/newman run "$ROOT/docs/parley.postman_collection.json" \
	-e "$ROOT/docs/parley.postman_environment.json" --env-var "base_url=$BASE" \
	--reporters cli,json --reporter-json-export "$OUT/newman.json" --reporter-cli-no-banner \
	--reporter-cli-no-console --timeout-request 30000 --color off)
rc=$?
counts=$(node -e '
	const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).run.stats;
	const failed = r.assertions.failed + r.testScripts.failed + r.prerequestScripts.failed + r.requests.failed;
	console.log((r.assertions.total - r.assertions.failed) + " " + failed);' "$OUT/newman.json" 2>/dev/null)
if [ -z "$counts" ]; then
	fail_step "newman crashed (status $rc)"
else
	passed=$((passed + ${counts% *}))
	failed=$((failed + ${counts#* }))
	if [ "$rc" -ne 0 ] && [ "${counts#* }" -eq 0 ]; then fail_step "newman exited with status $rc"; fi
fi

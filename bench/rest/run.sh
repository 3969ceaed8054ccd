#!/usr/bin/env bash
# bench/rest/run.sh — REST benchmarks with wrk against a real parley
# (lighttpd + FastCGI + SQLite), each endpoint reported against the floor:
# a no-op FastCGI responder behind the same lighttpd configuration.
#
#   bench/rest/run.sh                 # 10 s per endpoint, 1,000,000 messages
#   DURATION=30 MESSAGES=1000000 CONNS=64 PROCS=4 bench/rest/run.sh
#
# Prints one line per endpoint: req/s, p50, p99 and req/s as % of the floor.
# Bounded in time: about (7 endpoints x DURATION) + database generation.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-10}
MESSAGES=${MESSAGES:-1000000}
CONNS=${CONNS:-64}
PROCS=${PROCS:-4}
THREADS=${THREADS:-2}
cd "$ROOT"
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
make -s all
WORK=$(mktemp -d /tmp/parley-bench.XXXXXX)
mkdir -p "$WORK/bin" "$WORK/var"
for f in build/bin/*; do ln -s "$ROOT/$f" "$WORK/bin/"; done
cc -O2 -o "$WORK/bin/parley-noop" bench/rest/noop.c -lfcgi

PORT=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
PARLEY_BIN=$WORK/bin PARLEY_VAR=$WORK/var PARLEY_PROCS=$PROCS PORT=$PORT WS_PORT=$((PORT + 1)) \
	setsid scripts/serve.sh >"$WORK/serve.log" 2>&1 </dev/null &
SERVE=$!
cleanup() { kill -TERM "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "$B/api/health" >/dev/null && break; sleep 0.1; done

J='Content-Type: application/json'
curl -sf -X POST "$B/api/auth/register" -H "$J" -d '{"username":"bench","password":"bench-password"}' >/dev/null
TOKEN=$(curl -sf -X POST "$B/api/auth/login" -H "$J" -d '{"username":"bench","password":"bench-password"}' |
	/usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
echo "bench: generating $MESSAGES messages..."
read -r BIG SMALL < <(/usr/bin/python3 bench/rest/gen_db.py "$WORK/var/parley.db" bench "$MESSAGES")

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"channel_id":$SMALL,"content":"benchmark post"}'
LUA
cat >"$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"bench","password":"bench-password"}'
LUA

FLOOR=0
run() { # name path [lua]
	local name=$1 path=$2 lua=${3:-} out rps p50 p99 ratio
	local args=(-t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN")
	[ -n "$lua" ] && args+=(-s "$lua")
	out=$(wrk "${args[@]}" "$B$path")
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	[ "$name" = floor ] && FLOOR=$rps
	ratio=$(awk -v a="$rps" -v b="$FLOOR" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
	printf '%-28s %10s req/s  p50 %8s  p99 %8s  %6s of floor  %s\n' "$name" "$rps" "$p50" "$p99" "$ratio" \
		"${non2xx:+($non2xx non-2xx)}"
}

echo "bench: $(nproc) cores, wrk -t$THREADS -c$CONNS -d${DURATION}s, $PROCS FastCGI processes per program, $MESSAGES messages"
PAGE=$(curl -sf -H "Authorization: Bearer $TOKEN" "$B/api/messages/history?channel=$SMALL&limit=50" | wc -c)
run floor /api/noop
run "floor, $PAGE-byte body" "/api/noop?bytes=$PAGE"
run "GET /api/auth/validate" /api/auth/validate
run "GET /api/channels" /api/channels
run "history, 1,000 messages" "/api/messages/history?channel=$SMALL&limit=50"
run "history, $MESSAGES messages" "/api/messages/history?channel=$BIG&limit=50"
run "history, deep cursor" "/api/messages/history?channel=$BIG&limit=50&before=$((MESSAGES / 2))"
run "POST /api/messages" /api/messages "$WORK/post.lua"
run "POST /api/auth/login" /api/auth/login "$WORK/login.lua"

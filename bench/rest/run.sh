#!/usr/bin/env bash
# bench/rest/run.sh — REST benchmarks with wrk against a real parley
# (lighttpd + FastCGI + SQLite or PostgreSQL), each endpoint reported
# against the floor: a no-op FastCGI responder behind the same lighttpd
# configuration.
#
#   bench/rest/run.sh                 # 10 s per endpoint, 1,000,000 messages
#   DURATION=30 MESSAGES=1000000 CONNS=64 PROCS=4 bench/rest/run.sh
#   ENGINE=postgres bench/rest/run.sh # the same on a local PostgreSQL 15
#   MODE=writes bench/rest/run.sh     # the write lock: posts by concurrency,
#                                     # reads beside writes
#
# ENGINE: sqlite (default) or postgres (scripts/serve.sh PARLEY_LOCAL_PG=1:
# a cluster in the run's temporary data directory, stopped and removed at
# exit; gen_db.py fills it through psycopg2).
# MODE: endpoints (default) prints one line per endpoint: req/s, p50, p99
# and req/s as % of the floor. writes: every write transaction holds the
# one write lock (BEGIN IMMEDIATE on SQLite, an advisory lock on
# PostgreSQL: docs/DECISIONS.md), so it prints POST /api/messages at 1, 2,
# 4, ... CONNS connections (throughput should stay flat while p99 grows
# with the queue), then a history read alone and again while CONNS/2
# connections post (reads take no lock, so they should barely move).
# Bounded in time: about (9 runs x DURATION) + database generation.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-10}
MESSAGES=${MESSAGES:-1000000}
CONNS=${CONNS:-64}
PROCS=${PROCS:-4}
THREADS=${THREADS:-2}
ENGINE=${ENGINE:-sqlite}
MODE=${MODE:-endpoints}
case $ENGINE in
sqlite) LOCAL_PG=0 ;;
postgres) LOCAL_PG=1 ;;
*) echo "bench: ENGINE must be sqlite or postgres" >&2; exit 2 ;;
esac
case $MODE in
endpoints | writes) ;;
*) echo "bench: MODE must be endpoints or writes" >&2; exit 2 ;;
esac
cd "$ROOT"
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
if [ "$ENGINE" = postgres ]; then
	[ -x /usr/lib/postgresql/15/bin/initdb ] ||
		{ echo "bench: PostgreSQL 15 is needed (apt-get install postgresql-15)" >&2; exit 1; }
	/usr/bin/python3 -c 'import psycopg2' 2>/dev/null ||
		{ echo "bench: psycopg2 is needed (apt-get install python3-psycopg2)" >&2; exit 1; }
fi
make -s all
WORK=$(mktemp -d /tmp/parley-bench.XXXXXX)
mkdir -p "$WORK/bin" "$WORK/var"
# As root the cluster runs as `postgres` (scripts/pg.sh), which must reach
# $WORK/var/pg: mktemp's directory is 0700.
[ "$ENGINE" = postgres ] && chmod 711 "$WORK" "$WORK/var"
for f in build/bin/*; do ln -s "$ROOT/$f" "$WORK/bin/"; done
cc -O2 -o "$WORK/bin/parley-noop" bench/rest/noop.c -lfcgi

PORT=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
PARLEY_BIN=$WORK/bin PARLEY_VAR=$WORK/var PARLEY_PROCS=$PROCS PORT=$PORT WS_PORT=$((PORT + 1)) \
	PARLEY_LOCAL_PG=$LOCAL_PG setsid scripts/serve.sh >"$WORK/serve.log" 2>&1 </dev/null &
SERVE=$!
cleanup() {
	kill -TERM "$SERVE" 2>/dev/null || true
	wait "$SERVE" 2>/dev/null || true
	# serve.sh stops the cluster when it stops; again in case it died first
	[ "$ENGINE" = postgres ] && scripts/pg.sh stop "$WORK/var"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # the cleanup above then runs too
# initdb and the cluster's start come first on PostgreSQL: up to 60 s.
for _ in $(seq 600); do
	curl -sf "$B/api/health" >/dev/null && break
	kill -0 "$SERVE" 2>/dev/null || break
	sleep 0.1
done
curl -sf "$B/api/health" >/dev/null || { echo "bench: the server did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }

J='Content-Type: application/json'
curl -sf -X POST "$B/api/auth/register" -H "$J" -d '{"username":"bench","password":"bench-password"}' >/dev/null
TOKEN=$(curl -sf -X POST "$B/api/auth/login" -H "$J" -d '{"username":"bench","password":"bench-password"}' |
	/usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
if [ "$ENGINE" = postgres ]; then
	DB=$(sed -n 's/^db_url = //p' "$WORK/var/parley.conf" | tail -n 1)
	[ -n "$DB" ] || { echo "bench: no db_url in $WORK/var/parley.conf" >&2; exit 1; }
else
	DB=$WORK/var/parley.db
fi
echo "bench: generating $MESSAGES messages ($ENGINE)..."
T0=$(date +%s)
read -r BIG SMALL < <(/usr/bin/python3 bench/rest/gen_db.py "$DB" bench "$MESSAGES")
echo "bench: generated in $(($(date +%s) - T0)) s"

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

# wrk_run out conns path [lua]: one wrk run, its output in the file out.
wrk_run() {
	local out=$1 conns=$2 path=$3 lua=${4:-} threads=$THREADS
	[ "$threads" -gt "$conns" ] && threads=$conns
	local args=(-t"$threads" -c"$conns" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN")
	[ -n "$lua" ] && args+=(-s "$lua")
	wrk "${args[@]}" "$B$path" >"$out"
}
FLOOR=0
# report name out: one line from wrk's output.
report() {
	local name=$1 out rps p50 p99 ratio non2xx timeouts
	out=$(cat "$2")
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	# wrk gives up on a request after 2 s: those are in no other column
	timeouts=$(awk '/Socket errors:/ && $NF > 0 {print $NF}' <<<"$out")
	[ "$name" = floor ] && FLOOR=$rps
	ratio=$(awk -v a="$rps" -v b="$FLOOR" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
	printf '%-28s %10s req/s  p50 %8s  p99 %8s  %6s of floor  %s\n' "$name" "$rps" "$p50" "$p99" "$ratio" \
		"$(echo ${non2xx:+($non2xx non-2xx)} ${timeouts:+($timeouts timeouts)})"
}
run() { # name path [lua]
	wrk_run "$WORK/wrk.out" "$CONNS" "$2" "${3:-}"
	report "$1" "$WORK/wrk.out"
}

echo "bench: $ENGINE, $MODE, $(nproc) cores, wrk -t$THREADS -c$CONNS -d${DURATION}s, $PROCS FastCGI processes per program, $MESSAGES messages"
PAGE=$(curl -sf -H "Authorization: Bearer $TOKEN" "$B/api/messages/history?channel=$SMALL&limit=50" | wc -c)
run floor /api/noop
if [ "$MODE" = writes ]; then
	c=1
	while :; do
		wrk_run "$WORK/wrk.out" "$c" /api/messages "$WORK/post.lua"
		report "POST /api/messages, c=$c" "$WORK/wrk.out"
		[ "$c" -ge "$CONNS" ] && break
		c=$((c * 2 > CONNS ? CONNS : c * 2))
	done
	HALF=$(((CONNS + 1) / 2))
	HIST="/api/messages/history?channel=$BIG&limit=50"
	wrk_run "$WORK/wrk.out" "$HALF" "$HIST"
	report "history alone, c=$HALF" "$WORK/wrk.out"
	# posts to bench-small, reads of bench-big
	wrk_run "$WORK/posts.out" "$HALF" /api/messages "$WORK/post.lua" &
	POSTS=$!
	wrk_run "$WORK/wrk.out" "$HALF" "$HIST"
	wait "$POSTS"
	report "history beside posts, c=$HALF" "$WORK/wrk.out"
	report "POST beside history, c=$HALF" "$WORK/posts.out"
	exit 0
fi
run "floor, $PAGE-byte body" "/api/noop?bytes=$PAGE"
run "GET /api/auth/validate" /api/auth/validate
run "GET /api/channels" /api/channels
run "history, 1,000 messages" "/api/messages/history?channel=$SMALL&limit=50"
run "history, $MESSAGES messages" "/api/messages/history?channel=$BIG&limit=50"
run "history, deep cursor" "/api/messages/history?channel=$BIG&limit=50&before=$((MESSAGES / 2))"
run "POST /api/messages" /api/messages "$WORK/post.lua"
run "POST /api/auth/login" /api/auth/login "$WORK/login.lua"

#!/usr/bin/env bash
# bench/files/run.sh — file downloads (issue 15): GET /api/files/{id}
# through the offload path (lighttpd X-Sendfile, nginx X-Accel-Redirect;
# plain CGI: the program streams the bytes itself) against the same web
# server serving the same bytes as a static file from its document root,
# measured with wrk.
#
#   bench/files/run.sh                          # lighttpd, nginx, cgi
#   FRONTENDS=nginx DURATION=10 bench/files/run.sh
#   SIZES="4096 1048576" CONNS="1 16" bench/files/run.sh
#
# For each frontend in FRONTENDS a fresh server (scripts/serve.sh on free
# ports, a data directory and a copy of www/ as document root in a temporary
# directory, all removed at exit), one registered user, one upload (raw
# body, random bytes) per size in SIZES; then, at each connection count in
# CONNS, wrk for DURATION seconds against
#   api     GET /api/files/{id} with the user's Authorization header,
#   static  the same bytes copied into the document root (www/bench/),
# and a Range request (bytes=0-65535 of the largest size) both ways; and,
# as the program's floor, GET /api/auth/validate (the same token and
# session checks, no file).
# Before the runs, curl checks every URL once: status, length and the
# bytes' SHA-256, so the figures are of correct answers.
# Printed per line (static, then api under it): req/s, MB/s of body (10^6
# bytes: requests answered 2xx x body size / duration), latency p50 and
# p99, CPU of the server's processes and of wrk over the run (% of one
# core: which side is the bottleneck), the server's CPU time per request,
# and api req/s as % of static. Before each run the server is let settle
# (under CGI programs of the previous run may still be writing to closed
# connections). Nothing is asserted: a benchmark, not a test.
# Bounded in time: frontends x ((sizes + 1) x 2 + 1) x conns wrk runs of
# DURATION s (81 x 3 s by default) plus about 1 s per run to settle and a
# few s per server: about 5.5 minutes here;
# every wrk and curl has its own timeout.
#
# Environment: FRONTENDS (default "lighttpd nginx cgi"), SIZES in bytes
# (default "4096 262144 8388608"), CONNS (default "1 8 64"), DURATION
# seconds per wrk run (default 3), THREADS (wrk threads, default 2, at most
# the connections), PROCS (FastCGI processes per program, default 2; the
# cgi frontend has none), NGINX_SENDFILE=1 (nginx with `sendfile on`, as
# Debian's nginx.conf has it; serve.sh's generated config leaves it off).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FRONTENDS=${FRONTENDS:-lighttpd nginx cgi}
SIZES=${SIZES:-4096 262144 8388608}
CONNS=${CONNS:-1 8 64}
DURATION=${DURATION:-3}
THREADS=${THREADS:-2}
PROCS=${PROCS:-2}
NGINX_SENDFILE=${NGINX_SENDFILE:-0}
RANGE_LEN=65536
for f in $FRONTENDS; do
	case $f in
	lighttpd | nginx | cgi) ;;
	*) echo "bench: FRONTENDS may name lighttpd, nginx and cgi, not $f" >&2; exit 2 ;;
	esac
done
cd "$ROOT"
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { echo "bench: curl is needed (apt-get install curl)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
case " $FRONTENDS " in *" nginx "*)
	command -v nginx >/dev/null && command -v spawn-fcgi >/dev/null ||
		{ echo "bench: nginx and spawn-fcgi are needed for FRONTENDS=nginx" >&2; exit 1; } ;;
esac
make -s all

WORK=$(mktemp -d /tmp/parley-bench-files.XXXXXX)
# nginx's workers (nobody) read the document root and files_dir below it.
chmod 711 "$WORK"
SERVE=
stop_server() {
	[ -n "$SERVE" ] || return 0
	kill -TERM "$SERVE" 2>/dev/null || true
	# serve.sh stops what it started; whatever of its group (setsid: it
	# leads its own) is left after it, or after 10 s, goes.
	for _ in $(seq 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$SERVE" 2>/dev/null || true
	wait "$SERVE" 2>/dev/null || true
	SERVE=
}
cleanup() {
	stop_server
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # the cleanup above then runs too

# Two free loopback ports: the web server's and the ws-daemon's.
read -r PORT WS_PORT < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

# The files, random (nothing to deduplicate, nothing for libmagic to find),
# made once and used by every frontend.
mkdir -p "$WORK/data"
declare -A SUM
for size in $SIZES; do
	head -c "$size" /dev/urandom >"$WORK/data/$size.bin"
	SUM[$size]=$(sha256sum <"$WORK/data/$size.bin" | cut -d' ' -f1)
done
LARGEST=$(tr ' ' '\n' <<<"$SIZES" | sort -n | tail -n 1)
[ "$LARGEST" -ge "$RANGE_LEN" ] || { echo "bench: the largest size must be at least $RANGE_LEN bytes" >&2; exit 2; }
RANGE_SUM=$(head -c "$RANGE_LEN" "$WORK/data/$LARGEST.bin" | sha256sum | cut -d' ' -f1)

# wrk's own summary, machine-readable (the done() hook; no per-request
# Lua, so wrk stays on its fast path): requests, answers with a status
# over 399, socket errors and timeouts, duration (us), latency p50 and p99
# (us).
lua() { # file [header-name header-value]...
	local out=$1
	shift
	{
		while [ $# -gt 0 ]; do
			printf 'wrk.headers["%s"] = "%s"\n' "$1" "$2"
			shift 2
		done
		cat <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
LUA
	} >"$out"
}

# check name url status sha256 [header]...: one request by curl; fails
# unless the status and the bytes (hence the length) are the expected ones.
check() {
	local name=$1 url=$2 want=$3 sum=$4 got
	local args=(-s -m 30 -o "$WORK/body" -w '%{http_code}')
	shift 4
	for h in "$@"; do args+=(-H "$h"); done
	got=$(curl "${args[@]}" "$url") || true
	if [ "$got" != "$want" ] || [ "$(sha256sum <"$WORK/body" | cut -d' ' -f1)" != "$sum" ]; then
		echo "bench: $FRONTEND, $name: status $got (want $want) or wrong bytes from $url" >&2
		exit 1
	fi
}

# CPU time (clock ticks) of every process in the server's session (serve.sh
# leads its own, setsid; what it starts stays in it, exited CGI programs
# are counted in their parent's cutime/cstime).
cat >"$WORK/sesscpu.py" <<'PY'
import os, sys
sid, total = int(sys.argv[1]), 0
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            s = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        f = s[s.rindex(")") + 2:].split()
        if int(f[3]) == sid:
            total += sum(int(x) for x in f[11:15])
print(total)
PY
sess_cpu() { /usr/bin/python3 "$WORK/sesscpu.py" "$SERVE"; }
TICK=$(getconf CLK_TCK)
# settle: waits (at most 30 s) until the server is idle — under CGI the
# programs of the previous run may still be sending to connections wrk has
# closed — so that no run pays for the one before.
settle() {
	local a b
	a=$(sess_cpu)
	for _ in $(seq 60); do
		sleep 0.5
		b=$(sess_cpu)
		[ $((b - a)) -le $((TICK / 20)) ] && return 0 # under 10 % of a core
		a=$b
	done
}

# measure conns lua url bytes: one wrk run; prints "req/s MB/s p50 p99
# non2xx sockerr srvcpu wrkcpu srvus" (CPU in % of one core over the run;
# the server's is every process of its session; srvus: the server's CPU
# time per answered request, microseconds).
measure() {
	local conns=$1 script=$2 url=$3 bytes=$4 threads=$THREADS line c0 c1 t0 t1 wcpu
	[ "$threads" -gt "$conns" ] && threads=$conns
	settle
	c0=$(sess_cpu)
	t0=$(date +%s.%N)
	line=$(timeout $((DURATION + 30)) /usr/bin/time -f 'TIME %U %S' -o "$WORK/time" \
		wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 10s -s "$script" "$url" |
		awk '$1 == "WRK"') || true
	t1=$(date +%s.%N)
	c1=$(sess_cpu)
	wcpu=$(awk '$1 == "TIME" {print $2 + $3}' "$WORK/time" 2>/dev/null)
	[ -n "$line" ] || { echo "- - - - - - - - - wrk-failed"; return; }
	awk -v b="$bytes" -v srv=$((c1 - c0)) -v tick="$TICK" -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
	    -v wcpu="${wcpu:-0}" '{
		n = $2; d = $5 / 1e6
		us = "-"
		if (n == 0) { $6 = "-"; $7 = "-" } else us = sprintf("%.0f", 1e6 * srv / tick / n)
		printf "%.0f %.1f %s %s %d %d %.0f %.0f %s\n", n / d, (n - $3) * b / d / 1e6, $6, $7, $3, $4,
			100 * srv / tick / wall, 100 * wcpu / wall, us }' <<<"$line"
}

fmt_us() { # microseconds -> "850us" / "12.34ms"
	awk -v u="$1" 'BEGIN { if (u == "-") print "-"; else if (u < 1000) printf "%dus", u; else printf "%.2fms", u / 1000 }'
}
human() { # bytes -> "4 KiB" / "8 MiB"
	awk -v b="$1" 'BEGIN { if (b >= 1048576 && b % 1048576 == 0) printf "%d MiB", b / 1048576;
		else if (b >= 1024 && b % 1024 == 0) printf "%d KiB", b / 1024; else printf "%d B", b }'
}
COLS='%-18s %5s %-7s %8s %8s %9s %9s %9s %8s %6s %s\n'
header() {
	printf "$COLS" "file" "conns" "path" "req/s" "MB/s" "p50" "p99" "CPU s/w" "s us/req" "vs st" ""
}
# tline what conns path "figures" [static req/s]: one line of the table.
tline() {
	local what=$1 conns=$2 path=$3 st=${5:-} pct=""
	local r m p50 p99 non sock srv wrk us failed notes=""
	read -r r m p50 p99 non sock srv wrk us failed <<<"$4"
	[ -n "$st" ] && pct=$(awk -v a="$r" -v s="$st" 'BEGIN { if (a ~ /^[0-9]/ && s > 0) printf "%.0f%%", 100 * a / s }')
	[ -n "${failed:-}" ] && notes+=" wrk failed;"
	[ "$non" != 0 ] && [ "$non" != - ] && notes+=" $non non-2xx;"
	[ "$sock" != 0 ] && [ "$sock" != - ] && notes+=" $sock socket errors/timeouts;"
	[ "$r" = 0 ] && notes+=" none answered within ${DURATION}s;"
	printf "$COLS" "$what" "$conns" "$path" "$r" "$m" "$(fmt_us "$p50")" "$(fmt_us "$p99")" \
		"$srv/$wrk" "$us" "$pct" "${notes%;}"
}
# pair what conns static-lua static-url api-lua api-url bytes: the two
# ways to the same bytes, static first, then api against it.
pair() {
	local s a
	s=$(measure "$2" "$3" "$4" "$7")
	a=$(measure "$2" "$5" "$6" "$7")
	tline "$1" "$2" static "$s"
	tline "" "" api "$a" "${s%% *}"
}

J='Content-Type: application/json'
echo "bench: $(nproc) cores, wrk -t$THREADS -d${DURATION}s, connections: $CONNS; $(uptime | sed 's/.*load/load/')"
echo "bench: MB/s of body (10^6 bytes); CPU s/w: the server's processes / wrk, % of one core;"
echo "bench: s us/req: the server's CPU time per request, us; vs st: api req/s as % of static"
for FRONTEND in $FRONTENDS; do
	V=$WORK/$FRONTEND
	mkdir -p "$V/var" "$V/www"
	cp -R www/. "$V/www/"
	mkdir -p "$V/www/bench"
	chmod 755 "$V" "$V/www" "$V/www/bench"
	PARLEY_FRONTEND=$FRONTEND PARLEY_VAR=$V/var PARLEY_WWW=$V/www PARLEY_PROCS=$PROCS \
		PORT=$PORT WS_PORT=$WS_PORT setsid scripts/serve.sh >"$V/serve.log" 2>&1 </dev/null &
	SERVE=$!
	B=http://127.0.0.1:$PORT
	for _ in $(seq 300); do
		curl -sf -m 2 "$B/api/health" >/dev/null && break
		kill -0 "$SERVE" 2>/dev/null || break
		sleep 0.1
	done
	curl -sf -m 2 "$B/api/health" >/dev/null ||
		{ echo "bench: the $FRONTEND server did not start:" >&2; cat "$V/serve.log" >&2; exit 1; }

	# NGINX_SENDFILE=1: the generated nginx.conf (scripts/nginx.conf.in)
	# leaves `sendfile` at nginx's default, off; Debian's own nginx.conf,
	# which production servers include nginx.conf.example into, turns it
	# on. This adds it and reloads nginx, to compare.
	if [ "$FRONTEND" = nginx ] && [ "$NGINX_SENDFILE" = 1 ]; then
		master=$(cat "$V/var/run/nginx.pid")
		workers=$(pgrep -P "$master" | sort | tr '\n' ' ')
		sed -i 's/^http {$/http {\n    sendfile on;/' "$V/var/nginx.conf"
		grep -q '^    sendfile on;$' "$V/var/nginx.conf" || { echo "bench: could not turn sendfile on" >&2; exit 1; }
		kill -HUP "$master"
		for _ in $(seq 100); do
			[ "$(pgrep -P "$master" | sort | tr '\n' ' ')" != "$workers" ] && break
			sleep 0.1
		done
		sleep 0.5 # the old workers finish
	fi

	curl -sf -m 30 -X POST "$B/api/auth/register" -H "$J" \
		-d '{"username":"bench","password":"bench-password"}' >/dev/null
	TOKEN=$(curl -sf -m 30 -X POST "$B/api/auth/login" -H "$J" \
		-d '{"username":"bench","password":"bench-password"}' |
		/usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
	AUTH="Authorization: Bearer $TOKEN"
	declare -A ID=()
	for size in $SIZES; do
		ID[$size]=$(curl -sf -m 60 -X POST "$B/api/files?name=bench-$size.bin" -H "$AUTH" \
			-H 'Content-Type: application/octet-stream' --data-binary "@$WORK/data/$size.bin" |
			/usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
		cp "$WORK/data/$size.bin" "$V/www/bench/$size.bin"
		chmod 644 "$V/www/bench/$size.bin"
		check "api $size" "$B/api/files/${ID[$size]}" 200 "${SUM[$size]}" "$AUTH"
		check "static $size" "$B/bench/$size.bin" 200 "${SUM[$size]}"
	done
	RANGE="Range: bytes=0-$((RANGE_LEN - 1))"
	check "api range" "$B/api/files/${ID[$LARGEST]}" 206 "$RANGE_SUM" "$AUTH" "$RANGE"
	check "static range" "$B/bench/$LARGEST.bin" 206 "$RANGE_SUM" "$RANGE"

	lua "$V/api.lua" Authorization "Bearer $TOKEN"
	lua "$V/static.lua"
	lua "$V/api-range.lua" Authorization "Bearer $TOKEN" Range "bytes=0-$((RANGE_LEN - 1))"
	lua "$V/static-range.lua" Range "bytes=0-$((RANGE_LEN - 1))"

	case $FRONTEND in
	lighttpd) how="lighttpd, $PROCS FastCGI processes per program, api: X-Sendfile" ;;
	nginx) how="nginx, $PROCS spawn-fcgi processes per program, api: X-Accel-Redirect, sendfile $([ "$NGINX_SENDFILE" = 1 ] && echo on || echo off)" ;;
	cgi) how="lighttpd mod_cgi, api: the program streams the file (a process per request)" ;;
	esac
	echo
	echo "== $how ($(uptime | sed 's/.*load/load/'))"
	header
	for size in $SIZES; do
		for c in $CONNS; do
			pair "$(human "$size")" "$c" "$V/static.lua" "$B/bench/$size.bin" \
				"$V/api.lua" "$B/api/files/${ID[$size]}" "$size"
		done
	done
	for c in $CONNS; do
		pair "$(human "$RANGE_LEN") of $(human "$LARGEST")" "$c" \
			"$V/static-range.lua" "$B/bench/$LARGEST.bin" \
			"$V/api-range.lua" "$B/api/files/${ID[$LARGEST]}" "$RANGE_LEN"
	done
	# The program's own floor: an authenticated request that sends no
	# file (token and session checked, as for a download).
	for c in $CONNS; do
		tline "no file: validate" "$c" api "$(measure "$c" "$V/api.lua" "$B/api/auth/validate" 0)"
	done
	stop_server
	rm -rf "$V"
done
echo
echo "bench: done; $(uptime | sed 's/.*load/load/')"

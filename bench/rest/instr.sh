#!/usr/bin/env bash
# bench/rest/instr.sh — instructions per REST request, counted by
# valgrind's callgrind (repeatable whatever else the machine does, unlike
# wrk's req/s): one CGI run of each program per endpoint against a small
# database, for this tree and, optionally, another checkout built beside it.
#
#   bench/rest/instr.sh                  # this tree
#   bench/rest/instr.sh /path/to/other   # side by side (build it first: make)
#
# The count includes process start (~13M instructions: dynamic linking,
# sodium_init, configuration, opening SQLite), the same for every endpoint.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OTHER=${1:-}
command -v valgrind >/dev/null || { echo "bench: valgrind is needed (apt-get install valgrind)"; exit 1; }
WORK=$(mktemp -d /tmp/parley-instr.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
BODY='{"channel_id":1,"content":"benchmark post"}'

# setup TREE VAR: a migrated database with one user, 21 channels, 200 messages.
setup() {
	local tree=$1 var=$2
	mkdir -p "$var"
	(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$var/jwt_secret")
	cat >"$var/parley.conf" <<CONF
db_path = $var/parley.db
schema_dir = $tree/schema
jwt_secret_file = $var/jwt_secret
CONF
	PARLEY_CONFIG=$var/parley.conf "$tree/build/bin/parleyctl" migrate >/dev/null
	echo bench-password | PARLEY_CONFIG=$var/parley.conf "$tree/build/bin/parleyctl" create-user bench >/dev/null
}

# cgi TREE VAR PROG METHOD URI [BODY] [TOKEN] [COUNT]: runs one request;
# prints the body, or with COUNT the instruction count.
cgi() {
	local tree=$1 var=$2 prog=$3 method=$4 uri=$5 body=${6:-} token=${7:-} count=${8:-}
	local q=""
	[[ "$uri" == *\?* ]] && q=${uri#*\?}
	local env=(env -i PATH=/usr/bin:/bin PARLEY_CONFIG="$var/parley.conf" REQUEST_METHOD="$method"
		   REQUEST_URI="$uri" QUERY_STRING="$q" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1
		   CONTENT_TYPE=application/json CONTENT_LENGTH=${#body})
	[ -n "$token" ] && env+=(HTTP_AUTHORIZATION="Bearer $token")
	if [ -n "$count" ]; then
		printf '%s' "$body" | "${env[@]}" valgrind --tool=callgrind \
			--callgrind-out-file="$WORK/cg.out" "$tree/build/bin/parley-$prog" >/dev/null 2>"$WORK/cg.err"
		awk '/Collected/ {print $NF}' "$WORK/cg.err"
	else
		printf '%s' "$body" | "${env[@]}" "$tree/build/bin/parley-$prog" | sed '1,/^\r\?$/d'
	fi
}

prepare() { # TREE VAR -> prints the token
	local tree=$1 var=$2 tok
	setup "$tree" "$var"
	tok=$(cgi "$tree" "$var" auth POST /api/auth/login '{"username":"bench","password":"bench-password"}' |
	      /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
	for i in $(seq 21); do cgi "$tree" "$var" channels POST /api/channels "{\"name\":\"c$i\"}" "$tok" >/dev/null; done
	for i in $(seq 200); do cgi "$tree" "$var" messages POST /api/messages "$BODY" "$tok" >/dev/null; done
	echo "$tok"
}

trees=("$ROOT")
[ -n "$OTHER" ] && trees+=("$(cd "$OTHER" && pwd)")
declare -A tok
for i in "${!trees[@]}"; do tok[$i]=$(prepare "${trees[$i]}" "$WORK/v$i"); done
printf '%-40s' "instructions per request"
for t in "${trees[@]}"; do printf ' %16s' "$(basename "$t")"; done
echo
for e in "auth GET /api/auth/validate" "channels GET /api/channels" \
	 "messages GET /api/messages/history?channel=1&limit=50" "messages POST /api/messages"; do
	read -r prog method uri <<<"$e"
	printf '%-40s' "$method $uri"
	for i in "${!trees[@]}"; do
		body=""; [ "$method" = POST ] && body=$BODY
		cgi "${trees[$i]}" "$WORK/v$i" "$prog" "$method" "$uri" "$body" "${tok[$i]}" >/dev/null  # warm: checkpoint
		printf ' %16s' "$(cgi "${trees[$i]}" "$WORK/v$i" "$prog" "$method" "$uri" "$body" "${tok[$i]}" 1)"
	done
	echo
done

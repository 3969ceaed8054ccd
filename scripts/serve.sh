#!/usr/bin/env bash
# serve.sh — runs parley in the foreground: migrates the database, makes a
# JWT secret if there is none, writes the lighttpd config, then starts the
# ws-daemon and lighttpd (which spawns the FastCGI programs). Ctrl-C or
# SIGTERM stops everything it started.
#
# Environment: PORT (default 8080), WS_PORT (default PORT+1), PARLEY_VAR
# (data dir, default ./var), PARLEY_BIN (default build/bin), PARLEY_PROCS
# (FastCGI processes per program, default 2), PARLEY_WSD=0 (no ws-daemon),
# PARLEY_EXTRA_CONF (lines appended to the generated parley.conf).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
WS_PORT=${WS_PORT:-$((PORT + 1))}
VAR=${PARLEY_VAR:-$ROOT/var}
BIN=${PARLEY_BIN:-$ROOT/build/bin}
PROCS=${PARLEY_PROCS:-2}

mkdir -p "$VAR/log" "$VAR/run"
VAR=$(cd "$VAR" && pwd)
rm -f "$VAR"/run/*.sock*   # sockets of a previous run

if [ ! -s "$VAR/jwt_secret" ]; then
	(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$VAR/jwt_secret")
	echo "parley: generated a new JWT secret in $VAR/jwt_secret (mode 0600)"
fi
chmod 600 "$VAR/jwt_secret"

cat >"$VAR/parley.conf" <<CONF
# Written by scripts/serve.sh; keys are documented in README.md.
db_path = $VAR/parley.db
jwt_secret_file = $VAR/jwt_secret
ws_port = $WS_PORT
ws_listen = 127.0.0.1
CONF
# Extra settings for this run (tests use it), appended verbatim.
if [ -n "${PARLEY_EXTRA_CONF:-}" ]; then
	printf '%s\n' "$PARLEY_EXTRA_CONF" >>"$VAR/parley.conf"
fi
export PARLEY_CONFIG="$VAR/parley.conf"

"$BIN/parleyctl" migrate "$ROOT/schema"

# One fastcgi.server entry per FastCGI program built: /api/<name> is served
# by parley-<name>; every other /api/ path by one more parley-auth (JSON 404s).
FASTCGI=$VAR/fastcgi.conf.part
: >"$FASTCGI"
for app in "$BIN"/parley-*; do
	name=${app##*/parley-}
	case $name in wsd | ctl) continue ;; esac
	printf '  "/api/%s" => (( "socket" => parley_run + "/%s.sock", "bin-path" => parley_bin + "/parley-%s",\n                "bin-environment" => parley_env, "max-procs" => %s, "check-local" => "disable" )),\n' \
		"$name" "$name" "$name" "$PROCS" >>"$FASTCGI"
done
sed -e "s|@PORT@|$PORT|g" -e "s|@WS_PORT@|$WS_PORT|g" -e "s|@VAR@|$VAR|g" \
    -e "s|@ROOT@|$ROOT|g" -e "s|@BIN@|$BIN|g" -e "s|@PROCS@|$PROCS|g" \
    -e "/@FASTCGI@/{r $FASTCGI" -e "d}" \
    "$ROOT/scripts/lighttpd.conf.in" >"$VAR/lighttpd.conf"
mkdir -p "$ROOT/www"
lighttpd -tt -f "$VAR/lighttpd.conf" >/dev/null

pids=()
stop() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop INT TERM EXIT

if [ "${PARLEY_WSD:-1}" != 0 ]; then
	"$BIN/parley-wsd" 2>>"$VAR/log/wsd.log" &
	pids+=($!)
fi
lighttpd -D -f "$VAR/lighttpd.conf" &
pids+=($!)

echo "parley: serving on http://127.0.0.1:$PORT (ws-daemon on 127.0.0.1:$WS_PORT; data in $VAR, logs in $VAR/log)"
# When either process dies, stop the other and report failure.
set +e
wait -n
rc=$?
echo "parley: a server process exited (status $rc); stopping" >&2
exit $rc

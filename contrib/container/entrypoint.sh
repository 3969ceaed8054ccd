#!/bin/bash
# entrypoint.sh — the container's supervisor (/usr/sbin/parley-entrypoint,
# run by tini as PID 1, as the user parley): takes the secrets, migrates
# the database, then runs lighttpd (which spawns and respawns the FastCGI
# programs), parley-wsd and parley-hookd. When any of the three exits, it
# stops the others and exits non-zero, so the container stops and its
# restart policy (compose: restart: unless-stopped) starts it again.
# SIGTERM (podman/docker stop) stops all three and exits 0.
#
# Environment (besides any PARLEY_<KEY> of parley.conf(5)):
#   PARLEY_HTTP_ADDR, PARLEY_HTTP_PORT  lighttpd's address and port (0.0.0.0:8080)
#   PARLEY_WS_PORT          parley-wsd's loopback port behind lighttpd (8081)
#   PARLEY_JWT_SECRET_FILE  the token key's file (a compose or podman secret);
#                           unset: /var/lib/parley/jwt_secret, made on the first
#                           start. PARLEY_JWT_SECRET may hold the key itself.
#   PARLEY_DB_URL_FILE      a file holding db_url (PostgreSQL, with its password)
#   PARLEY_HOOKD=0          no parley-hookd (outgoing webhooks, mention mail)
#   PARLEY_MIGRATE=0        no parleyctl migrate at start
# A command given to the container (podman run IMAGE parleyctl stats) runs
# instead, with the same secrets; so does `podman exec CONTAINER
# parley-entrypoint parleyctl stats` beside the running servers.
set -euo pipefail

STATE=/var/lib/parley
RUN=/run/parley
say() { printf 'parley-entrypoint: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

export PARLEY_CONFIG=${PARLEY_CONFIG:-/etc/parley/parley.conf}
export PARLEY_HTTP_ADDR=${PARLEY_HTTP_ADDR:-0.0.0.0}
export PARLEY_HTTP_PORT=${PARLEY_HTTP_PORT:-8080}
export PARLEY_WS_PORT=${PARLEY_WS_PORT:-8081}
umask 027

[ -w "$STATE" ] || die "$STATE is not writable by $(id -un) (uid $(id -u)): chown it to $(id -u):$(id -g)"
mkdir -p "$STATE/files" "$RUN"

# db_url from a file (it holds the PostgreSQL password): exported to this
# process tree only, so it shows in neither the image nor `podman inspect`.
if [ -n "${PARLEY_DB_URL_FILE:-}" ]; then
	[ -r "$PARLEY_DB_URL_FILE" ] || die "cannot read PARLEY_DB_URL_FILE $PARLEY_DB_URL_FILE"
	PARLEY_DB_URL=$(head -n 1 "$PARLEY_DB_URL_FILE")
	export PARLEY_DB_URL
fi

# The token key. The programs refuse a key file other users may read
# (lib/config.c); a secret mounted into a container often is (podman's are
# 0444, compose's keep the host file's mode), and this container has no
# other users: such a file is copied to an owner-only one in /run/parley.
if [ -n "${PARLEY_JWT_SECRET:-}" ]; then
	:
elif [ -n "${PARLEY_JWT_SECRET_FILE:-}" ]; then
	[ -r "$PARLEY_JWT_SECRET_FILE" ] ||
		die "cannot read PARLEY_JWT_SECRET_FILE $PARLEY_JWT_SECRET_FILE as uid $(id -u)"
	if [ "$(($(stat -L -c '%#a' "$PARLEY_JWT_SECRET_FILE") & 6))" -ne 0 ]; then
		(umask 077 && cat "$PARLEY_JWT_SECRET_FILE" >"$RUN/jwt_secret.$$" &&
			mv -f "$RUN/jwt_secret.$$" "$RUN/jwt_secret")
		export PARLEY_JWT_SECRET_FILE=$RUN/jwt_secret
	fi
else
	export PARLEY_JWT_SECRET_FILE=$STATE/jwt_secret
	if [ ! -s "$PARLEY_JWT_SECRET_FILE" ]; then
		(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$PARLEY_JWT_SECRET_FILE")
		say "made a new token key in $PARLEY_JWT_SECRET_FILE (mode 0600, kept in the volume)"
	fi
fi

# A command instead of the servers, with the same settings and secrets:
# podman run ... IMAGE parleyctl stats, or beside the running servers
# podman exec CONTAINER parley-entrypoint parleyctl stats (a bare
# `podman exec ... parleyctl` has the container's environment, not what
# this script makes of it: no db_url from PARLEY_DB_URL_FILE).
if [ $# -gt 0 ]; then
	exec "$@"
fi
rm -f "$RUN"/*.sock* # left by the previous run of this container

# Safe on every start and on every frontend at once (a lock makes each
# migration once); a PostgreSQL that is not up yet is waited for a while.
if [ "${PARLEY_MIGRATE:-1}" != 0 ]; then
	tries=0
	until parleyctl migrate; do
		tries=$((tries + 1))
		[ "$tries" -lt 30 ] || die "parleyctl migrate kept failing"
		say "migration failed; retrying in 2 s"
		sleep 2
	done
fi

pids=()
stop() {
	trap - TERM INT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait
}
trap 'stop; exit 0' TERM INT

lighttpd -D -f /etc/parley/lighttpd.conf &
pids+=($!)
parley-wsd &
pids+=($!)
if [ "${PARLEY_HOOKD:-1}" != 0 ]; then
	parley-hookd &
	pids+=($!)
fi
say "serving on $PARLEY_HTTP_ADDR:$PARLEY_HTTP_PORT ($(parleyctl --version))"

# Whichever exits first ends the container: the restart policy, not this
# script, brings everything back together.
set +e
wait -n
rc=$?
say "a server process exited (status $rc); stopping the others"
stop
exit $((rc == 0 ? 1 : rc))

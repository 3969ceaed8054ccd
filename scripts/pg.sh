#!/usr/bin/env bash
# pg.sh — a local PostgreSQL 15 cluster for trying parley on PostgreSQL
# (make run ENGINE=postgres). Not for production: see README, "Outgrowing
# one machine".
#   scripts/pg.sh start DIR   creates the cluster in DIR/pg (kept between
#                             runs) if missing, starts it listening on a
#                             unix socket in DIR/pg only, creates the
#                             database "parley" if missing, and prints its
#                             libpq connection string
#   scripts/pg.sh stop DIR    stops it (fast shutdown)
# initdb refuses to run as root: as root the cluster belongs to the
# unprivileged `postgres` user (../shared/FACTS.md, PostgreSQL 15).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: scripts/pg.sh start|stop DIR" >&2
	exit 2
fi
mkdir -p "$dir"
pg=$(cd "$dir" && pwd)/pg

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	if [ ! -f "$pg/data/PG_VERSION" ]; then
		mkdir -p "$pg"
		chmod 755 "$pg"
		[ "$(id -u)" = 0 ] && chown postgres: "$pg"
		as_owner "$PG_BIN/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
			-D "$pg/data" >"$pg/initdb.log"
	fi
	if ! as_owner "$PG_BIN/pg_ctl" -D "$pg/data" status >/dev/null 2>&1; then
		as_owner "$PG_BIN/pg_ctl" -D "$pg/data" -w -l "$pg/server.log" start \
			-o "-k $pg -c listen_addresses=''" >/dev/null
	fi
	conninfo="host=$pg user=postgres dbname=parley"
	if ! psql -X -At -d "host=$pg user=postgres dbname=postgres" \
		-c "SELECT 1 FROM pg_database WHERE datname = 'parley'" | grep -q 1; then
		psql -X -q -d "host=$pg user=postgres dbname=postgres" -c "CREATE DATABASE parley"
	fi
	echo "$conninfo"
	;;
stop)
	if [ -f "$pg/data/PG_VERSION" ]; then
		as_owner "$PG_BIN/pg_ctl" -D "$pg/data" -w -m fast stop >/dev/null 2>&1 || true
	fi
	;;
*)
	echo "usage: scripts/pg.sh start|stop DIR" >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# serve.sh — runs parley in the foreground: migrates the database, makes a
# JWT secret if there is none, writes the web server's config, then starts
# the ws-daemon and the web server with the FastCGI programs. Ctrl-C or
# SIGTERM stops everything it started.
#
# Environment:
#   PORT (default 8080), WS_PORT (default PORT+1), PARLEY_VAR (data dir,
#   default ./var), PARLEY_PROCS (FastCGI processes per program, default 2),
#   PARLEY_EVENTS_PROCS (processes of the long-poll program parley-events,
#   default 4, or PARLEY_PROCS if that is more: each waiting poll holds one,
#   and one user may hold poll_user_limit (2) of them),
#   PARLEY_FRONTEND: lighttpd (default: lighttpd spawns the FastCGI programs)
#     | nginx (nginx, with the programs started by spawn-fcgi)
#     | cgi (lighttpd mod_cgi: every request runs a program as plain CGI)
#     | apache (Apache 2.4 mod_cgid, the shared-host path: a document root
#       laid out as cgi-bin/README.md says, with the programs in cgi-bin/ and
#       cgi-bin/htaccess.example as .htaccess; no ws-daemon by default, real
#       time through the long poll; APACHE_USER/APACHE_GROUP, default
#       www-data, run the CGI programs when started as root; APACHE_CGI=cgi
#       (prefork + mod_cgi, default) or cgid (event + mod_cgid)),
#   FILE_MAX_BYTES (largest upload, default 25 MiB: parley.conf's
#   file_max_bytes and the web server's own body limit for uploads follow it),
#   PARLEY_WSD=0 (no ws-daemon; the default for apache), PARLEY_HOOKD_PROCS
#   (outgoing webhook workers, parley-hookd; default 1, 0 for apache),
#   PARLEY_HOOKD_BIN, LIGHTTPD_MAX_CONNECTIONS (lighttpd and nginx, default
#   1024; max-fds is four times it: bench/wsbench.py raises it for its
#   proxied sockets), PARLEY_DEV_MAIL=1
#   (make run: mail_command keeps verification mails in $VAR/mail/, see
#   scripts/mailbox.sh), PARLEY_EXTRA_CONF
#   (lines appended to the generated parley.conf), PARLEY_BIN (FastCGI
#   programs, default build/bin),
#   PARLEY_WSD_BIN, PARLEY_CTL_BIN, PARLEY_SCHEMA_DIR, PARLEY_WWW (to serve
#   from an installed tree),
#   PARLEY_BUNDLE (apache only: an unpacked shared-host bundle, make bundle;
#   its programs, lib/, parleyctl, schema, www and .htaccess are laid out as
#   its INSTALL says), PARLEY_APACHE_CHROOT (apache only: run apache2, and
#   so the CGI programs, chrooted there; the paths must be the same inside
#   and out, as scripts/check-bundle.sh arranges with a bind mount).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
WS_PORT=${WS_PORT:-$((PORT + 1))}
VAR=${PARLEY_VAR:-$ROOT/var}
BUNDLE=${PARLEY_BUNDLE:-}
HTACCESS=$ROOT/cgi-bin/htaccess.example
if [ -n "$BUNDLE" ]; then
	BUNDLE=$(cd "$BUNDLE" && pwd)
	: "${PARLEY_BIN:=$BUNDLE/cgi-bin}" "${PARLEY_CTL_BIN:=$BUNDLE/parleyctl}"
	: "${PARLEY_SCHEMA_DIR:=$BUNDLE/schema}" "${PARLEY_WWW:=$BUNDLE/www}"
	HTACCESS=$BUNDLE/cgi-bin/htaccess.example
fi
BIN=${PARLEY_BIN:-$ROOT/build/bin}
BIN=$(cd "$BIN" && pwd)   # lighttpd needs absolute program paths
WSD_BIN=${PARLEY_WSD_BIN:-$BIN/parley-wsd}
CTL_BIN=${PARLEY_CTL_BIN:-$BIN/parleyctl}
HOOKD_BIN=${PARLEY_HOOKD_BIN:-$BIN/parley-hookd}
SCHEMA=${PARLEY_SCHEMA_DIR:-$ROOT/schema}
WWW=${PARLEY_WWW:-$ROOT/www}
PROCS=${PARLEY_PROCS:-2}
MAX_CONNECTIONS=${LIGHTTPD_MAX_CONNECTIONS:-1024}
EVENTS_PROCS=${PARLEY_EVENTS_PROCS:-$((PROCS > 4 ? PROCS : 4))}
FRONTEND=${PARLEY_FRONTEND:-lighttpd}

mkdir -p "$VAR/log" "$VAR/run" "$VAR/cache/deflate"
# Logs name users and client addresses: the owner's only. (The database
# and its -wal/-shm are made 0600 by the programs, the key below.)
chmod 700 "$VAR/log"
VAR=$(cd "$VAR" && pwd)
rm -f "$VAR"/run/*.sock* "$VAR"/run/*.pid # left by a previous run
mkdir -p "$WWW"

if [ ! -s "$VAR/jwt_secret" ]; then
	(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$VAR/jwt_secret")
	echo "parley: generated a new JWT secret in $VAR/jwt_secret (mode 0600)"
fi
chmod 600 "$VAR/jwt_secret"

# Uploads: the programs check them; the web server refuses a body far
# over the limit before they see it (its own limit: the file's plus room
# for a multipart envelope, in KiB for lighttpd). Who sends a file's
# bytes: lighttpd (X-Sendfile) and nginx (X-Accel-Redirect) themselves,
# under plain CGI the program (lib/file_send.h).
FILE_MAX_BYTES=${FILE_MAX_BYTES:-26214400}
UPLOAD_MAX_KB=$(((FILE_MAX_BYTES + 16384 + 1023) / 1024 + 1))
case $FRONTEND in
lighttpd) OFFLOAD=x-sendfile ;;
nginx) OFFLOAD=x-accel-redirect ;;
*) OFFLOAD=none ;;
esac
mkdir -p "$VAR/files"
chmod 750 "$VAR/files"


cat >"$VAR/parley.conf" <<CONF
# Written by scripts/serve.sh; the keys: parley.conf(5), README.md.
db_path = $VAR/parley.db
state_dir = $VAR
schema_dir = $SCHEMA
jwt_secret_file = $VAR/jwt_secret
ws_port = $WS_PORT
ws_listen = 127.0.0.1
files_dir = $VAR/files
file_max_bytes = $FILE_MAX_BYTES
file_offload = $OFFLOAD
CONF
# PARLEY_LOCAL_PG=1 (make run ENGINE=postgres): a local PostgreSQL cluster
# in $VAR/pg (scripts/pg.sh; kept between runs, stopped when this stops).
if [ "${PARLEY_LOCAL_PG:-0}" = 1 ]; then
	printf 'db_url = %s\n' "$("$ROOT/scripts/pg.sh" start "$VAR")" >>"$VAR/parley.conf"
fi
# PARLEY_DEV_MAIL=1 (make run): verification mails are kept in $VAR/mail/
# by scripts/mailbox.sh instead of being sent, so a code can be read there
# (README, "Using the API with curl"). mail_command is split on spaces.
if [ "${PARLEY_DEV_MAIL:-0}" = 1 ]; then
	mkdir -p "$VAR/mail"
	chmod 700 "$VAR/mail"
	case "$ROOT$VAR" in
	*" "*) echo "parley: no local mailbox (mail_command cannot name a path with spaces)" >&2 ;;
	*) printf 'mail_command = %s %s\n' "$ROOT/scripts/mailbox.sh" "$VAR/mail" >>"$VAR/parley.conf" ;;
	esac
fi
# Extra settings for this run (tests use it), appended verbatim.
if [ -n "${PARLEY_EXTRA_CONF:-}" ]; then
	printf '%s\n' "$PARLEY_EXTRA_CONF" >>"$VAR/parley.conf"
fi
export PARLEY_CONFIG="$VAR/parley.conf"

"$CTL_BIN" migrate "$SCHEMA"

# The FastCGI programs built (parley-<name> serves /api/<name>).
apps=()
for app in "$BIN"/parley-*; do
	name=${app##*/parley-}
	name=${name%.cgi}   # a bundle's programs are already named for CGI
	case $name in wsd | ctl | hookd) continue ;; esac
	apps+=("$name")
done

# Fills a template: @KEY@ values, and @APPS@ with one generated line per
# program (the line template in $1, with %s for the program's name).
render() {
	local template=$1 line=$2 out=$3 part="$VAR/apps.part" name
	: >"$part"
	for name in "${apps[@]}"; do
		printf '%s\n' "${line//%s/$name}" >>"$part"
	done
	sed -e "s|@PORT@|$PORT|g" -e "s|@WS_PORT@|$WS_PORT|g" -e "s|@VAR@|$VAR|g" \
	    -e "s|@ROOT@|$ROOT|g" -e "s|@BIN@|$BIN|g" -e "s|@PROCS@|$PROCS|g" \
	    -e "s|@MAX_CONNECTIONS@|$MAX_CONNECTIONS|g" -e "s|@MAX_FDS@|$((MAX_CONNECTIONS * 4))|g" \
	    -e "s|@WWW@|$WWW|g" -e "s|@UPLOAD_MAX_KB@|$UPLOAD_MAX_KB|g" -e "s/@APPS_ALT@/$(IFS='|'; echo "${apps[*]}")/g" \
	    -e "/@APPS@/{r $part" -e "d}" "$template" >"$out"
}

pids=()
pidfiles=()
stop() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for f in "${pidfiles[@]}"; do
		[ -f "$f" ] && kill -TERM $(cat "$f") 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "${PARLEY_LOCAL_PG:-0}" = 1 ]; then
		"$ROOT/scripts/pg.sh" stop "$VAR"
	fi
}
trap stop INT TERM EXIT

case $FRONTEND in
lighttpd)
	render "$ROOT/scripts/lighttpd.conf.in" \
	  '  "/api/%s" => (( "socket" => parley_run + "/%s.sock", "bin-path" => parley_bin + "/parley-%s", "bin-environment" => parley_env, "max-procs" => @PROCS@, "check-local" => "disable" )),' \
	  "$VAR/lighttpd.conf"
	# parley-files answers with X-Sendfile: lighttpd sends the bytes, from
	# files_dir only.
	sed -i -e "/\"\/api\/events\"/s|@PROCS@|$EVENTS_PROCS|" -e "s|@PROCS@|$PROCS|g" \
		-e "/\"\/api\/files\"/s|\"check-local\"|\"x-sendfile\" => \"enable\", \"x-sendfile-docroot\" => ( \"$VAR/files\" ), \"check-local\"|" \
		"$VAR/lighttpd.conf"
	lighttpd -tt -f "$VAR/lighttpd.conf" >/dev/null
	lighttpd -D -f "$VAR/lighttpd.conf" &
	pids+=($!)
	;;
cgi)
	# Every request execs a program: run copies (what `make cgi` makes), so
	# a rebuild of build/bin during a run cannot be caught half-written.
	mkdir -p "$VAR/cgi-bin"
	for name in "${apps[@]}"; do
		install -m 0755 "$BIN/parley-$name" "$VAR/cgi-bin/parley-$name"
	done
	BIN="$VAR/cgi-bin"
	render "$ROOT/scripts/lighttpd-cgi.conf.in" \
	  '$HTTP["url"] =~ "^/api/%s(/|$)" { alias.url = ( "/api/%s" => "@BIN@/parley-%s" ) cgi.assign = ( "" => "" ) }' \
	  "$VAR/lighttpd.conf"
	sed -i "s|@BIN@|$BIN|g" "$VAR/lighttpd.conf"
	lighttpd -tt -f "$VAR/lighttpd.conf" >/dev/null
	lighttpd -D -f "$VAR/lighttpd.conf" &
	pids+=($!)
	;;
nginx)
	# spawn-fcgi: the socket must be usable by nginx's workers, which run
	# as an unprivileged user (FACTS.md): they need to reach run/ too.
	chmod o+x "$VAR" "$VAR/run"
	# nginx's workers send the files (X-Accel-Redirect): files_dir belongs
	# to their group, setgid so every blob and directory made in it does too
	# (blobs are 0640, directories 0750: lib/blob.c).
	if [ "$(id -u)" -eq 0 ]; then
		chgrp -R "${NGINX_GROUP:-nogroup}" "$VAR/files"   # workers: nobody:nogroup (no user directive)
		chmod 2750 "$VAR/files"
	fi
	for name in "${apps[@]}" misc; do
		prog=$name; [ "$name" = misc ] && prog=auth
		procs=$PROCS; [ "$name" = events ] && procs=$EVENTS_PROCS
		spawn-fcgi -s "$VAR/run/$name.sock" -M 0666 -F "$procs" -P "$VAR/run/$name.pid" \
			-- "$BIN/parley-$prog" >/dev/null 2>>"$VAR/log/fcgi.log"
		pidfiles+=("$VAR/run/$name.pid")
	done
	render "$ROOT/scripts/nginx.conf.in" '' "$VAR/nginx.conf"
	mkdir -p "$VAR/nginx"
	nginx -t -q -c "$VAR/nginx.conf" -p "$VAR/nginx" -g 'daemon off;'
	nginx -c "$VAR/nginx.conf" -p "$VAR/nginx" -g 'daemon off;' &
	pids+=($!)
	;;
apache)
	# The shared-host layout of cgi-bin/README.md: the web client, the
	# programs as `make cgi` names them, the .htaccess from the example
	# with this run's PARLEY_CONFIG.
	HTDOCS="$VAR/htdocs"
	rm -rf "$HTDOCS"
	mkdir -p "$HTDOCS/cgi-bin"
	cp -R "$WWW/." "$HTDOCS/"
	for name in "${apps[@]}"; do
		src=$BIN/parley-$name
		[ -e "$src" ] || src=$src.cgi
		install -m 0755 "$src" "$HTDOCS/cgi-bin/parley-$name.cgi"
	done
	if [ -n "$BUNDLE" ]; then
		# The bundle's INSTALL: lib/ beside the programs and in the
		# directory of parley.conf (libmagic's database: SetEnv MAGIC),
		# and its sed line.
		cp -R "$BUNDLE/lib" "$HTDOCS/cgi-bin/lib"
		rm -rf "$VAR/lib" && cp -R "$BUNDLE/lib" "$VAR/lib"
		sed "s|/home/YOU/parley/|$VAR/|" "$HTACCESS" >"$HTDOCS/.htaccess"
	else
		# the same substitution as the sed line of cgi-bin/README.md
		sed "s|/home/YOU/parley/parley.conf|$VAR/parley.conf|" \
			"$HTACCESS" >"$HTDOCS/.htaccess"
	fi
	grep -q "^SetEnv PARLEY_CONFIG $VAR/parley.conf\$" "$HTDOCS/.htaccess" || {
		echo "parley: $HTACCESS has no SetEnv PARLEY_CONFIG line" >&2
		exit 2
	}
	AUSER=${APACHE_USER:-www-data}
	AGROUP=${APACHE_GROUP:-www-data}
	if [ "$(id -u)" -eq 0 ]; then
		# The CGI programs run as $AUSER: like the one account of a shared
		# host, it owns the database (its directory too: SQLite creates
		# -wal and -shm beside it; root's connections hand them over,
		# SQLite does that) and the token key. Others only traverse $VAR.
		chmod o+x "$VAR"
		chown "$AUSER:$AGROUP" "$VAR" "$VAR/jwt_secret"
		chown -R "$AUSER:$AGROUP" "$VAR/files"
		for f in "$VAR"/parley.db "$VAR"/parley.db-wal "$VAR"/parley.db-shm; do
			[ -e "$f" ] && chown "$AUSER:$AGROUP" "$f"
		done
	fi
	# APACHE_CGI=cgi (default): prefork + mod_cgi, the classic shared host;
	# cgid: event + mod_cgid, Debian's default pairing.
	case ${APACHE_CGI:-cgi} in
	cgi) mpm=prefork cgimod=cgi ;;
	cgid) mpm=event cgimod=cgid ;;
	*) echo "parley: APACHE_CGI must be cgi or cgid" >&2; exit 2 ;;
	esac
	render "$ROOT/scripts/apache.conf.in" '' "$VAR/apache2.conf"
	sed -i -e "s|@HTDOCS@|$HTDOCS|g" -e "s|@APACHE_USER@|$AUSER|g" \
		-e "s|@APACHE_GROUP@|$AGROUP|g" \
		-e "s|@MPM_LOAD@|LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_$mpm.so|" \
		-e "s|@CGI_LOAD@|LoadModule ${cgimod}_module /usr/lib/apache2/modules/mod_$cgimod.so|" \
		"$VAR/apache2.conf"
	# PARLEY_APACHE_CHROOT: Apache of another system (check-bundle.sh's
	# older Debian), which then runs the programs there.
	APACHE2=(apache2)
	if [ -n "${PARLEY_APACHE_CHROOT:-}" ]; then
		APACHE2=(chroot "$PARLEY_APACHE_CHROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C apache2)
	fi
	out=$("${APACHE2[@]}" -t -f "$VAR/apache2.conf" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
	"${APACHE2[@]}" -DFOREGROUND -f "$VAR/apache2.conf" &
	pids+=($!)
	;;
*)
	echo "parley: unknown PARLEY_FRONTEND=$FRONTEND (lighttpd, nginx, cgi or apache)" >&2
	exit 2
	;;
esac

# The ws-daemon, restarted if it dies, as a supervisor (systemd's
# Restart=on-failure) would.
supervise_wsd() {
	local child
	set +e   # a dying daemon is expected here, not a reason to stop
	trap 'kill -TERM $child 2>/dev/null; wait $child 2>/dev/null; exit 0' TERM INT
	while :; do
		"$WSD_BIN" 2>>"$VAR/log/wsd.log" &
		child=$!
		wait $child
		echo "parley: ws-daemon exited (status $?); restarting" >>"$VAR/log/wsd.log"
		sleep 0.2
	done
}
WSD_DEFAULT=1
[ "$FRONTEND" = apache ] && WSD_DEFAULT=0
if [ "${PARLEY_WSD:-$WSD_DEFAULT}" != 0 ]; then
	supervise_wsd &
	pids+=($!)
fi

# parley-hookd, the outgoing webhook worker (PARLEY_HOOKD_PROCS instances,
# default 1; 0: none, and outgoing webhooks wait), restarted like the
# ws-daemon. Not on the shared-host path (apache), where no daemon runs.
supervise_hookd() {
	local child
	set +e
	trap 'kill -TERM $child 2>/dev/null; wait $child 2>/dev/null; exit 0' TERM INT
	while :; do
		"$HOOKD_BIN" 2>>"$VAR/log/hookd.log" &
		child=$!
		wait $child
		echo "parley: parley-hookd exited (status $?); restarting" >>"$VAR/log/hookd.log"
		sleep 0.2
	done
}
HOOKD_DEFAULT=1
[ "$FRONTEND" = apache ] && HOOKD_DEFAULT=0
for ((i = 0; i < ${PARLEY_HOOKD_PROCS:-$HOOKD_DEFAULT}; i++)); do
	supervise_hookd &
	pids+=($!)
done

if [ "${PARLEY_WSD:-$WSD_DEFAULT}" != 0 ]; then
	echo "parley: serving on http://127.0.0.1:$PORT via $FRONTEND (ws-daemon on 127.0.0.1:$WS_PORT; data in $VAR, logs in $VAR/log)"
else
	echo "parley: serving on http://127.0.0.1:$PORT via $FRONTEND (no ws-daemon: real time by long poll; data in $VAR, logs in $VAR/log)"
fi
# parleyctl(8) against this instance, from any directory (README,
# "Operating it").
echo "parley: administer it with: PARLEY_CONFIG=$VAR/parley.conf $CTL_BIN stats   (or migrate, backup FILE, ...: man/parleyctl.8)"
if grep -q '^mail_command = .*/mailbox.sh ' "$VAR/parley.conf"; then
	echo "parley: verification mails are kept in $VAR/mail/, not sent"
fi
# When a server process dies, stop the others and report failure.
set +e
wait -n
rc=$?
echo "parley: a server process exited (status $rc); stopping" >&2
exit $rc

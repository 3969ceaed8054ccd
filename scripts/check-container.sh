#!/usr/bin/env bash
# check-container.sh — builds the container image from the Containerfile,
# unchanged, and tests it with podman (make check-container; root):
#   1. base images: no registry is reachable, so `debian:bookworm` and
#      `debian:bookworm-slim` are made here from Debian packages
#      (mmdebstrap --variant=minbase; slim with the official slim image's
#      dpkg path excludes), built once and cached as tars in $CACHE
#      (default /var/cache/parley-test), imported as localhost/debian:...,
#      where the Containerfile's FROM lines find them;
#   2. podman build --isolation chroot --format docker (the OCI format has
#      no HEALTHCHECK); the image's first layer is the local slim base, its
#      label the release in VERSION, its user not root, and neither a token
#      key nor a database is in it;
#   3. the container runs as FACTS.md says it can here (runc, cgroupfs,
#      explicit ulimits, the host's network, so lighttpd listens on a free
#      127.0.0.1 port), becomes healthy (its HEALTHCHECK, run by
#      `podman healthcheck run`), and every process in it runs as parley;
#   4. the core acceptance suite (scripts/check.sh's CORE) runs against it
#      (conftest.py's PARLEY_FRONTEND=external), with the volume's mount
#      point for the tests that read the key or the database, and
#      `podman exec ... parley-entrypoint parleyctl` for parleyctl;
#   5. the volume keeps the data and the key: a post, `podman stop`, start
#      again, a new container on the same volume: the message is there and
#      the old access token still valid; a killed parley-wsd ends the
#      container with a non-zero status, and it starts again;
#   6. secrets from files: two containers on one PostgreSQL 15 cluster
#      (scripts/pg.sh, its socket directory mounted), db_url from a file
#      (PARLEY_DB_URL_FILE), one token key from a 0444 file
#      (PARLEY_JWT_SECRET_FILE, as podman and compose mount secrets): a
#      post on one is read on the other, a token of one is valid on the
#      other, and no key is made in their volumes;
#   7. compose.yaml parses, builds this Containerfile and names the volume.
# Containers, volumes and the image it made are removed at the end; the
# base images and their tars stay (PARLEY_CONTAINER_KEEP=1 keeps all).
# PARLEY_CONTAINER_IMAGE=TAG tests that image instead of building one (and
# leaves it), for a quicker loop while working on the tests.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PARLEY_DEB_CACHE:-/var/cache/parley-test}
MIRROR=${PARLEY_DEB_MIRROR:-http://deb.debian.org}
VERSION=$(cat "$ROOT/VERSION")
TAG=${PARLEY_CONTAINER_IMAGE:-localhost/parley-check:$VERSION-$$}
NAME=parley-check-$$
PODMAN=(pm --cgroup-manager=cgroupfs)
# podman, without its complaint that no systemd runs here to time the
# health checks (this script runs them itself: wait_healthy).
pm() {
	podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}
# What podman run needs in this sandbox (../shared/FACTS.md, "Containers"):
# belongs to the test, not to the Containerfile.
RUN_FLAGS=(--runtime /usr/sbin/runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --net=host)
# scripts/check.sh's CORE: the core acceptance suite, and how the image serves the
# client's files (test_static: compression, caching, favicon).
CORE=(tests/integration/test_core_flow.py tests/integration/test_abuse.py tests/integration/test_websocket.py
	tests/integration/test_files.py tests/integration/test_static.py)

[ "$(id -u)" -eq 0 ] || { echo "check-container: needs root (podman storage, mmdebstrap)" >&2; exit 1; }
for tool in podman /usr/sbin/runc mmdebstrap; do
	command -v "$tool" >/dev/null || { echo "check-container: $tool missing: scripts/deps.sh --container" >&2; exit 1; }
done

start=$(date +%s)
tmp=$(mktemp -d /tmp/parley-container.XXXXXX)
containers=()
volumes=()
pg_dir=
cleanup() {
	local rc=$?
	if [ "${PARLEY_CONTAINER_KEEP:-0}" != 1 ]; then
		for c in "${containers[@]}"; do "${PODMAN[@]}" rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
		for v in "${volumes[@]}"; do podman volume rm -f "$v" >/dev/null 2>&1 || true; done
		[ -n "${PARLEY_CONTAINER_IMAGE:-}" ] || podman rmi -f "$TAG" >/dev/null 2>&1 || true
	else
		echo "check-container: kept ${containers[*]}, ${volumes[*]} and $TAG"
	fi
	[ -n "$pg_dir" ] && "$ROOT/scripts/pg.sh" stop "$pg_dir" || true
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
fail() {
	echo "check-container: FAIL: $*" >&2
	for c in "${containers[@]}"; do
		echo "--- podman logs $c (last 40 lines)" >&2
		podman logs --tail 40 "$c" >&2 2>&1 || true
	done
	exit 1
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== base images (debian:bookworm, debian:bookworm-slim from mmdebstrap)"
SOURCES=("deb $MIRROR/debian bookworm main" "deb $MIRROR/debian bookworm-updates main"
	"deb $MIRROR/debian-security bookworm-security main")
# The official slim image leaves out docs, man pages and translations; the
# excludes stay in the image's dpkg configuration, as they do there.
SLIM_OPTS=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*')
mkdir -p "$CACHE"
for flavour in bookworm bookworm-slim; do
	tar=$CACHE/debian-$flavour.tar
	if [ ! -s "$tar" ]; then
		echo "check-container: making $tar (once)"
		opts=()
		[ "$flavour" = bookworm-slim ] && opts=("${SLIM_OPTS[@]}")
		mmdebstrap --quiet --variant=minbase --format=tar "${opts[@]}" bookworm "$tar.tmp" "${SOURCES[@]}"
		mv "$tar.tmp" "$tar"
	fi
	# Imported again only when the tar is not the one the image came from.
	sum=$(sha256sum <"$tar" | cut -c1-16)
	have=$(podman image inspect --format '{{index .Labels "org.parley.test.base"}}' "localhost/debian:$flavour" 2>/dev/null || true)
	if [ "$have" != "$flavour-$sum" ]; then
		podman import --quiet --change "LABEL org.parley.test.base=$flavour-$sum" \
			--change 'CMD ["bash"]' "$tar" "localhost/debian:$flavour" >/dev/null
	fi
	echo "localhost/debian:$flavour: $(podman image inspect --format '{{.Id}}' "localhost/debian:$flavour" | cut -c1-12) ($flavour-$sum)"
done

echo "== build (the Containerfile as it is; base images from here only)"
git -C "$ROOT" diff --quiet HEAD -- Containerfile 2>/dev/null ||
	echo "check-container: note: Containerfile differs from HEAD (tested as it is in the work tree)"
# --layers=false: no intermediate images stay behind to clean up.
if [ -n "${PARLEY_CONTAINER_IMAGE:-}" ]; then
	echo "check-container: testing $TAG as it is (PARLEY_CONTAINER_IMAGE): no build"
elif ! podman build --isolation chroot --format docker --pull=never --layers=false \
	--build-arg "PARLEY_VERSION=$VERSION" -t "$TAG" -f "$ROOT/Containerfile" "$ROOT" >"$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log" >&2
	fail "podman build"
else
	echo "built $TAG in $(($(date +%s) - start)) s"
fi

echo "== the image"
inspect() { podman image inspect --format "$1" "$TAG"; }
[ "$(inspect '{{index .Labels "org.opencontainers.image.version"}}')" = "$VERSION" ] ||
	fail "label org.opencontainers.image.version is '$(inspect '{{index .Labels "org.opencontainers.image.version"}}')', VERSION $VERSION"
[ "$(inspect '{{index .RootFS.Layers 0}}')" = "$(podman image inspect --format '{{index .RootFS.Layers 0}}' localhost/debian:bookworm-slim)" ] ||
	fail "the image does not start from localhost/debian:bookworm-slim"
user=$(inspect '{{.Config.User}}')
case $user in "" | root | 0 | 0:*) fail "the image runs as '$user'" ;; esac
inspect '{{.Config.Healthcheck.Test}}' | grep -q '/api/health' || fail "no HEALTHCHECK on /api/health"
inspect '{{json .Config.Volumes}}' | grep -q '"/var/lib/parley"' || fail "no VOLUME /var/lib/parley"
inspect '{{json .Config.ExposedPorts}}' | grep -q '8080/tcp' || fail "no EXPOSE 8080"
if inspect '{{json .Config.Env}}' | grep -qiE 'JWT_SECRET=|DB_URL='; then fail "a secret in the image's environment"; fi
mnt=$(podman image mount "$TAG")
found=$(find "$mnt" -xdev \( -name 'jwt_secret*' -o -name '*.db' -o -name '*.db-wal' \) -print | sed "s|^$mnt||")
podman image umount "$TAG" >/dev/null
[ -z "$found" ] || fail "the image holds a key or a database: $found"
echo "label $VERSION, base localhost/debian:bookworm-slim, user $user, HEALTHCHECK, VOLUME, EXPOSE; no key or database inside: ok"

# run_container NAME VOLUME PORT [podman run options...]: starts the image
# listening on 127.0.0.1:PORT (its ws-daemon on another free port: PORT+1
# may be taken, the network is the host's).
run_container() {
	local name=$1 vol=$2 port=$3 ws_port
	shift 3
	ws_port=$(free_port)
	"${PODMAN[@]}" run -d --name "$name" "${RUN_FLAGS[@]}" \
		-e PARLEY_HTTP_ADDR=127.0.0.1 -e PARLEY_HTTP_PORT="$port" -e PARLEY_WS_PORT="$ws_port" \
		-v "$vol:/var/lib/parley" "$@" "$TAG" >/dev/null 2>"$tmp/run.err" ||
		{ cat "$tmp/run.err" >&2; fail "podman run $name"; }
}
# wait_healthy NAME: the image's own HEALTHCHECK, run until it passes (no
# systemd timer runs it here).
wait_healthy() {
	local i
	for i in $(seq 1 60); do
		if "${PODMAN[@]}" healthcheck run "$1" >/dev/null 2>&1; then
			[ "$(podman inspect --format '{{.State.Health.Status}}' "$1")" = healthy ] && return 0
		fi
		[ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || fail "$1 exited"
		sleep 0.5
	done
	fail "$1 not healthy after 30 s"
}
# The suite's generous rate limits (conftest.py's SUITE_CONF), as PARLEY_<KEY>.
mapfile -t SUITE_ENV < <(cd "$ROOT/tests/integration" && /usr/bin/python3 -c 'import conftest; print(conftest.SUITE_CONF)' |
	awk -F' = ' 'NF == 2 { printf "--env=PARLEY_%s=%s\n", toupper($1), $2 }')

echo "== run (healthy, as parley)"
PORT=$(free_port)
vol=$NAME-data
podman volume create "$vol" >/dev/null
volumes+=("$vol")
containers+=("$NAME")
run_container "$NAME" "$vol" "$PORT" "${SUITE_ENV[@]}"
wait_healthy "$NAME"
[ "$(podman exec "$NAME" id -un)" = parley ] || fail "podman exec runs as $(podman exec "$NAME" id -un)"
others=$(podman top "$NAME" user comm | awk 'NR > 1 && $1 != "parley"')
[ -z "$others" ] || fail "processes not run as parley: $others"
procs=$(podman top "$NAME" comm)
for p in lighttpd parley-wsd parley-hookd parley-auth parley-messages; do
	grep -qx "$p" <<<"$procs" || fail "no $p in the container: $procs"
done
n=$(grep -c '^parley-' <<<"$procs" || true)
echo "healthy on 127.0.0.1:$PORT; $n parley processes, every process the user parley: ok"

echo "== core acceptance suite against the container"
VOLDIR=$(podman volume inspect --format '{{.Mountpoint}}' "$vol")
if ! (cd "$ROOT" && PARLEY_FRONTEND=external PARLEY_BASE_URL="http://127.0.0.1:$PORT" \
	PARLEY_EXTERNAL_VAR="$VOLDIR" PARLEY_EXTERNAL_CTL="podman exec $NAME parley-entrypoint parleyctl" \
	PARLEY_EXTERNAL_LOGS="podman logs --tail 60 $NAME" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider -rs "${CORE[@]}" 2>&1 | tee "$tmp/suite.log" | tail -15); then
	fail "the core suite"
fi
grep -qE '[0-9]+ passed' "$tmp/suite.log" || fail "the core suite reported nothing"

echo "== the volume keeps the data across restarts"
# post.py BASE: registers, posts, prints "TOKEN CHANNEL MESSAGE"; check.py
# BASE TOKEN CHANNEL MESSAGE: the token is valid and the message there.
cat >"$tmp/post.py" <<'PY'
import sys, requests
base = sys.argv[1]
s = requests.Session()
r = s.post(base + "/api/auth/register", json={"username": "kept", "password": "correct horse"})
assert r.status_code == 201, r.text
r = s.post(base + "/api/auth/login", json={"username": "kept", "password": "correct horse"})
assert r.status_code == 200, r.text
tok = r.json()["access_token"]
h = {"Authorization": "Bearer " + tok}
ch = s.post(base + "/api/channels", json={"name": "kept"}, headers=h).json()["id"]
r = s.post(base + "/api/messages", json={"channel_id": ch, "content": "still here?"}, headers=h)
assert r.status_code == 201, r.text
print(tok, ch, r.json()["id"])
PY
cat >"$tmp/check.py" <<'PY'
import sys, time, requests
base, tok, ch, mid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
h = {"Authorization": "Bearer " + tok}
r = requests.get(base + "/api/messages/history", params={"channel": ch}, headers=h, timeout=10)
assert r.status_code == 200, r.text
assert [(m["id"], m["content"]) for m in r.json()] == [(mid, "still here?")], r.text
PY
read -r token channel message < <(/usr/bin/python3 "$tmp/post.py" "http://127.0.0.1:$PORT") || fail "posting"
key=$(sha256sum <"$VOLDIR/jwt_secret")
"${PODMAN[@]}" stop -t 10 "$NAME" >/dev/null
[ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME")" = 0 ] ||
	fail "podman stop: exit code $(podman inspect --format '{{.State.ExitCode}}' "$NAME") (SIGTERM should stop it cleanly)"
"${PODMAN[@]}" start "$NAME" >/dev/null
wait_healthy "$NAME"
/usr/bin/python3 "$tmp/check.py" "http://127.0.0.1:$PORT" "$token" "$channel" "$message" || fail "after a restart"
"${PODMAN[@]}" rm -f -t 10 "$NAME" >/dev/null
run_container "$NAME" "$vol" "$PORT"
wait_healthy "$NAME"
/usr/bin/python3 "$tmp/check.py" "http://127.0.0.1:$PORT" "$token" "$channel" "$message" || fail "in a new container"
[ "$(sha256sum <"$VOLDIR/jwt_secret")" = "$key" ] || fail "the token key changed"
[ "$(stat -c '%a %u' "$VOLDIR/jwt_secret")" = "600 10001" ] || fail "jwt_secret: $(stat -c '%a %u' "$VOLDIR/jwt_secret")"
echo "stop/start and a new container on the volume: message, key and session kept: ok"
# A server process that dies ends the container, non-zero (the restart
# policy's cue); started again it serves the same data.
wsd=$(podman top "$NAME" hpid comm | awk '$2 == "parley-wsd" { print $1 }')
[ -n "$wsd" ] || fail "no parley-wsd to kill"
kill -KILL "$wsd"
for _ in $(seq 1 40); do
	[ "$(podman inspect --format '{{.State.Running}}' "$NAME")" = false ] && break
	sleep 0.25
done
[ "$(podman inspect --format '{{.State.Running}}' "$NAME")" = false ] || fail "the container kept running without parley-wsd"
code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$code" != 0 ] || fail "the container exited 0 after parley-wsd died"
"${PODMAN[@]}" start "$NAME" >/dev/null
wait_healthy "$NAME"
/usr/bin/python3 "$tmp/check.py" "http://127.0.0.1:$PORT" "$token" "$channel" "$message" || fail "after parley-wsd died"
"${PODMAN[@]}" rm -f -t 10 "$NAME" >/dev/null
echo "parley-wsd killed: the container exited $code; started again, it serves the same data: ok"

echo "== secrets from files: two frontends on one PostgreSQL"
if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
	pg_dir=$tmp/pgvar
	chmod 755 "$tmp"   # the cluster belongs to the user postgres (scripts/pg.sh)
	conninfo=$("$ROOT/scripts/pg.sh" start "$pg_dir")
	pg_sock=$(sed -n 's/^host=\([^ ]*\) .*/\1/p' <<<"$conninfo")
	chmod 755 "$pg_dir"
	mkdir -p "$tmp/secrets"
	# As podman secrets and compose's file secrets arrive: readable by all.
	head -c 48 /dev/urandom | base64 -w0 >"$tmp/secrets/jwt_secret"
	echo "host=/pg user=postgres dbname=parley" >"$tmp/secrets/db_url"
	chmod 0444 "$tmp/secrets/jwt_secret" "$tmp/secrets/db_url"
	chmod 0755 "$tmp/secrets"
	ports=()
	# Both frontends share the uploads, as compose.yaml's do.
	podman volume create "$NAME-files" >/dev/null
	volumes+=("$NAME-files")
	for i in 1 2; do
		p=$(free_port)
		ports+=("$p")
		podman volume create "$NAME-pg$i" >/dev/null
		volumes+=("$NAME-pg$i")
		containers+=("$NAME-pg$i")
		run_container "$NAME-pg$i" "$NAME-pg$i" "$p" -v "$NAME-files:/var/lib/parley/files" \
			-v "$pg_sock:/pg" -v "$tmp/secrets:/run/secrets:ro" \
			-e PARLEY_DB_URL_FILE=/run/secrets/db_url -e PARLEY_JWT_SECRET_FILE=/run/secrets/jwt_secret
	done
	for i in 1 2; do wait_healthy "$NAME-pg$i"; done
	read -r token channel message < <(/usr/bin/python3 "$tmp/post.py" "http://127.0.0.1:${ports[0]}") || fail "posting on frontend 1"
	/usr/bin/python3 "$tmp/check.py" "http://127.0.0.1:${ports[1]}" "$token" "$channel" "$message" ||
		fail "frontend 2 does not see frontend 1's post, or refuses its token"
	/usr/bin/python3 - "http://127.0.0.1:${ports[0]}" "http://127.0.0.1:${ports[1]}" "$token" <<'PY' || fail "an upload on frontend 1 read on frontend 2"
import os, sys, requests
one, two, tok = sys.argv[1:4]
h = {"Authorization": "Bearer " + tok}
data = os.urandom(5000)
r = requests.post(one + "/api/files", params={"name": "x.bin"}, data=data, timeout=30,
                  headers=dict(h, **{"Content-Type": "application/octet-stream"}))
assert r.status_code == 201, r.text
r = requests.get(two + "/api/files/%d" % r.json()["id"], headers=h, timeout=30)
assert r.status_code == 200 and r.content == data, (r.status_code, r.headers)
PY
	for i in 1 2; do
		d=$(podman volume inspect --format '{{.Mountpoint}}' "$NAME-pg$i")
		[ ! -e "$d/jwt_secret" ] || fail "frontend $i made a key of its own"
		[ ! -e "$d/parley.db" ] || fail "frontend $i made a SQLite database"
	done
	psql -X -At -d "$conninfo" -c "SELECT content FROM messages WHERE id = $message" | grep -qx 'still here?' ||
		fail "the post is not in PostgreSQL"
	# parleyctl beside the servers, through the entrypoint: db_url from the file.
	stats=$(podman exec "$NAME-pg2" parley-entrypoint parleyctl stats) || fail "parleyctl stats in frontend 2"
	grep -qx 'messages 1' <<<"$stats" || fail "parleyctl stats in frontend 2: $stats"
	echo "db_url and the token key from 0444 files; a post, an upload and a token of frontend 1 on frontend 2: ok"
else
	echo "check-container: postgresql-15 is not installed (make deps): skipped"
fi

echo "== compose.yaml"
/usr/bin/python3 "$ROOT/scripts/lint-container.py" "$ROOT" || fail "compose.yaml / Containerfile lint"

echo "check-container: passed in $(($(date +%s) - start)) s"

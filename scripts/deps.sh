#!/usr/bin/env bash
# deps.sh — the Debian packages parley needs to build, serve and test.
#   scripts/deps.sh          installs the missing ones, saying which (make deps,
#                            make fuzz; apt-get as root or through sudo)
#   scripts/deps.sh --run    the same for what serving needs only (make run)
#   scripts/deps.sh --bundle the host tools of make bundle and check-bundle
#   scripts/deps.sh --check  installs nothing: names what is missing and the
#                            command that installs it, and fails (make check)
#   scripts/deps.sh --deb    what make deb / make check-deb need
#   scripts/deps.sh --container  what make check-container needs
# Node.js (the client checks: @redocly/cli wants node >= 20.19) is not in
# Debian 12 at that version, so it is only checked, never installed.
set -euo pipefail

# What `make run` needs: build, migrate and serve on lighttpd; and what the
# README's walkthrough runs against it (curl, jq, python3-websocket).
RUN_PKGS=(
	gcc make pkg-config
	libfcgi-dev libsqlite3-dev libpq-dev libsodium-dev libjwt-dev libcjson-dev
	libwebsockets-dev libev-dev libmagic-dev libcurl4-openssl-dev libgraphicsmagick1-dev
	lighttpd lighttpd-mod-deflate sqlite3 curl jq python3-websocket
)
# What the tests need besides (make check: every frontend, the sanitizer
# and fuzz builds, the browser, compose.yaml's lint).
PKGS=(
	"${RUN_PKGS[@]}"
	clang libclang-rt-14-dev libcmocka-dev
	nginx spawn-fcgi multiwatch apache2
	python3 python3-requests python3-websocket python3-pytest python3-pytest-xdist
	postgresql-15 python3-psycopg2
	dpkg-dev binutils chromium
	python3-yaml
)
# What make deb / make check-deb need (never make deps: lintian and
# debhelper are no part of building or testing parley itself).
DEB_DEPS=(debhelper dpkg-dev fakeroot lintian mmdebstrap libcmocka-dev)
# What make check-container needs on the test host (the image installs its
# own packages with apt inside the build): podman with Debian's runc (crun
# is refused in some sandboxes), mmdebstrap for the base images,
# python3-yaml to read compose.yaml, pytest for the suite.
CONTAINER_DEPS=(podman runc mmdebstrap python3-yaml python3-requests python3-pytest)
if [ "${1:-}" = --container ]; then
	PKGS=("${CONTAINER_DEPS[@]}")
	shift
	set -- --no-optional
fi
# What make bundle / make check-bundle need on this machine (the build
# itself happens in a Debian 11 chroot: scripts/bundle.sh).
BUNDLE_DEPS=(mmdebstrap binutils python3-requests)
if [ "${1:-}" = --bundle ]; then
	PKGS=("${BUNDLE_DEPS[@]}")
	shift
	set -- --no-optional
fi
if [ "${1:-}" = --deb ]; then
	PKGS=("${DEB_DEPS[@]}")
	shift
	set -- --no-optional
fi
# `scripts/deps.sh --run` (make run) installs the serving set only.
if [ "${1:-}" = --run ]; then
	PKGS=("${RUN_PKGS[@]}")
	# make run ENGINE=postgres: a local PostgreSQL server too.
	if [ "${ENGINE:-sqlite}" = postgres ]; then
		PKGS+=(postgresql-15)
	fi
	shift
	set -- --no-optional
fi
# Installed by make deps, but make check runs without them (the
# screenshots then show boxes for emoji).
OPTIONAL=(fonts-noto-color-emoji)

# missing PKG...: prints the packages of PKG... that are not installed.
missing() {
	local installed
	# dpkg-query fails when it knows a name not at all: read what it printed.
	installed=$({ dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true; } |
		awk '$NF == "installed" { print $1 }')
	for p in "$@"; do
		grep -qx -- "$p" <<<"$installed" || echo "$p"
	done
}

# node_problem: says what is wrong with node/npm, or nothing.
node_problem() {
	local v
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "node and npm are missing"
		return
	fi
	v=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
	if [ "${v%%.*}" -lt 20 ]; then
		echo "node $v is too old"
	fi
}
NODE_HINT="the client checks need node >= 20.19 and npm (Debian 12's nodejs is 18: install Node.js 20 or 22, e.g. NodeSource's nodejs)"

mapfile -t need < <(missing "${PKGS[@]}")

if [ "${1:-}" = --check ]; then
	rc=0
	if [ ${#need[@]} -gt 0 ]; then
		echo "parley: missing Debian packages: ${need[*]}" >&2
		echo "parley: install them with: make deps   (runs apt-get, as root or through sudo)" >&2
		rc=1
	fi
	problem=$(node_problem)
	if [ -n "$problem" ]; then
		echo "parley: $problem: $NODE_HINT" >&2
		rc=1
	fi
	exit $rc
fi

if [ "${1:-}" != --no-optional ]; then
	mapfile -t want < <(missing "${OPTIONAL[@]}")
	need+=("${want[@]}")
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "parley: installing missing Debian packages: ${need[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "parley: run as root or install: ${need[*]}" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Installing lighttpd, nginx or apache2 may try to start the system service
# on port 80; parley runs its own instance of each on its own port, with
# its own generated config, and never needs (or stops) those.
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "parley: installed ${need[*]}"

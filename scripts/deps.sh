#!/usr/bin/env bash
# deps.sh — installs the Debian packages parley needs that are missing,
# saying what it installs. Usage: scripts/deps.sh
set -euo pipefail

PKGS=(
	gcc make pkg-config clang libclang-rt-14-dev
	libfcgi-dev libsqlite3-dev libsodium-dev libjwt-dev libcjson-dev
	libwebsockets-dev libev-dev libcmocka-dev
	lighttpd nginx spawn-fcgi multiwatch apache2 sqlite3 curl
	python3 python3-requests python3-websocket python3-pytest
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "parley: installing missing Debian packages: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "parley: run as root or install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Installing lighttpd, nginx or apache2 may try to start the system service
# on port 80; parley runs its own instance of each on its own port, with
# its own generated config, and never needs (or stops) those.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "parley: installed ${missing[*]}"

#!/usr/bin/env bash
# check-deb.sh DEB — installs the package into a throwaway Debian 12 chroot
# and checks it (make check-deb; root only: chroot, mounts):
#   1. apt installs it without Recommends, resolving Depends from the mirror;
#   2. postinst made the user parley, /var/lib/parley (0750), the token key
#      (0600, parley's), the config (0640 root:parley) and migrated the DB;
#   3. lighttpd from the shipped example (/usr/share/doc/parley/examples)
#      spawns the installed FastCGI programs, parley-wsd runs from
#      /usr/sbin, on free loopback ports; a register, login, channel, post,
#      history and health flow is driven from outside (python3-requests),
#      and /ws reaches the daemon (401 without a ticket);
#   4. a reinstall keeps the key, the config's mode and the data;
#   5. apt-get remove keeps /var/lib/parley and the key; purge removes them.
# The base chroot (mmdebstrap --variant=apt bookworm, plus lighttpd and
# lighttpd-mod-deflate, which the example loads) is
# built once and kept in $PARLEY_DEB_CACHE (default /var/cache/parley-test).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
CACHE=${PARLEY_DEB_CACHE:-/var/cache/parley-test}
BASE=$CACHE/bookworm-apt-deflate
MIRROR=${PARLEY_DEB_MIRROR:-http://deb.debian.org}

[ "$(id -u)" -eq 0 ] || { echo "check-deb: needs root (chroot, mount)" >&2; exit 1; }

# Everything below runs in a mount namespace of its own: the chroot's
# /proc and /dev go away with it, whatever happens.
if [ -z "${PARLEY_CHECK_DEB_NS:-}" ]; then
	exec env PARLEY_CHECK_DEB_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi

start=$(date +%s)
if [ ! -d "$BASE" ]; then
	mkdir -p "$CACHE"
	echo "check-deb: building the base chroot in $BASE (once)"
	mmdebstrap --variant=apt --include=lighttpd,lighttpd-mod-deflate bookworm "$BASE.tmp" \
		"deb $MIRROR/debian bookworm main" "deb $MIRROR/debian bookworm-updates main" \
		"deb $MIRROR/debian-security bookworm-security main"
	mv "$BASE.tmp" "$BASE"
fi

tmp=$(mktemp -d /tmp/parley-deb.XXXXXX)
R=$tmp/root
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	umount -l "$R/proc" "$R/dev" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cp -a "$BASE" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# No service starts inside the chroot (no systemd there anyway).
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/parley.deb"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }

echo "== install"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends /tmp/parley.deb >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "apt-get install"; }
grep -i 'migration' "$tmp/install.log" || true

echo "== what postinst made"
in_root getent passwd parley >/dev/null || fail "no user parley"
[ "$(in_root stat -c '%a %U' /var/lib/parley)" = "750 parley" ] || fail "/var/lib/parley: $(in_root stat -c '%a %U' /var/lib/parley)"
[ "$(in_root stat -c '%a %U' /etc/parley/jwt_secret)" = "600 parley" ] || fail "jwt_secret: $(in_root stat -c '%a %U' /etc/parley/jwt_secret)"
[ "$(in_root stat -c '%s' /etc/parley/jwt_secret)" -ge 32 ] || fail "jwt_secret too short"
[ "$(in_root stat -c '%a %U %G' /etc/parley/parley.conf)" = "640 root parley" ] || fail "parley.conf: $(in_root stat -c '%a %U %G' /etc/parley/parley.conf)"
[ -s "$R/var/lib/parley/parley.db" ] || fail "no database"
[ "$(in_root stat -c '%U' /var/lib/parley/parley.db)" = parley ] || fail "database not parley's"
want=$(ls "$ROOT"/schema/[0-9][0-9][0-9]_*.sql | wc -l)
ver=$(in_root runuser -u parley -- env PARLEY_CONFIG=/etc/parley/parley.conf parleyctl version)
grep -qx "version $(cat "$ROOT/VERSION")" <<<"$ver" || fail "parleyctl version said: $ver"
grep -qx "schema_version $want" <<<"$ver" || fail "not migrated to $want: $ver"
echo "user, state dir, key, config and schema $want: ok"

echo "== serving from the installed paths"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
WS_PORT=$(free_port)
# The shipped example, with this run's ports and pid file.
sed -e "s|^server.port .*|server.port = $PORT|" \
	-e "s|\"port\" => 8081|\"port\" => $WS_PORT|" \
	-e "s|^server.pid-file .*|server.pid-file = \"/run/parley-lighttpd.pid\"|" \
	"$R/usr/share/doc/parley/examples/lighttpd.conf.example" >"$R/tmp/lighttpd.conf"
grep -q '/usr/libexec/parley' "$R/tmp/lighttpd.conf" || fail "the example does not name /usr/libexec/parley"
# What tmpfiles.d makes on a systemd machine.
install -d -m 0750 "$R/run/parley"
in_root chown parley:www-data /run/parley
in_root lighttpd -tt -f /tmp/lighttpd.conf || fail "lighttpd -tt"
chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin lighttpd -D -f /tmp/lighttpd.conf &
pids+=($!)
chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PARLEY_CONFIG=/etc/parley/parley.conf PARLEY_WS_PORT="$WS_PORT" \
	runuser -u parley -- /usr/sbin/parley-wsd 2>"$tmp/wsd.log" &
pids+=($!)
/usr/bin/python3 - "http://127.0.0.1:$PORT" "$(cat "$ROOT/VERSION")" <<'PY' || { cat "$R/var/log/parley/lighttpd-error.log" "$tmp/wsd.log" >&2 || true; fail "the flow"; }
import sys, time, requests
base, version = sys.argv[1], sys.argv[2]
r = None
for _ in range(100):
    try:
        r = requests.get(base + "/api/health", timeout=2)
        if r.status_code == 200:
            break
    except requests.RequestException:
        pass
    time.sleep(0.1)
assert r is not None and r.status_code == 200 and r.json()["version"] == version, r
s = requests.Session()
r = s.post(base + "/api/auth/register", json={"username": "debtest", "password": "correct horse"})
assert r.status_code == 201, r.text
r = s.post(base + "/api/auth/login", json={"username": "debtest", "password": "correct horse"})
assert r.status_code == 200, r.text
s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
r = s.post(base + "/api/channels", json={"name": "packaged"})
assert r.status_code == 201, r.text
ch = r.json()["id"]
r = s.post(base + "/api/messages", json={"channel_id": ch, "content": "hello from the .deb"})
assert r.status_code == 201, r.text
r = s.get(base + "/api/messages/history", params={"channel": ch})
assert r.status_code == 200 and [m["content"] for m in r.json()] == ["hello from the .deb"], r.text
# /ws through lighttpd's proxy to parley-wsd: an upgrade without a ticket is 401.
for _ in range(50):
    r = requests.get(base + "/ws", headers={"Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, timeout=5)
    if r.status_code != 503 and r.status_code != 502:
        break
    time.sleep(0.1)
assert r.status_code == 401, (r.status_code, r.text)
print("flow through the installed programs: ok (health %s)" % version)
PY
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()

echo "== reinstall (an upgrade's maintainer scripts) keeps the key and the data"
key=$(sha256sum <"$R/etc/parley/jwt_secret")
in_root dpkg -i /tmp/parley.deb >/dev/null
[ "$(sha256sum <"$R/etc/parley/jwt_secret")" = "$key" ] || fail "reinstall replaced the key"
n=$(in_root runuser -u parley -- env PARLEY_CONFIG=/etc/parley/parley.conf parleyctl stats | sed -n 's/^messages //p')
[ "$n" = 1 ] || fail "after reinstall: $n messages"
[ "$(in_root stat -c '%a %U %G' /etc/parley/parley.conf)" = "640 root parley" ] || fail "reinstall changed parley.conf's mode"
echo "key, config mode and data kept: ok"

echo "== remove keeps the data, purge removes it"
in_root apt-get remove -y -qq parley >/dev/null
[ -s "$R/var/lib/parley/parley.db" ] || fail "remove deleted the database"
[ -s "$R/etc/parley/jwt_secret" ] || fail "remove deleted the key"
[ ! -e "$R/usr/bin/parleyctl" ] || fail "remove left parleyctl"
in_root apt-get purge -y -qq parley >/dev/null
[ ! -e "$R/var/lib/parley" ] || fail "purge left /var/lib/parley"
[ ! -e "$R/etc/parley" ] || fail "purge left /etc/parley: $(ls -la "$R/etc/parley")"
echo "remove kept /var/lib/parley and the key; purge removed them: ok"
echo "check-deb: $(basename "$DEB") passed in $(($(date +%s) - start)) s"

#!/usr/bin/env bash
# check-bundle.sh [TARBALL] — the shared-host bundle (make bundle) on the
# oldest system it claims to run on: a minimal Debian 11 (glibc 2.31) with
# Apache and none of parley's libraries (make check-bundle; root only:
# chroot, mounts):
#   1. every program and every library in lib/ finds all it needs, and
#      nothing of it outside the bundle but glibc (ldd in the chroot: the
#      chroot's Apache brings its own libsqlite3, libssl, libjansson and
#      libxml2, which must not be what the programs use);
#   2. every program answers --version there;
#   3. INSTALL's commands, run as written by the site user (www-data) in a
#      fresh home inside the chroot, give a working site: health, register,
#      login, an upload (libmagic with the bundle's database), a long poll;
#   4. the core suite and the long-poll tests (what make check runs under
#      Apache on this machine) pass against the bundle's programs under
#      the chroot's Apache (mod_cgi, prefork), driven from outside: conftest
#      starts scripts/serve.sh with PARLEY_BUNDLE and PARLEY_APACHE_CHROOT.
# The base chroot (mmdebstrap --variant=minbase bullseye, plus apache2) is
# built once and kept in $PARLEY_BUNDLE_CACHE (default /var/cache/parley-test).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(cat "$ROOT/VERSION")
TARBALL=${1:-$ROOT/build/parley-cgi-$VERSION-linux-x86_64.tar.gz}
TARBALL=$(cd "$(dirname "$TARBALL")" && pwd)/$(basename "$TARBALL")
CACHE=${PARLEY_BUNDLE_CACHE:-/var/cache/parley-test}
BASE=$CACHE/bullseye-apache
MIRROR=${PARLEY_DEB_MIRROR:-http://deb.debian.org}
GLIBC_MIN=2.31

[ "$(id -u)" -eq 0 ] || { echo "check-bundle: needs root (chroot, mount)" >&2; exit 1; }
[ -s "$TARBALL" ] || { echo "check-bundle: no $TARBALL (make bundle)" >&2; exit 1; }
if [ -z "${PARLEY_CHECK_BUNDLE_NS:-}" ]; then
	exec env PARLEY_CHECK_BUNDLE_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi

start=$(date +%s)
if [ ! -d "$BASE" ]; then
	mkdir -p "$CACHE"
	echo "check-bundle: building the base chroot in $BASE (once)"
	rm -rf "$BASE.tmp"
	mmdebstrap --variant=minbase --include=apache2 bullseye "$BASE.tmp" \
		"deb $MIRROR/debian bullseye main" "deb $MIRROR/debian bullseye-updates main"
	mv "$BASE.tmp" "$BASE"
fi

# An overlay of the cached chroot (which stays clean), and one directory
# at the same path inside and out ($S): the bundle, the tests' data
# directories (TMPDIR) and the site's home, so that the configs serve.sh
# writes on this side name the right files on the other.
tmp=$(mktemp -d /tmp/parley-check-bundle.XXXXXX)
chmod 755 "$tmp"
R=$tmp/root
S=$tmp/shared
apache=
cleanup() {
	[ -n "$apache" ] && kill -TERM -- "-$apache" 2>/dev/null && sleep 1
	umount -l "$R$S" "$R/proc" "$R/dev" 2>/dev/null || true
	umount -l "$R" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$R" "$tmp/upper" "$tmp/work" "$S/tmp" "$S/home"
chmod 1777 "$S/tmp"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$tmp/upper,workdir=$tmp/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mkdir -p "$R$S"
mount --bind "$S" "$R$S"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C "$@"; }
fail() { echo "check-bundle: FAIL: $*" >&2; exit 1; }

tar -xzf "$TARBALL" --no-same-owner -C "$S"
B=$S/$(basename "$TARBALL" .tar.gz)
[ -x "$B/parleyctl" ] || fail "no parleyctl in the tarball"

glibc=$(in_root ldd --version)
glibc=${glibc%%$'\n'*}
echo "== the chroot: $glibc"
[ "${glibc##* }" = "$GLIBC_MIN" ] || fail "the chroot's glibc is not $GLIBC_MIN"

echo "== ldd: everything found, from the bundle or glibc"
GLIBC_RE='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libnsl|libmvec)\.so'
n=0
for f in "$B"/cgi-bin/*.cgi "$B/parleyctl" "$B"/lib/*.so*; do
	# A library in lib/ is loaded by a program whose rpath names lib/.
	out=$(in_root env LD_LIBRARY_PATH="$B/lib" ldd "$f" 2>&1) || fail "ldd $f: $out"
	! grep -q 'not found' <<<"$out" || fail "$f: $(grep 'not found' <<<"$out")"
	while read -r lib _ path _; do
		grep -Eq "$GLIBC_RE" <<<"$lib" && continue
		path=$(readlink -f "$path")   # the same path on this side
		case $path in "$B"/lib/*) ;; *) fail "$f: $lib from $path, not from the bundle" ;; esac
	done < <(grep '=>' <<<"$out")
	n=$((n + 1))
done
# And without LD_LIBRARY_PATH: the programs' own rpath finds lib/.
for f in "$B"/cgi-bin/*.cgi "$B/parleyctl"; do
	out=$(in_root ldd "$f")
	! grep -q 'not found' <<<"$out" || fail "$f (rpath): $(grep 'not found' <<<"$out")"
done
echo "$n files: ok"

echo "== --version"
for f in "$B"/cgi-bin/*.cgi "$B/parleyctl"; do
	v=$(in_root "$f" --version) || fail "$f --version"
	grep -q "$VERSION" <<<"$v" || fail "$f --version said: $v"
done
echo "$(in_root "$B/parleyctl" --version): ok"

echo "== INSTALL, as written, by the site user"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
home=$S/home/site
mkdir -p "$home/public_html"
chown -R www-data:www-data "$home" "$B"
steps=$(sed -n '/^  mkdir -p ~\/parley/,/^  curl /p' "$B/INSTALL" | grep -v '^  curl ' | sed 's/^  //')
[ -n "$steps" ] || fail "no install commands in INSTALL"
(cd "$B" && in_root sh -c "cd '$B' && runuser -u www-data -- env -i HOME='$home' PATH=/usr/bin:/bin bash -euc \"\$0\"" "$steps") ||
	fail "INSTALL's commands"
port=$(free_port)
mkdir -p "$S/apache/run" "$S/apache/log"
sed -e "s|@PORT@|$port|g" -e "s|@VAR@|$S/apache|g" -e "s|@HTDOCS@|$home/public_html|g" \
	-e "s|@APACHE_USER@|www-data|g" -e "s|@APACHE_GROUP@|www-data|g" \
	-e "s|@MPM_LOAD@|LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so|" \
	-e "s|@CGI_LOAD@|LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so|" \
	"$ROOT/scripts/apache.conf.in" >"$S/apache/apache2.conf"
in_root apache2 -t -f "$S/apache/apache2.conf" 2>/dev/null || fail "apache2 -t"
setsid chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C apache2 -DFOREGROUND -f "$S/apache/apache2.conf" &
apache=$!
/usr/bin/python3 - "http://127.0.0.1:$port" "$VERSION" <<'PY' || { cat "$S/apache/log/apache-error.log" >&2 || true; fail "the site INSTALL made"; }
import sys, threading, time, uuid, requests
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
assert requests.get(base + "/").status_code == 200
for path in ("/cgi-bin/lib/libjwt.so.0", "/cgi-bin/lib/magic.mgc", "/.htaccess"):
    assert requests.get(base + path).status_code == 403, path
name = "host" + uuid.uuid4().hex[:8]
s = requests.Session()
r = s.post(base + "/api/auth/register", json={"username": name, "password": "correct horse"})
assert r.status_code == 201, r.text
r = s.post(base + "/api/auth/login", json={"username": name, "password": "correct horse"})
assert r.status_code == 200, r.text
s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
ch = s.post(base + "/api/channels", json={"name": "c" + name}).json()["id"]
# an upload: libmagic reads the bundle's database (SetEnv MAGIC)
r = s.post(base + "/api/files", files={"file": ("a.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n", "application/octet-stream")})
assert r.status_code == 201 and r.json()["content_type"] == "application/pdf", r.text
head = s.get(base + "/api/events", params={"timeout": 0}).json()["last_event_id"]
out = {}
th = threading.Thread(target=lambda: out.update(r=s.get(base + "/api/events", params={"since": head, "timeout": 20})))
th.start()
time.sleep(0.5)
msg = requests.post(base + "/api/messages", headers=s.headers, json={"channel_id": ch, "content": "from an old system"}).json()
th.join(25)
assert out["r"].status_code == 200, out
assert msg["id"] in [e["message"]["id"] for e in out["r"].json()["events"] if e["type"] == "message.created"]
print("health %s, register, login, upload (application/pdf), long poll: ok" % version)
PY
kill -TERM -- "-$apache" 2>/dev/null || true
wait "$apache" 2>/dev/null || true
apache=
[ "$(stat -c %U "$home/parley/parley.db")" = www-data ] || fail "the database is not the site user's"

echo "== the core and long-poll suites through the chroot's Apache"
# parleyctl as the tests call it (prune-files): the bundle's, in the chroot.
printf '#!/bin/sh\nexec chroot %s env -i PATH=/usr/bin:/bin PARLEY_CONFIG="$PARLEY_CONFIG" %s "$@"\n' \
	"$R" "$B/parleyctl" >"$S/parleyctl"
chmod 0755 "$S/parleyctl"
XDIST=()
if /usr/bin/python3 -c 'import xdist' 2>/dev/null; then
	XDIST=(-n "${PYTEST_WORKERS:-2}" --dist loadfile)
fi
cd "$ROOT"
TMPDIR=$S/tmp PARLEY_FRONTEND=apache PARLEY_BUNDLE=$B PARLEY_APACHE_CHROOT=$R \
	PARLEY_CTL_BIN=$S/parleyctl \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider "${XDIST[@]}" \
	tests/integration/test_core_flow.py tests/integration/test_abuse.py tests/integration/test_files.py \
	tests/integration/test_realtime.py::test_long_poll ||
	fail "the suites"
echo "check-bundle: $(basename "$TARBALL") passed in $(($(date +%s) - start)) s"

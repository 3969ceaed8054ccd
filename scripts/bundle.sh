#!/usr/bin/env bash
# bundle.sh — make bundle: build/parley-cgi-<VERSION>-linux-x86_64.tar.gz,
# the CGI programs and parleyctl for a shared host whose distribution has
# none of parley's libraries (issue 18). Root only (chroot, mounts).
#
# Built in a Debian 11 (bullseye, glibc 2.31) chroot so that the programs
# run on any x86-64 Linux with glibc >= 2.31: a program linked against a
# newer glibc asks for its newer symbol versions (Debian 12's links
# __libc_start_main@GLIBC_2.34) and will not start on an older one.
#   - static (bullseye's .a files): libsodium, libfcgi, libmagic with the
#     zlib, bzip2 and xz it needs;
#   - SQLite 3.40.1 built from Debian 12's source package (bullseye's 3.34
#     lacks RETURNING, which lib/ uses), static, with Debian's options;
#   - shared, in lib/ beside the programs, found through an $ORIGIN rpath
#     (DT_RPATH, so it also covers the libraries' own dependencies and
#     dlopen): libjwt and libcjson (Debian ships no .a for them) with what
#     they need (libjansson, libcrypto), and GraphicsMagick with its
#     libraries (image previews, loaded with dlopen by lib/thumb.c);
#   - lib/magic.mgc, libmagic's database (the .htaccess sets MAGIC to it).
# Not in it: parley-wsd and parley-hookd (a shared host runs no daemon),
# PostgreSQL (lib/db_pg.c loads the host's libpq, if any).
# The base chroot is built once and kept in $PARLEY_BUNDLE_CACHE (default
# /var/cache/parley-test), with the SQLite build beside it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(cat "$ROOT/VERSION")
CACHE=${PARLEY_BUNDLE_CACHE:-/var/cache/parley-test}
BASE=$CACHE/bullseye-build
MIRROR=${PARLEY_DEB_MIRROR:-http://deb.debian.org}
SQLITE_VERSION=3.40.1
SQLITE=$CACHE/bullseye-sqlite-$SQLITE_VERSION
GLIBC_MIN=2.31
NAME=parley-cgi-$VERSION-linux-x86_64
OUT=$ROOT/build/$NAME.tar.gz
# What the build needs from bullseye. (Not bullseye-security: the mirror
# this was made on lacks some of its files; PARLEY_BUNDLE_SUITES adds it.)
BUILD_PKGS=pkg-config,tcl,dpkg-dev,ca-certificates,libfcgi-dev,libsodium-dev,libjwt-dev,libcjson-dev,libmagic-dev,libpq-dev,libssl-dev,libjansson-dev,zlib1g-dev,libbz2-dev,liblzma-dev,libgraphicsmagick1-dev
SUITES=${PARLEY_BUNDLE_SUITES:-bullseye bullseye-updates}

[ "$(id -u)" -eq 0 ] || { echo "bundle: needs root (chroot, mount)" >&2; exit 1; }
if [ -z "${PARLEY_BUNDLE_NS:-}" ]; then
	exec env PARLEY_BUNDLE_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi

start=$(date +%s)
if [ ! -d "$BASE" ]; then
	mkdir -p "$CACHE"
	echo "bundle: building the bullseye build chroot in $BASE (once)"
	src=()
	for s in $SUITES; do
		case $s in
		*-security) src+=("deb $MIRROR/debian-security $s main") ;;
		*) src+=("deb $MIRROR/debian $s main") ;;
		esac
	done
	rm -rf "$BASE.tmp"
	mmdebstrap --variant=buildd --include="$BUILD_PKGS" bullseye "$BASE.tmp" "${src[@]}"
	mv "$BASE.tmp" "$BASE"
fi

# The build runs in an overlay of the cached chroot: the base stays clean.
tmp=$(mktemp -d /tmp/parley-bundle.XXXXXX)
R=$tmp/root
cleanup() {
	umount -l "$R/proc" "$R/dev" 2>/dev/null || true
	umount -l "$R" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$R" "$tmp/upper" "$tmp/work"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$tmp/upper,workdir=$tmp/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
cp /etc/resolv.conf "$R/etc/resolv.conf"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C "$@"; }
fail() { echo "bundle: FAIL: $*" >&2; exit 1; }

# SQLite from Debian 12's source package (apt-get source checks it against
# the signed Sources index), built once: the amalgamation with the options
# of Debian's debian/rules, as a static library.
if [ ! -s "$SQLITE/libsqlite3.a" ]; then
	echo "bundle: building SQLite $SQLITE_VERSION from Debian 12's source package (once)"
	echo "deb-src $MIRROR/debian bookworm main" >"$R/etc/apt/sources.list.d/bookworm-src.list"
	in_root apt-get update -qq
	mkdir -p "$R/build/sqlite"
	in_root sh -c 'cd /build/sqlite && apt-get source -qq --only-source sqlite3/bookworm' >/dev/null
	in_root sh -ec '
		cd /build/sqlite/sqlite3-'"$SQLITE_VERSION"'
		./configure --disable-tcl >/dev/null
		make -s sqlite3.c >/dev/null
		# What Debian 12 builds libsqlite3-0 with: the CFLAGS of its
		# debian/rules, and what its configure options (fts4, fts5, json,
		# math, threadsafe, load-extension) turn on.
		gcc -O2 -fno-strict-aliasing -fPIC -c -o sqlite3.o sqlite3.c \
			-DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_COLUMN_METADATA \
			-DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS \
			-DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1 \
			-DSQLITE_ENABLE_UNLOCK_NOTIFY \
			-DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB \
			-DSQLITE_ALLOW_ROWID_IN_VIEW \
			-DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1 \
			-DSQLITE_ENABLE_LOAD_EXTENSION -DSQLITE_ENABLE_JSON1 \
			-DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_THREADSAFE=1 \
			-DSQLITE_ENABLE_FTS3_TOKENIZER=1 -DSQLITE_USE_URI=1 \
			-DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_ENABLE_PREUPDATE_HOOK \
			-DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_STMTVTAB \
			-DSQLITE_MAX_VARIABLE_NUMBER=250000 \
			-DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_MATH_FUNCTIONS
		ar rcs libsqlite3.a sqlite3.o'
	d=$R/build/sqlite/sqlite3-$SQLITE_VERSION
	mkdir -p "$SQLITE.tmp"
	cp "$d/libsqlite3.a" "$d/sqlite3.h" "$d/sqlite3ext.h" "$SQLITE.tmp/"
	cp "$d/debian/copyright" "$SQLITE.tmp/copyright"
	rm -rf "$SQLITE" && mv "$SQLITE.tmp" "$SQLITE"
fi
mkdir -p "$R/build/sqlite-lib"
cp "$SQLITE"/* "$R/build/sqlite-lib/"

# The source as make dist takes it: the tracked files as they are now.
echo "bundle: building parley $VERSION in the bullseye chroot"
mkdir -p "$R/build/src"
tree=$(cd "$ROOT" && git stash create)
(cd "$ROOT" && git archive --format=tar "${tree:-HEAD}") | tar -x -C "$R/build/src"
apps=$(cd "$ROOT/fcgi-apps" && ls *.c | sed 's/\.c$//')
targets="build/bundle/bin/parleyctl"
for a in $apps; do targets="$targets build/bundle/bin/parley-$a"; done
# Everything but glibc static, except what Debian ships only as .so; the
# rpath finds lib/ beside a program (parleyctl in ~/parley, the CGI
# programs with cgi-bin/lib) or one level up (the unpacked bundle).
in_root sh -ec '
	cd /build/src
	pc=$(for p in libsodium libjwt libcjson GraphicsMagick libpq; do pkg-config --cflags $p; done | tr "\n" " ")
	make -s -j'"$(nproc)"' B=build/bundle CC=gcc CFLAGS="-O2 -Wno-missing-field-initializers" \
		PKG_CFLAGS="-I/build/sqlite-lib $pc -I$(pg_config --includedir)" \
		LDFLAGS="-Wl,--disable-new-dtags -Wl,-rpath,'"'"'\$\$ORIGIN/lib:\$\$ORIGIN/../lib'"'"'" \
		LDLIBS_CORE="-L/build/sqlite-lib -Wl,-Bstatic -lsqlite3 -lsodium -lfcgi -lmagic -lz -lbz2 -llzma -Wl,-Bdynamic -ljwt -lcjson -lm -lpthread -ldl" \
		'"$targets"'
'

# The layout of the tarball (INSTALL says where each part goes).
S=$tmp/$NAME
mkdir -p "$S/cgi-bin" "$S/lib" "$S/licenses" "$S/schema"
B=$R/build/src/build/bundle/bin
for a in $apps; do install -m 0755 "$B/parley-$a" "$S/cgi-bin/parley-$a.cgi"; done
install -m 0755 "$B/parleyctl" "$S/parleyctl"
install -m 0644 "$ROOT"/schema/[0-9]*.sql "$S/schema/"
cp -R "$ROOT/www" "$S/www"
install -m 0644 "$ROOT/parley.conf.example" "$S/"
# The .htaccess of make cgi, with libmagic's database named (it is not
# where the host's libmagic, if any, would look).
sed -e '/^SetEnv PARLEY_CONFIG /a SetEnv MAGIC /home/YOU/parley/lib/magic.mgc' \
	-e 's|^# 1\. `make cgi` puts the programs in cgi-bin/ as parley-<name>.cgi.|# 1. The bundle has the programs in cgi-bin/ (INSTALL).|' \
	"$ROOT/cgi-bin/htaccess.example" >"$S/cgi-bin/htaccess.example"
grep -q '^SetEnv MAGIC ' "$S/cgi-bin/htaccess.example" || fail "no MAGIC line in the .htaccess"

# The shared libraries: what the programs need (ldd in the chroot), and
# GraphicsMagick with what it needs; never glibc's own.
GLIBC_RE='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libnsl|libBrokenLocale|libmvec)\.so'
gm=$(in_root sh -c 'ls /usr/lib/x86_64-linux-gnu/libGraphicsMagick-Q16.so.3 /usr/lib/libGraphicsMagick-Q16.so.3 2>/dev/null | head -1')
[ -n "$gm" ] || fail "no libGraphicsMagick-Q16.so.3 in the build chroot"
progs=/build/src/build/bundle/bin/parleyctl
for a in $apps; do progs="$progs /build/src/build/bundle/bin/parley-$a"; done
libs=$(for f in $progs "$gm"; do in_root ldd "$f"; done |
	awk '$2 == "=>" && $3 ~ /^[/]/ { print $3 }' | sort -u)
libs=$(printf '%s\n%s\n' "$libs" "$gm" | sort -u)
pkgs="libsodium23 libfcgi0ldbl libmagic1 libmagic-mgc zlib1g libbz2-1.0 liblzma5"
for l in $libs; do
	base=$(basename "$l")
	if grep -Eq "$GLIBC_RE" <<<"$base"; then continue; fi
	cp -L "$R$l" "$S/lib/$base"
	chmod 0644 "$S/lib/$base"
	real=$(in_root readlink -f "$l")
	pkgs="$pkgs $(in_root dpkg -S "$real" 2>/dev/null | sed -n '1s/:.*//p')"
done
cp "$R/usr/lib/file/magic.mgc" "$S/lib/magic.mgc"
# The licences of what is in it: Debian's copyright file of each package.
for p in $(tr ' ' '\n' <<<"$pkgs" | sed 's/:amd64$//' | sort -u); do
	[ -n "$p" ] || continue
	cp "$R/usr/share/doc/$p/copyright" "$S/licenses/$p.copyright" || fail "no copyright file for $p"
done
cp "$SQLITE/copyright" "$S/licenses/sqlite3.copyright"
cp "$ROOT/debian/copyright" "$S/licenses/parley.copyright"

# Nothing may need a glibc newer than $GLIBC_MIN.
newest=$(for f in "$S"/cgi-bin/*.cgi "$S/parleyctl" "$S"/lib/*.so*; do objdump -T "$f"; done |
	grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[ "$(printf '%s\n%s\n' "$newest" "$GLIBC_MIN" | sort -V | tail -1)" = "$GLIBC_MIN" ] ||
	fail "a file needs glibc $newest (> $GLIBC_MIN)"
for f in "$S"/cgi-bin/*.cgi "$S/parleyctl"; do
	readelf -d "$f" | grep -q 'Library rpath: \[\$ORIGIN/lib:\$ORIGIN/../lib\]' || fail "$f: no \$ORIGIN rpath"
done

glibc_note=$newest
(cd "$S/lib" && ls | grep -v '^magic\.mgc$' | paste -sd' ' | fold -s -w 70 | sed -e 's/^/    /' -e 's/ *$//') >"$tmp/libs"
sed -e "s|@VERSION@|$VERSION|g" -e "s|@GLIBC_MIN@|$GLIBC_MIN|g" -e "s|@NAME@|$NAME|g" \
	-e "/@LIBS@/{r $tmp/libs" -e "d}" \
	"$ROOT/scripts/bundle-INSTALL.in" >"$S/INSTALL"
mkdir -p "$ROOT/build"
tar -C "$tmp" --owner=0 --group=0 --numeric-owner --sort=name -czf "$OUT.tmp" "$NAME"
mv "$OUT.tmp" "$OUT"
echo "bundle: newest glibc symbol version needed: $glibc_note (minimum $GLIBC_MIN)"
echo "bundle: $OUT ($(du -h "$OUT" | cut -f1)) in $(($(date +%s) - start)) s"

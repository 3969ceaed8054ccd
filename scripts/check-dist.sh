#!/usr/bin/env bash
# check-dist.sh TARBALL — the source tarball (make dist) unpacks into a
# temporary directory and builds there with `make all` (the build half of
# README's two commands; `make deps` installs what it needs), and every
# program it built answers --version with the tarball's VERSION.
set -euo pipefail
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
tar -xzf "$tarball" -C "$tmp"
dir=$(echo "$tmp"/parley-*)
[ -f "$dir/VERSION" ] || { echo "check-dist: no VERSION in $tarball" >&2; exit 1; }
make -C "$dir" -j2 all >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; echo "check-dist: make all failed" >&2; exit 1; }
v=$(cat "$dir/VERSION")
for p in "$dir"/build/bin/*; do
	out=$("$p" --version)
	[ "$out" = "$(basename "$p") (parley) $v" ] || { echo "check-dist: $p --version said '$out'" >&2; exit 1; }
done
n=$(ls "$dir"/build/bin | wc -l)
echo "check-dist: $(basename "$tarball") builds ($n programs, version $v) in $(($(date +%s) - start)) s"

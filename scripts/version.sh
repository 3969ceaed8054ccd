#!/usr/bin/env bash
# version.sh — the release number lives in VERSION (lib/version.h reads it
# through the Makefile); these files state it too and must agree:
#   debian/changelog   the newest entry's upstream version (before "-N")
#   CHANGELOG.md       a "## [X.Y.Z]" section
#   man/*.[1-8]        the .TH footer "parley X.Y.Z"
#   Containerfile      ARG PARLEY_VERSION's default (the image label)
# Usage: scripts/version.sh --check [ROOT]   says what differs, fails if any
#        scripts/version.sh --set X.Y.Z      writes VERSION, the man pages and
#                                            the Containerfile
#                                            (the changelogs are written by hand)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

case ${1:-} in
--check)
	[ -n "${2:-}" ] && ROOT=$(cd "$2" && pwd)
	cd "$ROOT"
	v=$(cat VERSION)
	bad=0
	if ! grep -qE '^[0-9]+\.[0-9]+\.[0-9]+([~+.][0-9A-Za-z.]+)?$' <<<"$v"; then
		echo "version: VERSION holds '$v', not X.Y.Z" >&2
		bad=1
	fi
	deb=$(sed -n '1s/^parley (\([^)]*\)).*/\1/p' debian/changelog)
	if [ "${deb%-*}" != "$v" ]; then
		echo "version: debian/changelog's newest entry is '$deb', VERSION is '$v' (add an entry: dch -v $v-1)" >&2
		bad=1
	fi
	if ! grep -qF "## [$v]" CHANGELOG.md; then
		echo "version: CHANGELOG.md has no '## [$v]' section" >&2
		bad=1
	fi
	for m in man/*.[1-8]; do
		if ! head -5 "$m" | grep -qE "^\.TH .*\"parley $(sed 's/\./\\./g' <<<"$v")\""; then
			echo "version: $m's .TH line does not say \"parley $v\" (scripts/version.sh --set $v)" >&2
			bad=1
		fi
	done
	if [ -f Containerfile ] && ! grep -qxF "ARG PARLEY_VERSION=$v" Containerfile; then
		echo "version: Containerfile's ARG PARLEY_VERSION default is not $v (scripts/version.sh --set $v)" >&2
		bad=1
	fi
	[ $bad -eq 0 ] && echo "version $v: VERSION, debian/changelog, CHANGELOG.md, man pages and Containerfile agree"
	exit $bad
	;;
--set)
	v=${2:?usage: scripts/version.sh --set X.Y.Z}
	cd "$ROOT"
	printf '%s\n' "$v" >VERSION
	sed -i -E "1,5s/^(\.TH .*)\"parley [^\"]*\"/\1\"parley $v\"/" man/*.[1-8]
	sed -i -E "s/^ARG PARLEY_VERSION=.*/ARG PARLEY_VERSION=$v/" Containerfile
	echo "version: VERSION, man pages and Containerfile say $v; now add CHANGELOG.md's section and a debian/changelog entry" >&2
	;;
*)
	echo "usage: scripts/version.sh --check [ROOT] | --set X.Y.Z" >&2
	exit 2
	;;
esac

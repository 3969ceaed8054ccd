#!/bin/sh
# mailbox.sh — the mail_command of `make run` (PARLEY_DEV_MAIL=1 in
# scripts/serve.sh): a sendmail-compatible stand-in that sends nothing. It
# reads one message on stdin, `sendmail -t` style, and keeps it as
# DIR/mail-<nanoseconds>-<pid>.eml (owner-only), so that a verification
# code can be read on the machine: `mail_command = /path/mailbox.sh DIR`.
set -eu
dir=$1
umask 077
tmp=$(mktemp "$dir/.incoming.XXXXXX")
cat >"$tmp"
# rename(2) is atomic: a reader never sees half a message
mv "$tmp" "$dir/mail-$(date +%s%N)-$$.eml"

#!/usr/bin/python3
"""readme_blocks.py — the README's walkthrough as one bash script.

A ```sh block of README.md runs as part of the walkthrough when the line
just before its fence is an HTML comment (invisible on GitHub):

    <!-- readme-test -->           always
    <!-- readme-test: sqlite -->   only where the engine is SQLite

Inside such a block, a command documents its status with `# → NNN`, at the
end of its last line or alone on the next line; double-quoted strings after
the status, and `"key":value` pairs with a literal value, must occur in the
answer (`...` and other text are not checked):

    curl -s $PARLEY/api/health          # → 200 {"status":"ok","db":"ok",...}

Every command that runs curl must document one. The blocks run in README
order in one shell (`set -euo pipefail`), so variables carry over as they
do for a reader pasting them; `curl` is wrapped to record each request's
status (curl's `-w '%{stderr}...'`) and answer. The first block sets
`PARLEY=http://127.0.0.1:8080`, which --base replaces; any other mention of
that address in a run block is an error, and so is a ```sh block that uses
$PARLEY without a marker (it would go untested).

  scripts/readme_blocks.py [--base URL] [--engine sqlite|postgres] [README]

prints the script. It exits 0 when every documented status and field
matched, and its last line is `readme: N checks, N failed`. The
integration test (tests/integration/test_readme.py) runs it against a
fresh server in a directory where var/ and build/ are that server's.
"""

import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "http://127.0.0.1:8080"
BASE_LINE = "PARLEY=" + DEFAULT_BASE
MARK = re.compile(r"^<!-- readme-test(?::\s*([a-z, ]+?))?\s*-->$")
EXPECT = re.compile(r"#\s*→\s*(\d{3})\b(.*)$")
FRAGMENT = re.compile(r'"((?:[^"\\]|\\.)*)"(?:\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null))?')
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


class ReadmeError(Exception):
    pass


def blocks(text):
    """[(first line number, options, lines)] of the marked ```sh blocks."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i + 1
            end = start
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            body = lines[start:end]
            m = MARK.match(lines[i - 1].strip()) if i else None
            if m:
                opts = {o.strip() for o in (m.group(1) or "").split(",") if o.strip()}
                out.append((start + 1, opts, body))
            elif any("$PARLEY" in l for l in body):
                raise ReadmeError("README.md:%d: a ```sh block uses $PARLEY but has no "
                                  "<!-- readme-test --> marker: it would go untested" % (i + 1))
            i = end + 1
            continue
        i += 1
    if not out:
        raise ReadmeError("README.md: no <!-- readme-test --> block")
    return out


def fragments(sample):
    out = []
    for m in FRAGMENT.finditer(sample):
        frag = '"%s"' % m.group(1)
        if m.group(2):
            frag += ":" + m.group(2)
        out.append(frag)
    return out


def commands(first, body):
    """[(line number, command lines, expectation or None)] of one block."""
    out = []
    i = 0
    while i < len(body):
        line = body[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            m = EXPECT.match(stripped)
            if m:
                if not out or out[-1][2] is not None:
                    raise ReadmeError("README.md:%d: a status with no command before it"
                                      % (first + i))
                out[-1] = (out[-1][0], out[-1][1], (m.group(1), m.group(2)))
            i += 1
            continue
        start = i
        cmd = [line]
        doc = HEREDOC.search(line)
        while cmd[-1].endswith("\\") and i + 1 < len(body):
            i += 1
            cmd.append(body[i])
        if doc:
            word = doc.group(2)
            while i + 1 < len(body) and body[i + 1].strip() != word:
                i += 1
                cmd.append(body[i])
            i += 1
            if i >= len(body):
                raise ReadmeError("README.md:%d: here-document %s is not closed"
                                  % (first + start, word))
            cmd.append(body[i])
        expect = None
        if not doc:
            m = EXPECT.search(cmd[-1])
            if m:
                expect = (m.group(1), m.group(2))
        out.append((first + start, cmd, expect))
        i += 1
    for lineno, cmd, expect in out:
        if expect is None and re.search(r"(^|[\s($|])curl\s", "\n".join(cmd)):
            raise ReadmeError("README.md:%d: this curl command documents no status (# → NNN)"
                              % lineno)
    return out


PRELUDE = r'''#!/usr/bin/env bash
# The README's walkthrough, generated by scripts/readme_blocks.py: the
# marked ```sh blocks of README.md in order, each documented status checked.
set -euo pipefail
__tmp=$(mktemp -d)
trap 'rm -rf "$__tmp"' EXIT
__status=$__tmp/status
__body=$__tmp/body
: >"$__status"
: >"$__body"
__checks=0
__failed=0
__line=0
trap 'echo "readme: README.md:$__line: a command failed (status $?)" >&2' ERR
# Every request's status goes to $__status (curl writes -w to stderr), its
# answer to the reader and to $__body.
curl() {
	command curl "$@" -w '%{stderr}%{http_code}\n' 2>>"$__status" | tee "$__body"
}
# __expect LINE STATUS FRAGMENT...: the last request's status, and each
# fragment somewhere in its answer.
__expect() {
	local line=$1 want=$2 got frag
	shift 2
	got=$(tail -n 1 "$__status")
	: >"$__status"
	__checks=$((__checks + 1))
	if [ "$got" != "$want" ]; then
		echo "readme: README.md:$line: documented $want, got ${got:-no request}: $(head -c 400 "$__body")" >&2
		__failed=$((__failed + 1))
		return 0
	fi
	for frag in "$@"; do
		if ! grep -qF -- "$frag" "$__body"; then
			echo "readme: README.md:$line: $want as documented, but the answer has no $frag: $(head -c 400 "$__body")" >&2
			__failed=$((__failed + 1))
			return 0
		fi
	done
}
'''

EPILOGUE = r'''
trap - ERR
printf '\nreadme: %d checks, %d failed\n' "$__checks" "$__failed"
[ "$__failed" -eq 0 ]
'''


def script(text, base=DEFAULT_BASE, engine="sqlite"):
    parts = [PRELUDE]
    seen_base = False
    for first, opts, body in blocks(text):
        unknown = opts - {"sqlite"}
        if unknown:
            raise ReadmeError("README.md:%d: unknown readme-test option %s"
                              % (first - 2, ", ".join(sorted(unknown))))
        if "sqlite" in opts and engine != "sqlite":
            parts.append("\n# README.md:%d: skipped (SQLite only)\n" % first)
            continue
        parts.append("\n# ---- README.md:%d\n" % first)
        for lineno, cmd, expect in commands(first, body):
            text_cmd = "\n".join(cmd)
            if text_cmd.strip() == BASE_LINE:
                text_cmd = "PARLEY=" + shlex.quote(base)
                seen_base = True
            elif DEFAULT_BASE.split("//")[1] in text_cmd:
                raise ReadmeError("README.md:%d: use $PARLEY, not the address itself" % lineno)
            parts.append("__line=%d\n%s\n" % (lineno, text_cmd))
            if expect:
                args = " ".join(shlex.quote(f) for f in fragments(expect[1]))
                parts.append("__expect %d %s %s\n" % (lineno, expect[0], args))
    if not seen_base:
        raise ReadmeError("README.md: no run block sets %s" % BASE_LINE)
    parts.append(EPILOGUE)
    return "".join(parts)


def main(argv):
    args = argv[1:]
    base, engine, path = DEFAULT_BASE, "sqlite", ROOT / "README.md"
    while args:
        a = args.pop(0)
        if a == "--base" and args:
            base = args.pop(0)
        elif a == "--engine" and args:
            engine = args.pop(0)
        elif not a.startswith("-"):
            path = Path(a)
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
    try:
        sys.stdout.write(script(path.read_text(encoding="utf-8"), base, engine))
    except ReadmeError as e:
        print("readme_blocks: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

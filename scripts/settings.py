#!/usr/bin/python3
"""settings.py — the settings documentation, generated from the one table.

lib/config_keys.h lists every setting (key, field, default, bounds,
meaning); lib/config.c builds its key table and defaults from it. This
script renders the same table into the two places people read it:

  README.md          the table between the "settings:" markers
  man/parley.conf.5  the KEYS entries between the "settings:" markers

  scripts/settings.py           rewrites both regions (make docs)
  scripts/settings.py --check   changes nothing; exits 1 with a diff when a
                                region differs from what it would write, or
                                when parley.conf.example names an unknown
                                key or shows a number other than its default
                                in a commented-out `#key = value` (make check)

The format config_keys.h may use is described at its top.
"""

import ast
import difflib
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "lib/config_keys.h"
README = ROOT / "README.md"
MANPAGE = ROOT / "man/parley.conf.5"
EXAMPLE = ROOT / "parley.conf.example"

README_BEGIN = ("<!-- settings: generated from lib/config_keys.h by scripts/settings.py "
                "(make docs); edit that file, not this table -->")
README_END = "<!-- end of settings -->"
MAN_BEGIN = (".\\\" settings: generated from lib/config_keys.h by scripts/settings.py "
             "(make docs); edit that file, not this section")
MAN_END = ".\\\" end of settings"

# The only non-ASCII the meanings may use, and how roff spells it.
ROFF_CHARS = {"−": "\\-", "–": "\\(en", "—": "\\(em", "↔": "<->", "…": "...",
              "≤": "\\(<=", "≥": "\\(>="}


class Setting:
    def __init__(self, kind, key, field, default, lo, hi, meaning):
        self.kind, self.key, self.field = kind, key, field
        self.default, self.lo, self.hi, self.meaning = default, lo, hi, meaning


# --- reading lib/config_keys.h ------------------------------------------

def _strip_comments(text):
    """C comments out, string literals kept."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("/*", i):
            j = text.index("*/", i + 2)
            out.append(" ")
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        elif text[i] == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _split_args(body):
    """Top-level comma-separated arguments of a macro call."""
    args, depth, cur, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if c == '"':
            j = i + 1
            while body[j] != '"':
                j += 2 if body[j] == "\\" else 1
            cur.append(body[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    args.append("".join(cur).strip())
    return args


def _c_string(arg, where):
    """The value of adjacent C string literals."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    if not parts or re.sub(r'"((?:[^"\\]|\\.)*)"', "", arg).strip():
        raise SystemExit("settings: %s: %r is not a string literal" % (where, arg))
    s = "".join(parts)

    def unescape(m):
        c = m.group(1)
        if c in '"\\':
            return c
        raise SystemExit("settings: %s: escape \\%s is not supported" % (where, c))
    return re.sub(r"\\(.)", unescape, s)


def _c_int(arg, where):
    """The value of an integer constant expression: decimal literals (with
    C's L/UL/LL suffixes), + - * and parentheses."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult):
            a, b = ev(node.left), ev(node.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]
        raise SystemExit("settings: %s: %r is not a plain integer expression" % (where, arg))
    # C integer suffixes (16L * 1024 * 1024 * 1024 stays out of int's range)
    py = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", arg)
    try:
        return ev(ast.parse(py, mode="eval"))
    except SyntaxError:
        raise SystemExit("settings: %s: %r is not a plain integer expression" % (where, arg))


def read_table(path=TABLE):
    text = _strip_comments(path.read_text(encoding="utf-8"))
    out = []
    for m in re.finditer(r"\bPL_SETTING_(STR|INT|SIZE)\s*\(", text):
        depth, i = 1, m.end()
        while depth:
            c = text[i]
            if c == '"':
                i += 1
                while text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            i += 1
        args = _split_args(text[m.end():i - 1])
        kind = m.group(1)
        where = "%s, entry %d" % (path.name, len(out) + 1)
        want = 4 if kind == "STR" else 6
        if len(args) != want:
            raise SystemExit("settings: %s: PL_SETTING_%s takes %d arguments, got %d"
                             % (where, kind, want, len(args)))
        key = _c_string(args[0], where)
        where = "%s, %s" % (path.name, key)
        if kind == "STR":
            s = Setting(kind, key, args[1], _c_string(args[2], where), None, None,
                        _c_string(args[3], where))
        else:
            s = Setting(kind, key, args[1], _c_int(args[2], where), _c_int(args[3], where),
                        _c_int(args[4], where), _c_string(args[5], where))
            if not s.lo <= s.default <= s.hi:
                raise SystemExit("settings: %s: default %d outside [%d, %d]"
                                 % (where, s.default, s.lo, s.hi))
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise SystemExit("settings: %s: a key is lower case letters, digits and _" % where)
        if any(o.key == key for o in out):
            raise SystemExit("settings: %s: listed twice" % where)
        if s.meaning.count("`") % 2:
            raise SystemExit("settings: %s: unbalanced ` in the meaning" % where)
        out.append(s)
    if not out:
        raise SystemExit("settings: no PL_SETTING_* entry in %s" % path)
    return out


# --- rendering ----------------------------------------------------------

def _md(text):
    return text.replace("|", "\\|")


def readme_region(settings):
    rows = ["| key | default | range | meaning |", "|---|---|---|---|"]
    for s in settings:
        if s.kind == "STR":
            default = "`%s`" % s.default if s.default else "(empty)"
            rng = "text"
        else:
            default, rng = str(s.default), "%d–%d" % (s.lo, s.hi)
        rows.append("| `%s` | %s | %s | %s |" % (s.key, _md(default), rng, _md(s.meaning)))
    return "\n".join(rows)


def _roff_escape(text, code):
    out = text.replace("\\", "\\e")
    if code:
        out = out.replace("-", "\\-")
    for ch, spelled in ROFF_CHARS.items():
        out = out.replace(ch, spelled)
    bad = sorted({c for c in out if ord(c) > 127})
    if bad:
        raise SystemExit("settings: non-ASCII %r has no roff spelling (settings.py ROFF_CHARS)"
                         % "".join(bad))
    return out


def _roff_text(meaning):
    parts = meaning.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append("\\fB\\%%%s\\fR" % _roff_escape(part, True))
        else:
            out.append(_roff_escape(part, False))
    return "".join(out)


def _roff_lines(text):
    lines = textwrap.wrap(text, width=76, break_long_words=False, break_on_hyphens=False)
    return ["\\&" + l if l[:1] in ".'" else l for l in lines]


def man_region(settings):
    out = []
    for s in settings:
        if s.kind == "STR":
            tail = ("Default: \\fB\\%%%s\\fR." % _roff_escape(s.default, True)
                    if s.default else "Default: empty.")
        else:
            tail = "Default: %d; from %d to %d." % (s.default, s.lo, s.hi)
        out += [".TP", ".B " + s.key]
        out += _roff_lines(_roff_text(s.meaning) + " " + tail)
    return "\n".join(out)


def replace_region(text, begin, end, body, name):
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i or text.count(begin) != 1 or text.count(end) != 1:
        raise SystemExit("settings: %s needs exactly one pair of markers:\n  %s\n  %s"
                         % (name, begin, end))
    return text[:i + len(begin)] + "\n" + body + "\n" + text[j:]


# --- parley.conf.example ------------------------------------------------

def example_problems(settings, path=EXAMPLE):
    known = {s.key: s for s in settings}
    problems = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.match(r"^(#?)([a-z_][a-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if not m:
            continue
        commented, key, value = m.groups()
        where = "%s:%d" % (path.name, n)
        if key not in known:
            problems.append("%s: unknown key %s" % (where, key))
        elif commented and known[key].kind != "STR" and value != str(known[key].default):
            # A commented-out number shows the default; a commented-out
            # string may be an example (#db_url = postgresql://...).
            problems.append("%s: #%s = %s, but the default is %d"
                            % (where, key, value, known[key].default))
    return problems


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    settings = read_table()
    targets = [(README, README_BEGIN, README_END, readme_region(settings)),
               (MANPAGE, MAN_BEGIN, MAN_END, man_region(settings))]
    drift = False
    for path, begin, end, body in targets:
        old = path.read_text(encoding="utf-8")
        new = replace_region(old, begin, end, body, path.name)
        if new == old:
            continue
        rel = str(path.relative_to(ROOT))
        if check:
            drift = True
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), "a/" + rel, "b/" + rel))
        else:
            path.write_text(new, encoding="utf-8")
            print("settings: rewrote the settings of %s" % rel)
    problems = example_problems(settings)
    for p in problems:
        print("settings: " + p)
    if check:
        if drift:
            print("settings: README.md or man/parley.conf.5 differs from lib/config_keys.h: "
                  "run make docs (scripts/settings.py)")
        if drift or problems:
            return 1
        print("settings: %d keys; README.md, man/parley.conf.5 and parley.conf.example "
              "agree with lib/config_keys.h" % len(settings))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

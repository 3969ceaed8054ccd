#!/usr/bin/python3
"""lint-container.py [ROOT] — the quick check of the container files (make
check; make check-container runs the image itself): in seconds, without
podman.

Containerfile: builds on debian:bookworm, runs on debian:bookworm-slim;
every file it copies from the tree exists and is not left out of the build
context by .dockerignore; a non-root USER, VOLUME /var/lib/parley, a
HEALTHCHECK on /api/health, EXPOSE, the ENTRYPOINT under tini; its
PARLEY_VERSION default is the release in VERSION and is the
org.opencontainers.image.version label; no secret in an ENV or ARG.
The entrypoint parses (bash -n), the container's lighttpd.conf names every
FastCGI program the tree builds, its parley.conf only known keys.
compose.yaml parses (python3-yaml): the default service builds this
Containerfile and mounts a volume on /var/lib/parley; the postgres profile
has a PostgreSQL service and two parley frontends with db_url and the token
key from secrets that the file declares; every PARLEY_* variable it sets is
a parley.conf key or one the entrypoint reads.
Prints what is wrong and exits 1, or one line and 0."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
errors = []


def err(msg):
    errors.append(msg)


def instructions(text):
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue
        cur += line.rstrip("\\").rstrip() + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def config_keys():
    text = (ROOT / "lib/config_keys.h").read_text()
    return set(re.findall(r'PL_SETTING_(?:STR|INT|SIZE)\("([a-z_]+)"', text))


def entrypoint_vars(text):
    return set(re.findall(r"\b(PARLEY_[A-Z_]+)\b", text))


def check_containerfile(keys):
    path = ROOT / "Containerfile"
    ins = instructions(path.read_text())
    version = (ROOT / "VERSION").read_text().strip()
    froms = [a.split() for i, a in ins if i == "FROM"]
    if [f[0] for f in froms] != ["debian:bookworm", "debian:bookworm-slim"]:
        err("Containerfile: FROM debian:bookworm (build) then debian:bookworm-slim, not %s" % froms)
    ignored = dockerignore()
    for i, a in ins:
        if i == "COPY" and "--from=" not in a:
            for src in a.split()[:-1]:
                if src.startswith("--"):
                    continue
                if src != "." and not (ROOT / src).exists():
                    err("Containerfile: COPY %s: no such file in the tree" % src)
                if any(src == p or src.startswith(p + "/") for p in ignored):
                    err("Containerfile: COPY %s, but .dockerignore leaves it out" % src)
    users = [a for i, a in ins if i == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        err("Containerfile: the last USER must not be root (%s)" % users)
    if not any(i == "VOLUME" and "/var/lib/parley" in a for i, a in ins):
        err("Containerfile: no VOLUME /var/lib/parley")
    if not any(i == "HEALTHCHECK" and "/api/health" in a for i, a in ins):
        err("Containerfile: no HEALTHCHECK on /api/health")
    if not any(i == "EXPOSE" for i, a in ins):
        err("Containerfile: no EXPOSE")
    ep = [a for i, a in ins if i == "ENTRYPOINT"]
    if not ep or "tini" not in ep[-1] or "parley-entrypoint" not in ep[-1]:
        err("Containerfile: ENTRYPOINT is not tini with parley-entrypoint: %s" % ep)
    defaults = [a for i, a in ins if i == "ARG" and a.startswith("PARLEY_VERSION=")]
    if defaults != ["PARLEY_VERSION=%s" % version]:
        err("Containerfile: ARG PARLEY_VERSION defaults to %s, VERSION is %s "
            "(scripts/version.sh --set %s)" % (defaults, version, version))
    if not any(i == "LABEL" and 'org.opencontainers.image.version="$PARLEY_VERSION"' in a
               for i, a in ins):
        err("Containerfile: no LABEL org.opencontainers.image.version=\"$PARLEY_VERSION\"")
    for i, a in ins:
        if i in ("ENV", "ARG") and re.search(r"(JWT_SECRET|DB_URL|PASSWORD)(=|\s)", a):
            err("Containerfile: a secret in %s %s (give it at run time)" % (i, a[:60]))


def dockerignore():
    path = ROOT / ".dockerignore"
    if not path.exists():
        err(".dockerignore missing (the build context would carry build/ and var/)")
        return []
    pats = [l.strip() for l in path.read_text().splitlines()
            if l.strip() and not l.startswith("#")]
    for must in ("build", "var", ".git"):
        if must not in pats:
            err(".dockerignore does not leave out %s" % must)
    return [p for p in pats if "*" not in p]


def check_helpers(keys):
    ep = ROOT / "contrib/container/entrypoint.sh"
    r = subprocess.run(["bash", "-n", str(ep)], capture_output=True, text=True)
    if r.returncode:
        err("contrib/container/entrypoint.sh does not parse: %s" % r.stderr.strip())
    conf = (ROOT / "contrib/container/lighttpd.conf").read_text()
    for app in sorted(p.stem for p in (ROOT / "fcgi-apps").glob("*.c")):
        if '"/parley-%s"' % app not in conf:
            err("contrib/container/lighttpd.conf: no fastcgi.server entry runs parley-%s" % app)
    for n, line in enumerate((ROOT / "contrib/container/parley.conf").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line and line.split("=", 1)[0].strip() not in keys:
            err("contrib/container/parley.conf:%d: unknown key %s" % (n, line))


def check_compose(keys, known_env):
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = data.get("services") or {}
    declared = set((data.get("secrets") or {}).keys())
    volumes = set((data.get("volumes") or {}).keys())
    parley = {n: s for n, s in services.items() if "build" in s}
    default = [n for n, s in parley.items() if not s.get("profiles")]
    if len(default) != 1:
        err("compose.yaml: one parley service without a profile (SQLite), not %s" % default)
    pg = [n for n, s in parley.items() if "postgres" in (s.get("profiles") or [])]
    if len(pg) != 2:
        err("compose.yaml: the postgres profile has two parley frontends, not %s" % pg)
    dbs = [n for n, s in services.items() if "postgres" in str(s.get("image", ""))]
    if not dbs or any("postgres" not in (services[n].get("profiles") or []) for n in dbs):
        err("compose.yaml: no PostgreSQL service in the postgres profile")
    for name, s in parley.items():
        b = s["build"]
        if not isinstance(b, dict) or b.get("context") != "." or b.get("dockerfile") != "Containerfile":
            err("compose.yaml: %s does not build ./Containerfile: %s" % (name, b))
        mounts = [v.split(":") for v in s.get("volumes", []) if isinstance(v, str)]
        if not any(m[1:2] == ["/var/lib/parley"] and m[0] in volumes for m in mounts):
            err("compose.yaml: %s mounts no declared volume on /var/lib/parley" % name)
        env = s.get("environment") or {}
        for var in env:
            if var.startswith("PARLEY_") and var[7:].lower() not in keys and var not in known_env:
                err("compose.yaml: %s sets %s, which nothing reads" % (name, var))
        for sec in s.get("secrets", []):
            sec = sec if isinstance(sec, str) else sec.get("source")
            if sec not in declared:
                err("compose.yaml: %s uses the undeclared secret %s" % (name, sec))
        for var in ("PARLEY_DB_URL_FILE", "PARLEY_JWT_SECRET_FILE"):
            if name in pg and not str(env.get(var, "")).startswith("/run/secrets/"):
                err("compose.yaml: %s takes no %s from a secret" % (name, var))
    for sec, spec in (data.get("secrets") or {}).items():
        if not str((spec or {}).get("file", "")).startswith("./secrets/"):
            err("compose.yaml: secret %s is not a file under ./secrets/ (.dockerignore leaves it out)" % sec)


def main():
    keys = config_keys()
    known_env = entrypoint_vars((ROOT / "contrib/container/entrypoint.sh").read_text())
    check_containerfile(keys)
    check_helpers(keys)
    check_compose(keys, known_env)
    for e in errors:
        print("lint-container: " + e, file=sys.stderr)
    if errors:
        return 1
    print("container files: Containerfile, entrypoint, lighttpd.conf, parley.conf and compose.yaml agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The release number comes from one place, the file VERSION: every
program's --version, parleyctl version and GET /api/health say it, and
scripts/version.sh --check fails when debian/changelog, CHANGELOG.md, the
Containerfile or a man page names another."""
import json
import os
import shutil
import subprocess

from conftest import REPO

VERSION = (REPO / "VERSION").read_text().strip()
BIN = REPO / "build/bin"


def test_every_program_answers_version():
    progs = sorted(BIN.glob("parley*"))
    assert len(progs) >= 3
    for p in progs:
        r = subprocess.run([str(p), "--version"], capture_output=True, text=True,
                           timeout=10, env={"PATH": "/usr/bin:/bin"})
        assert r.returncode == 0, (p, r.stderr)
        assert r.stdout == f"{p.name} (parley) {VERSION}\n", p


def test_version_flag_is_a_request_under_cgi(server):
    """A CGI server may pass a query without '=' as arguments: no version
    text then, the program serves the request (here: the health route)."""
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1",
           "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": "GET",
           "SCRIPT_NAME": "", "PATH_INFO": "/api/health",
           "REQUEST_URI": "/api/health?--version", "QUERY_STRING": "--version",
           "PARLEY_CONFIG": os.path.join(server.var, "parley.conf")}
    r = subprocess.run([str(BIN / "parley-auth"), "--version"], capture_output=True,
                       text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert "(parley)" not in r.stdout
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")   # text mode: CRLF read as LF
    assert "application/json" in head, r.stdout
    assert json.loads(body)["version"] == VERSION, r.stdout


def test_health_says_the_version(server, api):
    r = api.get("/api/health")
    assert r.status_code == 200
    assert r.json()["version"] == VERSION


def test_version_files_agree():
    r = subprocess.run([str(REPO / "scripts/version.sh"), "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert VERSION in r.stdout


def test_version_drift_fails(tmp_path):
    for f in ("VERSION", "CHANGELOG.md", "Containerfile"):
        shutil.copy(REPO / f, tmp_path / f)
    shutil.copytree(REPO / "debian", tmp_path / "debian")
    shutil.copytree(REPO / "man", tmp_path / "man")
    check = [str(REPO / "scripts/version.sh"), "--check", str(tmp_path)]
    assert subprocess.run(check, capture_output=True).returncode == 0
    (tmp_path / "VERSION").write_text("9.9.9\n")
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode != 0
    for name in ("debian/changelog", "CHANGELOG.md", "parleyctl.8", "Containerfile"):
        assert name in r.stderr, (name, r.stderr)

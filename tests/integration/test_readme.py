"""The README's walkthrough, run as a new user would run it (issue 20).

scripts/readme_blocks.py turns the README's marked ```sh blocks into one
bash script that checks every documented status (`# → 201`) and every
field shown after it. Here it runs against a fresh server started the way
`make run` starts one (scripts/serve.sh with PARLEY_DEV_MAIL=1: mails kept
in var/mail/), on free ports, from a directory whose var/ and build/ are
that server's data directory and this tree's build, as the README's
relative paths (var/mail/, build/bin/parleyctl, var/parley.conf) expect.
"""

import importlib.util
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

import pg_util
from conftest import REPO, start_server

_spec = importlib.util.spec_from_file_location("readme_blocks", REPO / "scripts/readme_blocks.py")
readme_blocks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_blocks)

README = (REPO / "README.md").read_text(encoding="utf-8")


def _run(script, cwd, timeout=120):
    return subprocess.run(["bash", "-c", script], cwd=str(cwd), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _tree(tmp_path, srv):
    """A directory laid out like the source tree for the README's paths."""
    work = tmp_path / "tree"
    work.mkdir()
    (work / "var").symlink_to(srv.var)
    (work / "build").symlink_to(REPO / "build")
    return work


def test_readme_walkthrough_on_a_fresh_server(tmp_path):
    with start_server(env_extra={"PARLEY_DEV_MAIL": "1"}) as srv:
        script = readme_blocks.script(README, base=srv.base, engine=pg_util.ENGINE)
        work = _tree(tmp_path, srv)
        r = _run(script, work)
        out = r.stdout + "\n--- stderr\n" + r.stderr
        assert r.returncode == 0, out + "\n" + srv.logs()
        m = re.search(r"^readme: (\d+) checks, 0 failed$", r.stdout, re.M)
        assert m, out
        # every section ran: about 60 documented statuses today
        assert int(m.group(1)) >= 55, out
        # the listener waited for bob's message, not for the first frame
        # (its frame, not the long poll's answer, which holds the same event)
        assert re.search(r'(?<!\[)\{"type":"message.created","event_id":\d+,"channel_id":\d+,'
                         r'"message":\{[^\n]*"content":"hi alice"', r.stdout), out
        # the verification mail went to var/mail/, owner-only
        mail = Path(srv.var) / "mail"
        assert stat.S_IMODE(mail.stat().st_mode) == 0o700
        assert any(p.name.endswith(".eml") for p in mail.iterdir())
        if pg_util.ENGINE == "sqlite":
            # "Operating it": the backup the README makes is the owner's only
            backups = list(Path(srv.var).glob("parley-*.db"))
            assert len(backups) == 1, backups
            assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
            assert "backup written to var/parley-" in r.stdout


def test_make_run_says_how_to_run_parleyctl(tmp_path):
    """The line serve.sh prints works as printed, from any directory."""
    with start_server(env_extra={"PARLEY_DEV_MAIL": "1"}) as srv:
        log = (Path(srv.var) / "serve.log").read_text()
        m = re.search(r"^parley: administer it with: (PARLEY_CONFIG=\S+ \S+ stats)", log, re.M)
        assert m, log
        assert "parley: verification mails are kept in %s/mail/, not sent" % srv.var in log
        r = _run(m.group(1), tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"^users 0$", r.stdout, re.M), r.stdout


def test_a_wrong_status_or_field_fails(tmp_path):
    """The checks bite: a status or a field the server does not give is
    reported with its README line, and the script fails."""
    doc = "\n".join([
        "<!-- readme-test -->", "```sh",
        "PARLEY=http://127.0.0.1:8080",
        "curl -s $PARLEY/api/health    # → 201",
        "curl -s $PARLEY/api/health",
        '# → 200 {"status":"ok","db":"broken"}',
        "curl -s $PARLEY/api/health    # → 200 {\"status\":\"ok\",...}",
        "```", ""])
    with start_server() as srv:
        r = _run(readme_blocks.script(doc, base=srv.base), tmp_path)
    assert r.returncode != 0
    assert "README.md:4: documented 201, got 200" in r.stderr, r.stderr
    assert "README.md:5: 200 as documented, but the answer has no \"db\":\"broken\"" in r.stderr, r.stderr
    assert "readme: 3 checks, 2 failed" in r.stdout


@pytest.mark.parametrize("doc, message", [
    ("```sh\ncurl -s $PARLEY/api/health\n```\n",
     "README.md:1: a ```sh block uses $PARLEY but has no <!-- readme-test --> marker"),
    ("<!-- readme-test -->\n```sh\nPARLEY=http://127.0.0.1:8080\ncurl -s $PARLEY/api/health\n```\n",
     "README.md:4: this curl command documents no status"),
    ("<!-- readme-test -->\n```sh\nPARLEY=http://127.0.0.1:8080\n"
     "curl -s http://127.0.0.1:8080/api/health  # → 200\n```\n",
     "README.md:4: use $PARLEY, not the address itself"),
    ("<!-- readme-test -->\n```sh\ncurl -s $PARLEY/api/health  # → 200\n```\n",
     "no run block sets PARLEY=http://127.0.0.1:8080"),
])
def test_the_extractor_refuses_untestable_blocks(doc, message):
    with pytest.raises(readme_blocks.ReadmeError) as e:
        readme_blocks.script(doc)
    assert message in str(e.value)


def test_the_readme_extracts():
    """The real README parses, and its walkthrough covers the sections the
    issue names (the real-time ones and deletion last)."""
    script = readme_blocks.script(README)
    order = [script.index(s) for s in (
        "/api/auth/register", "/api/auth/verify-email", "/api/channels/dm",
        "/api/messages/search", "/api/notifications/read", "/api/auth/ws-ticket",
        "message.created", "/api/events?since=", "-X DELETE $PARLEY/api/users/me")]
    assert order == sorted(order)
    assert script.count("__expect ") >= 55

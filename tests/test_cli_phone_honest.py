"""`spaprov phone … login USER` says "ok" only when the phone fetched the user's mobile profile:
no password, or a rule that never asks for the mobile profile, is a failure with the reason
(issue 12, item 5)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import Served, serve
from tests.helpers.mobility import make_site
from tests.helpers.site import free_port


def _served(site_dir: Path, tmp_path: Path, *, mobile_rule: bool) -> Iterator[Served]:
    port = free_port()
    site = make_site(site_dir, port)
    if not mobile_rule:  # a site whose rule has no mobile alternative at all
        toml = site / "site.toml"
        lines = toml.read_text().splitlines()
        lines = [
            f'profile_rule = \'("$PUID" ne "" and "$PPWD" ne "") ? [--uid $PUID$PDOM --pwd $PPWD] '
            f"http://127.0.0.1:{port}/hostphone.cfg | http://127.0.0.1:{port}/default.cfg'"
            if line.startswith("profile_rule = ")
            else line
            for line in lines
        ]
        toml.write_text("\n".join(lines) + "\n")
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    yield from serve("--profiles", str(site), "--state", state, port=port)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Served]:
    yield from _served(tmp_path / "site", tmp_path, mobile_rule=True)


@pytest.fixture
def no_mobile_rule(tmp_path: Path) -> Iterator[Served]:
    yield from _served(tmp_path / "site", tmp_path, mobile_rule=False)


def phone(url: str, *actions: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            *("-m", "spaprov", "phone", "--server", url, "--mac", "001122334455"),
            *("--host-user", "conf-room-1", "--password-stdin", *actions),
        ],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_login_without_a_password_fails_and_says_so(live: Served) -> None:
    done = phone(live.url, "login", "alice", stdin="host-secret\n\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "login alice: FAILED: no password given for alice" in done.stdout
    assert "login alice: ok" not in done.stdout
    assert "state mobile" not in done.stdout  # the phone stayed as it was


def test_login_whose_mobile_profile_is_never_fetched_fails(no_mobile_rule: Served) -> None:
    done = phone(no_mobile_rule.url, "login", "alice", stdin="host-secret\n1234\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "login alice: FAILED: the mobile profile was never fetched as alice" in done.stdout


def test_a_real_login_is_still_ok(live: Served) -> None:
    done = phone(live.url, "login", "alice", "logout", stdin="host-secret\n1234\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "login alice: ok" in done.stdout and "logout: ok" in done.stdout

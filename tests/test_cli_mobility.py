"""`spaprov phone`, `spaprov sessions` and `spaprov audit` against a live `spaprov serve`."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from spaprov.commands.cli_audit import operator
from spaprov.phone import SpaPhone, StepReport
from tests.helpers.cli import Served, serve
from tests.helpers.mobility import make_site
from tests.helpers.site import free_port


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Served, Path, str]]:
    port = free_port()
    site = make_site(tmp_path / "site", port)
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state, port=port):
        yield served, site, state


def spaprov(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", *args], capture_output=True, text=True, input=stdin, timeout=60
    )


def phone(url: str, *actions: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return spaprov(
        "phone",
        "--server",
        url,
        "--mac",
        "001122334455",
        "--model",
        "SPA525G2",
        "--host-user",
        "conf-room-1",
        "--password-stdin",
        *actions,
        stdin=stdin,
    )


def test_phone_login_prints_alices_line(live: tuple[Served, Path, str]) -> None:
    served, _, _ = live
    done = phone(served.url, "login", "alice", stdin="host-secret\n1234\n")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "phone Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"
    assert "boot: ok" in lines and "login alice: ok" in lines
    assert '  state mobile, line 1 2001 "Alice Example", station "Conference Room 1"' in lines
    assert not re.search(r"\b1234\b", done.stdout) and "host-secret" not in done.stdout


def test_failed_login_exits_1_and_says_why(live: tuple[Served, Path, str]) -> None:
    served, _, _ = live
    done = phone(served.url, "login", "alice", stdin="host-secret\nwrong\n")
    assert done.returncode == 1
    assert "login alice: FAILED: 401: Unauthorized" in done.stdout


@pytest.mark.slow
def test_sessions_list_forced_logout_and_audit(live: tuple[Served, Path, str]) -> None:
    served, _, state = live
    assert phone(served.url, "login", "bob", stdin="host-secret\n5678\n").returncode == 0
    listing = spaprov("sessions", "list", "--state", state)
    assert listing.returncode == 0
    rows = listing.stdout.splitlines()
    assert rows[0].startswith("USER") and rows[1].split()[:2] == ["bob", "001122334455"]
    forced = spaprov("sessions", "logout", "00:11:22:33:44:55", "--state", state)
    assert forced.returncode == 0 and forced.stdout.strip() == "logged out bob on 001122334455"
    assert spaprov("sessions", "list", "--state", state).stdout.splitlines()[1:] == []
    again = spaprov("sessions", "logout", "bob", "--state", state)
    assert again.returncode == 1 and "no active session" in again.stderr
    audit = spaprov("audit", "--user", "bob", "--since", "1h", "--state", state)
    events = [line.split()[2] for line in audit.stdout.splitlines()]
    assert events == ["forced_logout", "login"]  # newest first
    forced_row = audit.stdout.splitlines()[0]  # who ended it (item 16): the account, from here
    assert "client=local" in forced_row and forced_row.endswith(f"by {operator()} (command line)")
    bad = spaprov("audit", "--since", "yesterday-ish", "--state", state)
    assert bad.returncode == 1 and "use an ISO date/time" in bad.stderr


def test_forced_logout_sends_the_phone_back_to_host(live: tuple[Served, Path, str]) -> None:
    served, _, state = live

    async def scenario() -> StepReport:
        phone = SpaPhone.of_model("001122334455", "SPA525G2", f"{served.url}/default.cfg")
        phone.set_host_credentials("conf-room-1", "host-secret")
        await phone.boot()
        assert (await phone.login("alice", "1234")).ok
        # The administrator forces the logout while the phone still believes alice is logged in.
        forced = await asyncio.to_thread(spaprov, "sessions", "logout", "alice", "--state", state)
        assert forced.returncode == 0
        return await phone.resync()

    report = asyncio.run(scenario())
    names = [f.url.rsplit("/", 1)[1].split("?")[0] for f in report.fetches]
    assert names == ["mobilephone.cfg", "hostphone.cfg", "hostphone.cfg"]  # the last after its reboot
    assert (report.login_state, report.line_1) == ("host", "1000")


def test_phone_usage_errors() -> None:
    done = spaprov("phone", "--server", "http://127.0.0.1:9", "--mac", "001122334455", "dance")
    assert done.returncode == 2 and "unknown action 'dance'" in done.stderr
    done = spaprov("phone", "--server", "http://127.0.0.1:9", "--mac", "001122334455", "login")
    assert done.returncode == 2 and "login needs a user id" in done.stderr


def test_phone_reports_an_unreachable_server() -> None:
    done = spaprov("phone", "--server", f"http://127.0.0.1:{free_port()}", "--mac", "001122334455")
    assert done.returncode == 1
    assert "boot: FAILED: ClientConnectorError" in done.stdout

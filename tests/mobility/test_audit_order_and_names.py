"""The audit log names a user one way and answers newest first (issue 12, item 7): a failed
Digest login is recorded under the same user id as the login (`audit --user alice` finds both),
unknown names stay as sent, and `--limit N` is the newest N, in the CLI and the API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from spaprov.mobility import SqliteStateStore, open_state
from tests.helpers.mobility import Starter


def test_the_limit_is_the_newest_entries_newest_first(state_url: str) -> None:
    store = open_state(state_url)
    with store.transaction() as tx:
        for n in range(1, 6):
            tx.audit(float(n), "login", user_id=f"user{n}")
    with store.transaction(write=False) as tx:
        assert [e.user_id for e in tx.audit_entries(limit=3)] == ["user5", "user4", "user3"]
        assert [e.user_id for e in tx.audit_entries(limit=3, oldest_first=True)] == [
            "user3",
            "user4",
            "user5",
        ]
    store.close()


def test_cli_audit_limit_prints_the_newest(tmp_path: Path) -> None:
    store = SqliteStateStore(str(tmp_path / "state.sqlite3"))
    with store.transaction() as tx:
        for n in range(1, 6):
            tx.audit(float(n) * 60, "login", user_id=f"user{n}")
    store.close()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "spaprov",
            "audit",
            "--limit",
            "2",
            "--state",
            f"sqlite:///{tmp_path}/state.sqlite3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[3] for line in done.stdout.splitlines()] == ["user=user5", "user=user4"]


async def test_a_failed_login_is_recorded_under_the_users_id(live: Starter) -> None:
    server = await live()
    phone = server.phone()
    await phone.boot()
    assert not (await phone.login("alice", "0000")).ok
    assert (await phone.login("alice", "1234")).ok
    assert not (await phone.login("nobody", "0000")).ok
    await server.mobility.drain()
    with server.mobility.store.transaction(write=False) as tx:
        alices = [e.event for e in tx.audit_entries(user_id="alice")]
        strangers = [
            e.user_id for e in tx.audit_entries() if e.event == "failed_auth" and e.user_id != "alice"
        ]
    assert sorted(alices) == ["failed_auth", "login"]  # both found by the one name
    assert strangers == ["nobody@example.com"]  # not a user of this site: kept as sent

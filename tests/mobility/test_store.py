"""The SQLite state store: migrations, durability, a kill mid-write."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spaprov.mobility import SqliteStateStore, StateStoreError, open_state
from spaprov.mobility.store import SCHEMA_VERSION


def test_fresh_store_is_migrated_and_reopens(state_url: str) -> None:
    store = open_state(state_url)
    assert store.schema_version == SCHEMA_VERSION
    with store.transaction() as tx:
        session = tx.start_session("alice", "001122334455", 100.0)
        tx.audit(100.0, "login", user_id="alice", device="001122334455")
        tx.end_session(session, 200.0, "forced_logout", tell_phone=True)
    store.close()
    again = open_state(state_url)
    with again.transaction(write=False) as tx:
        assert [s.id for s in tx.sessions(active_only=False)] == [session.id]
        assert tx.unacknowledged_end("alice", "001122334455") is not None
        assert [e.event for e in tx.audit_entries()] == ["login"]
    assert again.schema_version == SCHEMA_VERSION
    again.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    SqliteStateStore(path).close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(state_url: str) -> None:
    store = open_state(state_url)
    with store.transaction() as tx:
        tx._db.execute("INSERT INTO schema_version (version) VALUES (99)")
    store.close()
    with pytest.raises(StateStoreError, match="schema version 99"):
        open_state(state_url)


def test_a_failed_transaction_leaves_nothing(state_url: str) -> None:
    store = open_state(state_url)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.start_session("alice", "d", 1.0)
        raise RuntimeError("boom")
    with store.transaction(write=False) as tx:
        assert tx.sessions(active_only=False) == []
    store.close()


def test_postgres_url_password_never_shows(state_url: str) -> None:
    if not state_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    bad = state_url.replace("@", "x@", 1)  # a wrong password
    with pytest.raises(StateStoreError) as raised:
        open_state(bad)
    assert ":***@" in str(raised.value) and bad.split("@")[0].rsplit(":", 1)[1] not in str(raised.value)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateStoreError, match="cannot open the state database"):
        SqliteStateStore(path)
    with pytest.raises(StateStoreError, match="unsupported state URL"):
        open_state("redis://x")


WRITER = """
import sys
from spaprov.mobility import SqliteStateStore
store = SqliteStateStore(sys.argv[1])
n = 0
while True:
    n += 1
    with store.transaction() as tx:
        tx.audit(float(n), "login", user_id=f"user{n}")
    print(n, flush=True)
"""


def test_killed_mid_write_loses_no_committed_record(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    committed = 0
    deadline = time.monotonic() + 30
    while committed < 200 and time.monotonic() < deadline:
        committed = int(writer.stdout.readline())
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    assert committed >= 200
    database = sqlite3.connect(path)
    assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row[0] for row in database.execute("SELECT user_id FROM audit")}
    assert {f"user{n}" for n in range(1, committed + 1)} <= stored


def test_audit_entries_filter_by_event_user_and_device(state_url: str) -> None:
    store = open_state(state_url)
    with store.transaction() as tx:
        tx.audit(1.0, "login", user_id="alice", device="001122334455")
        tx.audit(2.0, "failed_auth", user_id="alice", device="001122334455")
        tx.audit(3.0, "login", user_id="bob", device="00aabbccddee")
        tx.audit(4.0, "lockout", user_id="bob", device="001122334455")
    with store.transaction(write=False) as tx:
        assert [e.at for e in tx.audit_entries(event="login")] == [3.0, 1.0]
        assert [e.at for e in tx.audit_entries(device="001122334455")] == [4.0, 2.0, 1.0]
        assert [e.at for e in tx.audit_entries(event="login", user_id="bob", device="00aabbccddee")] == [3.0]
        assert tx.audit_entries(event="login", device="001122334455", since=2.0) == []
        assert tx.audit_counts(since=0.0) == {"login": 2, "failed_auth": 1, "lockout": 1}
        assert tx.audit_counts(since=2.5) == {"login": 1, "lockout": 1}
    store.close()

"""The state store goes away and comes back under a running `spaprov serve` (issue 15, item 6).

PostgreSQL: Debian's cluster is really stopped (`pg_ctlcluster VERSION main stop`) for a few
seconds and started again, always in a `finally`: every other test on this machine uses it.
While it is down a phone's mobile and host fetches get 503 with Retry-After (never 500),
/default.cfg still works, /healthz says the store is unavailable, and the log has one line for
the outage, not one per request; once it is back the same fetches get 200 within seconds, with
no restart, and the log says once that it recovered.

SQLite: the state database lives on a small tmpfs that is then filled up (a full disk; as root a
read-only file mode would not stop anything): writes get 503, the log says why once, no
traceback, and freeing the space is enough to recover.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from spaprov.auth import shared_state
from spaprov.auth.shared_state import SharedAuth, SqliteSharedAuthStore
from spaprov.clock import ManualClock
from spaprov.mobility.audit_writer import AuditWriter
from spaprov.mobility.store import StateStoreUnavailable, open_state
from tests.helpers.auth import ADMIN_NAME, ADMIN_PASSWORD, HOST_PASSWORD, HOST_USER, set_admin
from tests.helpers.postgres import private_schema
from tests.helpers.site import ROOT, SPA_AGENT, copy_sample, free_port

POSTGRES = os.environ.get("SPAPROV_TEST_POSTGRES", "")
IN_CI = os.environ.get("CI") == "true"
HEADERS = {"User-Agent": SPA_AGENT}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


class Server:
    """`spaprov serve` as a subprocess whose log goes to a file (a pipe could fill up)."""

    def __init__(self, site: Path, state: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("w")
        command = ["serve", "--port", str(self.port), "--profiles", str(site), "--state", state]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spaprov", *command],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                assert self.process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)

    def text(self) -> str:
        return self.log.read_text()

    def lines(self, needle: str) -> list[str]:
        return [line for line in self.text().splitlines() if needle in line]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


def phone(server: Server, user: str, password: str) -> httpx.Client:
    """A phone's HTTP client: Digest, and the nonce reused with a growing nc (a resync)."""
    return httpx.Client(
        base_url=server.url, headers=HEADERS, auth=httpx.DigestAuth(user, password), timeout=15
    )


def health(server: Server) -> dict[str, object]:
    answer = httpx.get(f"{server.url}/healthz", timeout=15)
    assert answer.status_code == 200
    result: dict[str, object] = json.loads(answer.text)
    return result


def metrics(server: Server) -> str:
    answer = httpx.get(f"{server.url}/metrics", auth=(ADMIN_NAME, ADMIN_PASSWORD), timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.text


def assert_503(answer: httpx.Response) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text)
    assert int(answer.headers["Retry-After"]) > 0


# -- PostgreSQL --------------------------------------------------------------------------------------
def _pg_cluster() -> tuple[str, str]:
    if not POSTGRES:
        _unavailable("set SPAPROV_TEST_POSTGRES=postgresql://… (a local Debian cluster) for the outage test")
    if shutil.which("pg_ctlcluster") is None or not Path("/usr/lib/postgresql").is_dir():
        _unavailable("pg_ctlcluster is not installed: cannot stop and start PostgreSQL")
    versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name.split(".")[0]))
    if not versions or os.geteuid() != 0:
        _unavailable("stopping PostgreSQL needs root and a Debian cluster")
    return versions[-1].name, "main"


def _pg_ctl(version: str, cluster: str, action: str) -> None:
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(["pg_ctlcluster", version, cluster, action, *extra], check=True, timeout=60)


def _wait_for_postgres(deadline: float = 60.0) -> None:
    import psycopg

    end = time.monotonic() + deadline
    while True:
        try:
            psycopg.connect(POSTGRES, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_outage_503_then_recovery_without_restart(tmp_path: Path) -> None:
    version, cluster = _pg_cluster()
    with private_schema(POSTGRES, before_drop=_wait_for_postgres) as url:
        server = Server(copy_sample(tmp_path / "site"), url, tmp_path / "serve.log")
        try:
            _outage_and_recovery(server, version, cluster)
        finally:
            server.stop()
            if _cluster_down(version, cluster):  # whatever happened: the machine needs it back
                _pg_ctl(version, cluster, "start")


def _outage_and_recovery(server: Server, version: str, cluster: str) -> None:
    with (
        phone(server, "alice@example.com", "1234") as mobile,
        phone(server, HOST_USER, HOST_PASSWORD) as host,
    ):
        assert host.get("/hostphone.cfg").status_code == 200
        assert mobile.get("/mobilephone.cfg").status_code == 200  # login
        assert mobile.get("/mobilephone.cfg").status_code == 200  # resync
        assert health(server)["store"] == "ok"

        _pg_ctl(version, cluster, "stop")
        try:  # a few seconds only
            for _ in range(15):
                assert_503(mobile.get("/mobilephone.cfg"))
                assert_503(host.get("/hostphone.cfg"))
            default = httpx.get(f"{server.url}/default.cfg", headers=HEADERS, timeout=15)
            assert default.status_code == 200
            report = health(server)
            assert report["store"] == "unavailable" and report["status"] == "degraded"
            assert "spaprov_state_store_up 0" in metrics(server)  # /metrics answers during an outage
        finally:
            _pg_ctl(version, cluster, "start")
        _wait_for_postgres()

        deadline = time.monotonic() + 20
        while True:
            answer = mobile.get("/mobilephone.cfg")
            if answer.status_code == 200:
                break
            assert_503(answer)
            assert time.monotonic() < deadline, "no recovery within 20 s of PostgreSQL's start"
            time.sleep(0.25)
        assert host.get("/hostphone.cfg").status_code == 200
        report = health(server)
        assert report["store"] == "ok" and report["status"] == "ok"
    log = server.text()
    assert len(server.lines("state store unavailable")) == 1, log[-3000:]
    assert len(server.lines("state store recovered")) == 1, log[-3000:]
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]


def _cluster_down(version: str, cluster: str) -> bool:
    done = subprocess.run(["pg_ctlcluster", version, cluster, "status"], capture_output=True, timeout=30)
    return done.returncode != 0


# -- SQLite on a full disk ---------------------------------------------------------------------------
@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk is simulated with a small tmpfs: needs root and mount")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here to fill it up: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_serve_on_a_read_only_disk_says_so(tmp_path: Path) -> None:
    """An existing state database on a file system remounted read-only: SQLite says only "unable
    to open database file"; serve names the read-only file system, exits 1, no traceback."""
    with small_tmpfs(tmp_path / "disk") as disk:
        state = f"sqlite:///{disk / 'state.sqlite3'}"
        open_state(state).close()  # created while the disk was writable
        remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, timeout=30)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount the tmpfs read-only: {remount.stderr.decode().strip()}")
        site = copy_sample(tmp_path / "site")
        command = ["serve", "--profiles", str(site), "--state", state, "--port", str(free_port())]
        done = subprocess.run(
            [sys.executable, "-m", "spaprov", *command],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the file system is read-only" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_sqlite_full_disk_503_then_recovery(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk") as disk:
        site = copy_sample(tmp_path / "site")
        set_admin(site)
        server = Server(site, f"sqlite:///{disk / 'state.sqlite3'}", tmp_path / "log")
        try:
            with (
                phone(server, "alice@example.com", "1234") as mobile,
                phone(server, HOST_USER, HOST_PASSWORD) as host,
            ):
                assert mobile.get("/mobilephone.cfg").status_code == 200  # alice logs in
                filler = fill(disk)
                for _ in range(10):  # the host fetch must log alice out: a write
                    assert_503(host.get("/hostphone.cfg"))
                assert health(server)["store"] == "unavailable"
                assert httpx.get(f"{server.url}/default.cfg", headers=HEADERS).status_code == 200
                assert "spaprov_state_store_up 0" in metrics(server)  # reads still work on a full disk
                filler.unlink()
                assert host.get("/hostphone.cfg").status_code == 200
                assert health(server)["store"] == "ok"
                text = metrics(server)
                assert "spaprov_state_store_up 1" in text and "spaprov_state_store_outages_total 1" in text
            log = server.text()
            lines = server.lines("state store unavailable")
            assert len(lines) == 1 and "full" in lines[0], log[-3000:]
            assert len(server.lines("state store recovered")) == 1, log[-3000:]
            assert "Traceback" not in log, log[-3000:]
        finally:
            server.stop()


def test_sqlite_full_disk_is_one_outage_while_writes_that_change_nothing_commit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """On a full disk a write transaction that changes no row (a host fetch with nobody to log
    out) still commits; that says nothing about the disk.  Counted as a recovery, every such
    fetch between two failing logins logged "recovered" then "unavailable" again: two log lines
    a request (175 lines in 8 s under `serve --workers 2`)."""
    with small_tmpfs(tmp_path / "disk") as disk:
        store = open_state(f"sqlite:///{disk / 'state.sqlite3'}")
        try:
            with store.transaction() as tx:
                tx.audit(1.0, "before")
            filler = fill(disk)
            for attempt in range(5):
                with pytest.raises(StateStoreUnavailable), store.transaction() as tx:
                    for row in range(200):  # more than the WAL's slack: the disk is full
                        tx.audit(2.0, "probe", detail=f"{attempt}-{row}" * 50)
                with store.transaction() as tx:  # nothing written: commits even on a full disk
                    tx.active_count()
                assert not store.health.available, attempt
            filler.unlink()
            with store.transaction() as tx:
                tx.audit(3.0, "after")
            assert store.health.available and store.health.outages == 1
        finally:
            store.close()
    messages = [record.getMessage() for record in caplog.records]
    assert sum("state store unavailable" in m for m in messages) == 1, messages
    assert sum("state store recovered" in m for m in messages) == 1, messages


# -- the audit writer across a short outage ----------------------------------------------------------
class FlakyStore:
    """Stands in for a StateStore whose server is down until `down` is cleared."""

    def __init__(self) -> None:
        self.down = True
        self.rows: list[object] = []

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[FlakyStore]:
        if self.down:
            raise StateStoreUnavailable("state store: no connection to the database server")
        yield self

    def audit_many(self, rows: list[object]) -> None:
        self.rows.extend(rows)


def test_audit_rows_survive_a_short_outage_within_their_bound(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    writer = AuditWriter(store, ManualClock(), capacity=5, flush_interval=3600)  # type: ignore[arg-type]
    try:
        for number in range(3):
            writer.submit("password_changed", f"user{number}", None, "10.0.0.1")
        writer.flush()
        assert writer.pending == 3 and writer.dropped == 0  # kept, not dropped
        for number in range(3, 6):
            writer.submit("password_changed", f"user{number}", None, "10.0.0.1")
        writer.flush()  # 6 rows for a bound of 5: the last one is dropped, and counted
        assert writer.pending == 5 and writer.dropped == 1
        store.down = False
        writer.flush()
        written = [row.user_id for row in store.rows]  # type: ignore[attr-defined]
        assert written[:5] == [f"user{n}" for n in range(5)] and writer.pending == 0
        note = store.rows[-1]
        assert note.event == "audit_dropped" and note.detail.startswith("1 ")  # type: ignore[attr-defined]
        assert "Traceback" not in caplog.text and "cannot write" not in caplog.text
    finally:
        store.down = False
        writer.close()


# -- the shared replay/lockout store across an outage -----------------------------------------------
class BreakableAuthStore(SqliteSharedAuthStore):
    down = False  # while set, opening fails and every statement fails like a lost disk

    def __init__(self, path: Path) -> None:
        if BreakableAuthStore.down:
            raise OSError("cannot open the shared auth tables: unreachable")
        super().__init__(path)

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        if BreakableAuthStore.down:
            raise sqlite3.OperationalError("disk I/O error")
        return super()._execute(sql, parameters)


async def test_shared_auth_store_503_then_reconnects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shared_state, "REOPEN_INTERVAL", 0.05)
    monkeypatch.setattr(BreakableAuthStore, "down", False)
    auth = SharedAuth(lambda: BreakableAuthStore(tmp_path / "auth.sqlite3"), ManualClock())
    try:
        assert await auth.claim("n1", 0.0, "u", "c") is True
        BreakableAuthStore.down = True
        for number in range(20):  # never admitted: 503 for the phone (it retries), not a stale loop
            with pytest.raises(StateStoreUnavailable):
                await auth.claim(f"down-{number}", 0.0, "u", "c")
        assert await auth.lockouts() == []
        BreakableAuthStore.down = False
        await asyncio.sleep(0.1)
        assert await auth.claim("n2", 0.0, "u", "c") is True  # reopened by itself
        unavailable = [r for r in caplog.records if "shared auth store unavailable" in r.getMessage()]
        recovered = [r for r in caplog.records if "shared auth store recovered" in r.getMessage()]
        assert len(unavailable) == 1 and len(recovered) == 1, caplog.text
        assert auth.health.outages == 1 and auth.health.available
    finally:
        BreakableAuthStore.down = False
        auth.close()


# -- a dropped PostgreSQL connection (no server stop needed) ----------------------------------------
def test_postgres_connection_killed_reconnects_by_itself(
    state_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server ends the store's connection (as a restart or a failover does): the next
    transaction is StateStoreUnavailable, not a psycopg error, and the pool reconnects alone."""
    if not state_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite has no connection to lose)")
    import psycopg

    store = open_state(state_url)
    try:
        with store.transaction(write=False) as tx:
            pid = tx._db.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StateStoreUnavailable), store.transaction() as tx:
            tx.active_count()
        deadline = time.monotonic() + 15
        while True:
            try:
                with store.transaction() as tx:
                    tx.audit(1.0, "probe")
                break
            except StateStoreUnavailable:
                assert time.monotonic() < deadline, "the pool did not reconnect within 15 s"
                time.sleep(0.1)
        assert store.probe() and store.health.available and store.health.outages == 1
        messages = [record.getMessage() for record in caplog.records]
        assert sum("state store unavailable" in m for m in messages) == 1, messages
        assert sum("state store recovered" in m for m in messages) == 1, messages
    finally:
        store.close()

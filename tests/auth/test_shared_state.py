"""The shared auth store (spaprov.auth.shared_state) on SQLite and PostgreSQL, and two
authenticators sharing it as two workers would (in one process: no server needed)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spaprov.auth import CredentialStore, DigestAuthenticator, Verdict, shared_state
from spaprov.auth.shared_state import (
    SharedAuth,
    SharedAuthStore,
    SqliteSharedAuthStore,
    shared_store_factory,
    sharing_needed,
)
from spaprov.clock import ManualClock
from spaprov.store_health import StoreHealth
from tests.helpers.digest_client import authorization, parse_challenge

REALM, USER, PASSWORD, URI = "shared", "desk-1@example.com", "secret", "/hostphone.cfg"


@pytest.fixture
def open_store(state_url: str) -> Iterator[Callable[[], SharedAuthStore]]:
    factory = shared_store_factory(state_url)
    assert factory is not None
    opened: list[SharedAuthStore] = []

    def make() -> SharedAuthStore:
        opened.append(factory())
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def test_a_nonce_belongs_to_the_first_claimer(open_store: Callable[[], SharedAuthStore]) -> None:
    first, second = open_store(), open_store()
    assert first.claim("n1", "worker-a", 1000.0) is True
    assert second.claim("n1", "worker-b", 1000.0) is False
    assert first.claim("n1", "worker-a", 1000.0) is True  # still its own
    assert second.claim("n2", "worker-b", 1000.0) is True


def test_failures_add_up_across_connections_and_lock(open_store: Callable[[], SharedAuthStore]) -> None:
    first, second = open_store(), open_store()
    key = (USER, "10.0.0.1")
    assert first.count_failures({key: 2}, now=100.0, window=300.0, max_failures=5, lockout=60.0) == {
        key: (2, None)
    }
    assert second.count_failures({key: 2}, now=101.0, window=300.0, max_failures=5, lockout=60.0) == {
        key: (4, None)
    }
    assert first.count_failures({key: 1}, now=102.0, window=300.0, max_failures=5, lockout=60.0) == {
        key: (5, 162.0)
    }
    # Another connection learns of the lockout on its next failure, before the poll; a failure
    # counted during a lockout is past max_failures (answered as locked out, not as checked).
    assert second.count_failures({key: 1}, now=103.0, window=300.0, max_failures=5, lockout=60.0) == {
        key: (6, 162.0)
    }
    assert second.active_lockouts(110.0) == [(USER, "10.0.0.1", 162.0)]
    assert second.active_lockouts(170.0) == []
    # After the lockout, counting starts again; failures older than the window are forgotten.
    other = (USER, "10.0.0.2")
    assert first.count_failures({other: 4}, now=200.0, window=300.0, max_failures=5, lockout=60.0) == {
        other: (4, None)
    }
    assert first.count_failures({other: 1}, now=600.0, window=300.0, max_failures=5, lockout=60.0) == {
        other: (1, None)
    }


def test_a_batch_counts_each_pair_on_its_own(open_store: Callable[[], SharedAuthStore]) -> None:
    """A flood arrives in batches of many pairs: each gets its own count and lockout (PostgreSQL
    counts a batch in one statement, SQLite pair by pair: both must agree)."""
    store = open_store()
    locked, nearly, fresh = (USER, "10.0.0.1"), (USER, "10.0.0.2"), ("made-up", "10.0.0.3")
    store.count_failures({locked: 5, nearly: 3}, now=100.0, window=300.0, max_failures=5, lockout=60.0)
    batch = {locked: 2, nearly: 2, fresh: 1} | {(f"x{n}", "10.0.0.9"): 1 for n in range(300)}
    counted = store.count_failures(batch, now=101.0, window=300.0, max_failures=5, lockout=60.0)
    assert counted[locked] == (7, 160.0)  # past the limit: locked since the first batch
    assert counted[nearly] == (5, 161.0)
    assert counted[fresh] == (1, None)
    assert len(counted) == 303 and all(counted[(f"x{n}", "10.0.0.9")] == (1, None) for n in range(300))
    assert sorted(store.active_lockouts(101.0)) == [(USER, "10.0.0.1", 160.0), (USER, "10.0.0.2", 161.0)]


def test_expire_removes_what_is_over(open_store: Callable[[], SharedAuthStore]) -> None:
    store = open_store()
    store.claim("old", "a", 50.0)
    store.claim("live", "a", 500.0)
    store.count_failures({("u", "c"): 5}, now=10.0, window=300.0, max_failures=5, lockout=60.0)
    store.expire(100.0, window=300.0)
    assert store.active_lockouts(0.0) == []
    assert store.claim("old", "b", 500.0) is True  # its claim was deleted
    assert store.claim("live", "b", 500.0) is False


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    factory = shared_store_factory(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    assert factory is not None
    store = factory()
    try:
        assert isinstance(store, SqliteSharedAuthStore) and store.path.name == ".state-auth.sqlite3"
        store.claim("n", "a", 1.0)
        for path in tmp_path.glob(".state-auth.sqlite3*"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        store.close()


def test_sharing_is_only_switched_on_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPAPROV_SHARED_AUTH", raising=False)
    assert not sharing_needed("sqlite:///x.sqlite3")
    assert sharing_needed("postgresql://h/db")
    monkeypatch.setenv("SPAPROV_SHARED_AUTH", "1")
    assert sharing_needed("sqlite:///x.sqlite3")
    assert shared_store_factory("sqlite:///:memory:") is None


# -- two authenticators sharing one store, as two workers do -------------------------------------
class Worker:
    def __init__(
        self, directory: Path, open_store: Callable[[], SharedAuthStore], clock: ManualClock
    ) -> None:
        store = CredentialStore(directory / "credentials.htdigest", REALM)
        self.shared = SharedAuth(open_store, clock)
        self.auth = DigestAuthenticator(REALM, store, b"k" * 32, clock=clock, max_failures=5)
        self.auth.attach_shared(self.shared)

    async def send(self, header: str) -> Verdict:
        result = self.auth.authenticate("GET", URI, header, "10.0.0.9")
        if result.verdict is Verdict.CLAIM:
            result = await self.auth.settle_claim(result, "10.0.0.9")
        elif result.pending is not None:
            result = await self.auth.settle_failure(result.pending) or result
        return result.verdict

    def header(self, password: str = PASSWORD) -> str:
        challenge = parse_challenge(self.auth.challenges(algorithms=("MD5",))[0])
        return authorization(challenge, USER, password, uri=URI)


@pytest.fixture
def workers(tmp_path: Path, open_store: Callable[[], SharedAuthStore]) -> Iterator[tuple[Worker, Worker]]:
    CredentialStore(tmp_path / "credentials.htdigest", REALM).set_password(USER, PASSWORD)
    clock = ManualClock(1_000_000.0)
    pair = Worker(tmp_path, open_store, clock), Worker(tmp_path, open_store, clock)
    yield pair
    for worker in pair:
        worker.shared.close()


async def test_a_header_replayed_to_the_other_worker_is_stale(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    header = a.header()
    assert await a.send(header) is Verdict.OK
    assert await b.send(header) is Verdict.CHALLENGE  # another worker owns the nonce: stale
    claims = b.shared.claims
    assert await b.send(header) is Verdict.CHALLENGE  # and b now knows without asking the store
    assert b.shared.claims == claims
    assert await b.send(b.header()) is Verdict.OK  # not counted as failures: b still serves


async def test_guesses_over_two_workers_share_one_count(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    verdicts = [await (a if i % 2 else b).send(a.header("wrong")) for i in range(5)]
    assert verdicts == [Verdict.CHALLENGE] * 5  # 2 on a, 3 on b: b counted the 5th and locked
    assert await b.send(b.header()) is Verdict.LOCKED
    # a has not polled the lockouts yet: its next guess is counted past max_failures and
    # refused as locked out, and so is a right password (its nonce claim sees the lockout).
    assert await a.send(a.header()) is Verdict.LOCKED
    assert await a.send(a.header("wrong")) is Verdict.LOCKED
    assert await a.send(a.header()) is Verdict.LOCKED


async def test_the_poll_brings_lockouts_to_every_worker(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    for _ in range(5):
        assert await b.send(b.header("wrong")) is Verdict.CHALLENGE
    a.auth.apply_lockouts(await a.shared.lockouts())
    assert await a.send(a.header()) is Verdict.LOCKED


async def test_a_full_failure_queue_fails_closed(tmp_path: Path) -> None:
    CredentialStore(tmp_path / "credentials.htdigest", REALM).set_password(USER, PASSWORD)
    release = threading.Event()

    class Stuck(SqliteSharedAuthStore):
        def count_failures(
            self, *args: object, **kwargs: object
        ) -> dict[tuple[str, str], tuple[int, float | None]]:
            release.wait(10)
            return super().count_failures(*args, **kwargs)  # type: ignore[arg-type]

    clock = ManualClock(1_000_000.0)
    shared = SharedAuth(lambda: Stuck(tmp_path / "auth.sqlite3"), clock, queue_size=1)
    auth = DigestAuthenticator(
        REALM, CredentialStore(tmp_path / "credentials.htdigest", REALM), b"k" * 32, clock=clock
    )
    auth.attach_shared(shared)
    try:
        header = authorization(parse_challenge(auth.challenges()[0]), USER, "wrong", uri=URI)
        assert auth.authenticate("GET", URI, header, "10.0.0.1").pending is not None  # being counted
        await asyncio.sleep(0.2)
        assert auth.authenticate("GET", URI, header, "10.0.0.2").pending is not None  # queued
        assert auth.throttle.retry_after(USER, "10.0.0.99") is None
        # the queue is full: this failure cannot be shared, so the pair is locked here
        assert auth.authenticate("GET", URI, header, "10.0.0.99").pending is None
        assert shared.dropped == 1
        assert auth.throttle.retry_after(USER, "10.0.0.99") is not None
    finally:
        release.set()
        await asyncio.to_thread(shared.close)


def test_a_read_does_not_end_an_outage_a_refused_write_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full SQLite disk refuses writes and still answers reads: the lockout poll (a read) must
    not log "recovered" between two refused failure counts, a log line each (it flapped)."""
    monkeypatch.setattr(shared_state, "REOPEN_INTERVAL", 0.0)
    path = tmp_path / "auth.sqlite3"
    health = StoreHealth("the shared auth store", logging.getLogger("spaprov.test"))
    runner = shared_state._Reconnecting(lambda: SqliteSharedAuthStore(path), health, None)

    def disk_full(store: SharedAuthStore) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    for _ in range(3):
        with pytest.raises(sqlite3.OperationalError):
            runner.run(disk_full)
        assert runner.run(lambda store: store.active_lockouts(0.0), write=False) == []
        assert not health.available and health.outages == 1
    runner.run(lambda store: store.expire(0.0, window=1.0))  # a write goes through: recovered
    assert health.available and health.outages == 1
    runner.close()

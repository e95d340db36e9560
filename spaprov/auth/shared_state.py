"""Replay claims and failure counts shared by every worker and node (issue 10, "Prove it").

With `spaprov serve --workers N` (N > 1) or a PostgreSQL state store, each process still keeps
its own ReplayGuard and FailureThrottle (the fast path), and this module makes them agree:

- **Nonce claims.**  The first time a worker admits a nonce it claims it in the shared store
  (INSERT ... ON CONFLICT DO NOTHING, then the owner is read back).  A nonce claimed by another
  worker is answered with a stale challenge there (not a failure: a phone may simply have been
  moved to another worker by the kernel).  Later requests with a nonce this worker already owns
  (every resync of a phone) never reach the store.
- **Failure counts.**  Only on the failure path: each failure goes into a bounded queue feeding
  one thread that adds it to the shared count per (name, client) within `failure_window`.  When
  a shared count reaches `max_failures`, a lockout row is written; the failing request's worker
  locks locally at once, and every worker reads the active lockout rows every `POLL_INTERVAL`
  seconds into its FailureThrottle, so a phone's success path stays a dictionary lookup.  A full
  queue fails closed: that (name, client) is locked locally.
- **Before the poll.**  A failure counted while its pair is locked out gets a place past
  `max_failures` and is answered as locked out, and a nonce claim (a right password's first use
  of a nonce in this worker) first looks for a lockout of its (name, client): between a lockout
  and the next poll no worker checks a guess.  Admin Basic failures are counted here too (under
  `spaprov.auth.admins.BASIC_PREFIX`), and a right Basic password looks for a lockout after its
  hash.

Storage: on SQLite a small separate file next to the state database (WAL, synchronous=OFF:
nothing here needs to survive a power loss, since nonces issued before a process started are
treated as stale anyway, see ReplayGuard), created 0600; on PostgreSQL UNLOGGED tables in the
state database, on connections of their own.  Claims and counts expire after the nonce lifetime
and the failure window (a cheap periodic DELETE).

Outages: each thread's connection is dropped on an error and opened again on the next use (at
once when a connection that worked breaks, e.g. after a PostgreSQL restart; then at most once per
`REOPEN_INTERVAL`), so the store recovers without a restart.  While it is unreachable every
decision fails closed as before, and the outage is logged once when it starts and once when it
ends (spaprov.store_health), not once per request.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from spaprov.clock import Clock
from spaprov.logsafe import redact_url, scrub, url_secrets
from spaprov.sqlite_wal import enable_wal
from spaprov.store_health import StateStoreUnavailable, StoreHealth

log = logging.getLogger("spaprov.auth")
SHARED_AUTH_ENV = "SPAPROV_SHARED_AUTH"  # set by `serve --workers N` (N > 1) for its workers
POLL_INTERVAL = 0.5  # seconds between two reads of the active lockouts
QUEUE_SIZE = 4096  # failures waiting to be counted; beyond this, fail closed locally
BATCH = 512  # failures counted per transaction at most
MAX_NAME = 256  # characters of a user name kept in the store (made-up names can be long)
REOPEN_INTERVAL = 1.0  # seconds between two attempts to reconnect during an outage
Lockout = tuple[str, str, float]  # (name, client, until)
T = TypeVar("T")

_TABLES = (
    "CREATE {unlogged}TABLE IF NOT EXISTS auth_nonce_claims"
    " (nonce TEXT PRIMARY KEY, owner TEXT NOT NULL, expires {real} NOT NULL)",
    "CREATE {unlogged}TABLE IF NOT EXISTS auth_failures (name TEXT NOT NULL, client TEXT NOT NULL,"
    " count INTEGER NOT NULL, started {real} NOT NULL, PRIMARY KEY (name, client))",
    "CREATE {unlogged}TABLE IF NOT EXISTS auth_lockouts (name TEXT NOT NULL, client TEXT NOT NULL,"
    " until {real} NOT NULL, PRIMARY KEY (name, client))",
)
_CLAIM = "INSERT INTO auth_nonce_claims (nonce, owner, expires) VALUES ({p}, {p}, {p}) ON CONFLICT DO NOTHING"
_OWNER = "SELECT owner FROM auth_nonce_claims WHERE nonce = {p}"
_COUNT = (
    "INSERT INTO auth_failures (name, client, count, started) VALUES ({p}, {p}, {p}, {p})"
    " ON CONFLICT (name, client) DO UPDATE SET"
    " count = CASE WHEN auth_failures.started < {p} THEN excluded.count"
    " ELSE auth_failures.count + excluded.count END,"
    " started = CASE WHEN auth_failures.started < {p} THEN excluded.started ELSE auth_failures.started END"
    " RETURNING count"
)
_LOCK = (
    "INSERT INTO auth_lockouts (name, client, until) VALUES ({p}, {p}, {p})"
    " ON CONFLICT (name, client) DO UPDATE SET until = excluded.until"
)
_LOCKED = "SELECT until FROM auth_lockouts WHERE name = {p} AND client = {p} AND until > {p}"
_RESET = "DELETE FROM auth_failures WHERE name = {p} AND client = {p}"
_ACTIVE = "SELECT name, client, until FROM auth_lockouts WHERE until > {p} LIMIT 10000"
_EXPIRE = (
    "DELETE FROM auth_nonce_claims WHERE expires < {p}",
    "DELETE FROM auth_failures WHERE started < {p}",
    "DELETE FROM auth_lockouts WHERE until < {p}",
)


class SharedAuthStore(abc.ABC):
    """One connection to the shared tables; each method is one short transaction.  Not
    thread-safe: SharedAuth gives each of its threads a store of its own."""

    placeholder = "?"

    def _sql(self, template: str) -> str:
        return template.format(p=self.placeholder)

    @abc.abstractmethod
    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any: ...

    @abc.abstractmethod
    @contextlib.contextmanager
    def _transaction(self) -> Any: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def claim(self, nonce: str, owner: str, expires: float) -> bool:
        """True when `owner` holds `nonce` (it just claimed it, or had already)."""
        with self._transaction():
            self._execute(self._sql(_CLAIM), (nonce, owner, expires))
            row = self._execute(self._sql(_OWNER), (nonce,)).fetchone()
        return row is not None and row[0] == owner

    def count_failures(
        self,
        failures: dict[tuple[str, str], int],
        *,
        now: float,
        window: float,
        max_failures: int,
        lockout: float,
    ) -> dict[tuple[str, str], tuple[int, float | None]]:
        """Add failures per (name, client); their shared counts, and the lockout each started
        or is already under (another worker may have locked it since this one last polled)."""
        result: dict[tuple[str, str], tuple[int, float | None]] = {}
        with self._transaction():
            for key, count, locked in self._add_failures(failures, now, now - window):
                if locked is not None:  # counted past the lockout: every one of them is over the limit
                    result[key] = (max_failures + failures[key], locked)
                    continue
                until = None
                if count >= max_failures:
                    until = now + lockout
                    self._execute(self._sql(_LOCK), (*key, until))
                    self._execute(self._sql(_RESET), key)
                result[key] = (count, until)
        return result

    def _add_failures(
        self, failures: dict[tuple[str, str], int], now: float, horizon: float
    ) -> list[tuple[tuple[str, str], int, float | None]]:
        """In count_failures' transaction: per pair, (pair, its new count, None), or (pair, 0,
        until) when it is locked out (its failures are then not added)."""
        added_up: list[tuple[tuple[str, str], int, float | None]] = []
        for (name, client), added in failures.items():
            locked = self._execute(self._sql(_LOCKED), (name, client, now)).fetchone()
            if locked is not None:
                added_up.append(((name, client), 0, float(locked[0])))
                continue
            parameters = (name, client, added, now, horizon, horizon)
            count = int(self._execute(self._sql(_COUNT), parameters).fetchone()[0])
            added_up.append(((name, client), count, None))
        return added_up

    def locked_until(self, name: str, client: str, now: float) -> float | None:
        """When the lockout of (name, client) ends, or None when it is not locked out."""
        with self._transaction():
            row = self._execute(self._sql(_LOCKED), (name, client, now)).fetchone()
        return None if row is None else float(row[0])

    def active_lockouts(self, now: float) -> list[Lockout]:
        with self._transaction():
            rows = self._execute(self._sql(_ACTIVE), (now,)).fetchall()
        return [(str(name), str(client), float(until)) for name, client, until in rows]

    def expire(self, now: float, *, window: float) -> None:
        with self._transaction():
            self._execute(self._sql(_EXPIRE[0]), (now,))
            self._execute(self._sql(_EXPIRE[1]), (now - window,))
            self._execute(self._sql(_EXPIRE[2]), (now,))


class SqliteSharedAuthStore(SharedAuthStore):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # 0600 before SQLite opens it: its -wal and -shm files take the same mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        enable_wal(self._db)  # every --workers child opens this file at once
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self._transaction():
            for statement in _TABLES:
                self._db.execute(statement.format(unlogged="", real="REAL"))

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql, tuple(parameters))

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


# PostgreSQL counts a whole batch in one statement: a flood of made-up names otherwise costs two
# round trips per name, and each gives the GIL away and back while the event loop waits for it.
_PG_COUNT_BATCH = """
WITH input AS (
  SELECT * FROM unnest(%(names)s::text[], %(clients)s::text[], %(added)s::int[]) AS i(name, client, added)
), locked AS (
  SELECT l.name, l.client, l.until FROM auth_lockouts l JOIN input i USING (name, client)
  WHERE l.until > %(now)s
), counted AS (
  INSERT INTO auth_failures AS f (name, client, count, started)
  SELECT i.name, i.client, i.added, %(now)s FROM input i
  WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.name = i.name AND l.client = i.client)
  ON CONFLICT (name, client) DO UPDATE SET
    count = CASE WHEN f.started < %(horizon)s THEN excluded.count ELSE f.count + excluded.count END,
    started = CASE WHEN f.started < %(horizon)s THEN excluded.started ELSE f.started END
  RETURNING f.name, f.client, f.count
)
SELECT name, client, count, NULL::double precision FROM counted
UNION ALL SELECT name, client, NULL::int, until FROM locked
"""


class PostgresSharedAuthStore(SharedAuthStore):
    placeholder = "%s"

    def _add_failures(
        self, failures: dict[tuple[str, str], int], now: float, horizon: float
    ) -> list[tuple[tuple[str, str], int, float | None]]:
        """As the base class, in one statement for the whole batch."""
        keys = list(failures)
        parameters = {
            "names": [name for name, _ in keys],
            "clients": [client for _, client in keys],
            "added": [failures[key] for key in keys],
            "now": now,
            "horizon": horizon,
        }
        rows = self._db.execute(_PG_COUNT_BATCH, parameters).fetchall()
        return [
            ((str(name), str(client)), 0 if locked is not None else int(count), locked)
            for name, client, count, locked in rows
        ]

    def __init__(self, url: str) -> None:
        import psycopg

        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
            self._db.execute("SET synchronous_commit = off")
            with self._transaction():
                for statement in _TABLES:
                    self._db.execute(statement.format(unlogged="UNLOGGED ", real="DOUBLE PRECISION"))
        except psycopg.errors.UniqueViolation:  # another worker created the tables at the same time
            with self._transaction():
                for statement in _TABLES:
                    self._db.execute(statement.format(unlogged="UNLOGGED ", real="DOUBLE PRECISION"))
        except psycopg.Error as error:
            label = redact_url(url)
            detail = scrub(str(error).replace(url, label), url_secrets(url))
            raise OSError(f"cannot open the shared auth tables in {label}: {detail}") from None

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql, tuple(parameters))

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        with self._db.transaction():
            yield

    def close(self) -> None:
        self._db.close()


def shared_store_factory(state_url: str) -> Callable[[], SharedAuthStore] | None:
    """How to open the shared auth store beside the state store at `state_url` (None for an
    in-memory SQLite state, which no other process can see)."""
    if state_url.startswith(("postgresql://", "postgres://")):
        return lambda: PostgresSharedAuthStore(state_url)
    path = state_url.removeprefix("sqlite:///")
    if path == ":memory:" or "://" in path:
        return None
    state = Path(path)
    auth = state.with_name(f".{state.stem.lstrip('.')}-auth.sqlite3")
    return lambda: SqliteSharedAuthStore(auth)


def sharing_needed(state_url: str) -> bool:
    """Several workers (`serve --workers N`) or possibly several nodes (PostgreSQL)."""
    return os.environ.get(SHARED_AUTH_ENV) == "1" or state_url.startswith(("postgresql://", "postgres://"))


class _Reconnecting:
    """One thread's SharedAuthStore, opened on demand and opened again after a failure."""

    def __init__(
        self, open_store: Callable[[], SharedAuthStore], health: StoreHealth, store: SharedAuthStore | None
    ) -> None:
        self._open_store, self._health, self._store = open_store, health, store
        self._next_attempt = 0.0

    def _open(self) -> SharedAuthStore:
        now = time.monotonic()
        if now < self._next_attempt:
            raise OSError("the shared auth store is unreachable (reconnecting)")
        self._next_attempt = now + REOPEN_INTERVAL
        try:
            return self._open_store()
        except Exception as error:
            self._health.failed(str(error))
            raise

    def run(self, work: Callable[[SharedAuthStore], T], *, write: bool = True) -> T:
        """`work` on the store; raises whatever made it fail (the caller fails closed).  `write`:
        whether it writes (a read that works does not end an outage a refused write began: a
        full disk)."""
        fresh = self._store is None
        if self._store is None:
            self._store = self._open()
        try:
            result = work(self._store)
        except Exception as error:
            self.close()
            if fresh:
                self._health.failed(str(error), write=write)
                raise
            # A connection that worked has broken (a restarted server): one fresh try at once.
            self._next_attempt = 0.0
            self._store = self._open()
            try:
                result = work(self._store)
            except Exception as retry_error:
                self.close()
                self._health.failed(str(retry_error), write=write)
                raise
        self._health.succeeded(write=write)
        return result

    def close(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.close()
            self._store = None


class PendingFailure:
    """A failure on its way to the shared count; `future` gives (this failure's place in the
    shared count, lockout until): a place over max_failures means the pair was already locked
    out when it was counted (answer it as locked out, whether or not the guess was right)."""

    __slots__ = ("client", "future", "name")

    def __init__(self, name: str, client: str) -> None:
        self.name, self.client = name, client
        self.future: Future[tuple[int, float | None]] = Future()


class SharedAuth:
    """The threads around a SharedAuthStore: a one-thread executor for claims and lockout polls
    (phones' path; strangers cannot fill it, a claim needs a right password first), and one
    thread counting failures from a bounded queue (the attacker's path)."""

    def __init__(
        self,
        open_store: Callable[[], SharedAuthStore],
        clock: Clock,
        *,
        owner: str | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self._open_store = open_store
        self._clock = clock
        self.owner = owner or f"{os.getpid()}-{os.urandom(4).hex()}"
        self.window, self.max_failures, self.lockout, self.nonce_lifetime = 300.0, 5, 300.0, 300.0
        self.health = StoreHealth("shared auth store", log)
        self._claims = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spaprov-auth-claims")
        self._claim_store = _Reconnecting(open_store, self.health, None)
        self._failures: queue.Queue[PendingFailure | None] = queue.Queue(maxsize=queue_size)
        self._counter = threading.Thread(target=self._count_loop, name="spaprov-auth-failures", daemon=True)
        # Open one now: a broken store fails at startup.
        self._counter_store = _Reconnecting(open_store, self.health, open_store())
        self._counter.start()
        self.claims = self.foreign = self.dropped = self.errors = 0

    def configure(self, *, max_failures: int, window: float, lockout: float, nonce_lifetime: float) -> None:
        self.max_failures, self.window, self.lockout = max_failures, window, lockout
        self.nonce_lifetime = nonce_lifetime

    # -- claims (event loop side) -----------------------------------------------------------------
    async def claim(self, nonce: str, issued: float, name: str, client: str) -> bool | float:
        """True when this worker owns `nonce` in the shared store, False when another one does;
        when (name, client) is locked out in the shared store, the time its lockout ends (and
        nothing is claimed: another worker's lockout holds here before this one's next poll).
        When the store cannot be reached: StateStoreUnavailable (answered 503 with Retry-After,
        so the phone retries later instead of looping on fresh nonces that cannot be claimed
        either); never True."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._claims, self._claim, nonce, issued + self.nonce_lifetime + 1.0, name[:MAX_NAME], client
        )

    def _claim(self, nonce: str, expires: float, name: str, client: str) -> bool | float:
        def work(store: SharedAuthStore) -> bool | float:
            until = store.locked_until(name, client, self._clock())
            return until if until is not None else store.claim(nonce, self.owner, expires)

        try:
            owned = self._claim_store.run(work)
        except Exception as error:  # noqa: BLE001 - a broken store must never let a replay pass
            self.errors += 1  # (logged once per outage by self.health)
            raise StateStoreUnavailable(f"shared auth store: {error}") from None
        if owned is True or owned is False:
            self.claims += 1
            if not owned:
                self.foreign += 1
        return owned

    async def locked_until(self, name: str, client: str) -> float | None:
        """When the shared lockout of (name, client) ends, or None (for a success decided without
        a nonce claim: an admin's Basic login).  Fails closed: StateStoreUnavailable."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._claims, self._locked_until, name[:MAX_NAME], client)

    def _locked_until(self, name: str, client: str) -> float | None:
        try:
            return self._claim_store.run(
                lambda store: store.locked_until(name, client, self._clock()), write=False
            )
        except Exception as error:  # noqa: BLE001 - a broken store must never let a guess pass
            self.errors += 1
            raise StateStoreUnavailable(f"shared auth store: {error}") from None

    async def lockouts(self) -> list[Lockout]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._claims, self._poll)

    def _poll(self) -> list[Lockout]:
        now = self._clock()
        try:
            return self._claim_store.run(lambda store: store.active_lockouts(now), write=False)
        except Exception:  # noqa: BLE001 - logged once per outage by self.health
            self.errors += 1
            return []

    async def expire(self) -> None:
        """Delete claims, counts and lockouts that are over (on the claims thread)."""
        await asyncio.get_running_loop().run_in_executor(self._claims, self._expire)

    def _expire(self) -> None:
        now = self._clock()
        window = max(self.window, self.nonce_lifetime)
        try:
            self._claim_store.run(lambda store: store.expire(now, window=window))
        except Exception:  # noqa: BLE001 - logged once per outage by self.health
            self.errors += 1

    # -- failures ---------------------------------------------------------------------------------
    def failed(self, name: str, client: str) -> PendingFailure | None:
        """Queue a failure for the shared count; None when the queue is full (fail closed)."""
        pending = PendingFailure(name[:MAX_NAME], client)
        try:
            self._failures.put_nowait(pending)
        except queue.Full:
            self.dropped += 1
            return None
        return pending

    def _count(
        self, counts: dict[tuple[str, str], int], store: SharedAuthStore
    ) -> dict[tuple[str, str], tuple[int, float | None]]:
        return store.count_failures(
            counts,
            now=self._clock(),
            window=self.window,
            max_failures=self.max_failures,
            lockout=self.lockout,
        )

    def _count_loop(self) -> None:
        store = self._counter_store
        while True:
            first = self._failures.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < BATCH:
                try:
                    item = self._failures.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._failures.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            counts: dict[tuple[str, str], int] = {}
            for item in batch:
                key = (item.name, item.client)
                counts[key] = counts.get(key, 0) + 1
            try:
                result = store.run(functools.partial(self._count, counts))
            except Exception:  # noqa: BLE001 - fail closed: each of them is locked locally
                self.errors += 1
                closed = self._clock() + self.lockout
                for item in batch:
                    item.future.set_result((self.max_failures, closed))
                continue
            places: dict[tuple[str, str], int] = {}
            for item in batch:  # each failure's own place in the shared count
                key = (item.name, item.client)
                count, locked_until = result[key]
                places[key] = places.get(key, 0) + 1
                item.future.set_result((count - counts[key] + places[key], locked_until))
        store.close()

    def close(self) -> None:
        self._failures.put(None)
        self._counter.join(timeout=10)
        self._claims.submit(self._close_claims).result(timeout=10)
        self._claims.shutdown(wait=True)

    def _close_claims(self) -> None:
        self._claim_store.close()

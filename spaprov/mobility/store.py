"""Durable extension-mobility state: sessions and the audit log (SQLite).

WAL journal and synchronous=FULL: a committed record survives a crash or a kill, and a process
killed mid-write leaves a readable database.  The schema is versioned and migrated forward on
open.  Every policy decision runs inside one `BEGIN IMMEDIATE` transaction, so two workers (or
two nodes on a shared database) cannot both decide a user is free to log in.

A connection-level failure (PostgreSQL down or restarted, a full or read-only disk under SQLite)
is raised as `StateStoreUnavailable`, logged once per outage through the store's `health`, and
recovered from by itself: PostgreSQL runs on a psycopg_pool pool that reconnects in the
background, and a failing request costs no more than a short wait for a connection.  Other errors
(SQL or programming errors) are raised as they are.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from spaprov.logsafe import redact_url, scrub, url_secrets
from spaprov.sqlite_wal import enable_wal
from spaprov.store_health import StateStoreError as StateStoreError  # re-exported: the store's errors
from spaprov.store_health import StateStoreUnavailable as StateStoreUnavailable
from spaprov.store_health import StoreHealth

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # version 1
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            device TEXT NOT NULL,
            started REAL NOT NULL,
            last_seen REAL NOT NULL,
            ended REAL,
            end_reason TEXT,
            acknowledged INTEGER NOT NULL DEFAULT 1
        )""",
        "CREATE INDEX sessions_active_user ON sessions (user_id) WHERE ended IS NULL",
        "CREATE INDEX sessions_active_device ON sessions (device) WHERE ended IS NULL",
        "CREATE INDEX sessions_unacknowledged ON sessions (device, user_id) WHERE acknowledged = 0",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            event TEXT NOT NULL,
            user_id TEXT,
            device TEXT,
            client TEXT,
            detail TEXT
        )""",
        "CREATE INDEX audit_at ON audit (at)",
        "CREATE INDEX audit_user ON audit (user_id, at)",
    ),
    (  # version 2: when a pending logout was first served (see policy.LOGOUT_ACK_DELAY)
        "ALTER TABLE sessions ADD COLUMN logout_served REAL",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
log = logging.getLogger("spaprov.mobility")
_SESSION_COLUMNS = "id, user_id, device, started, last_seen, ended, end_reason, acknowledged, logout_served"


@dataclass(frozen=True)
class Session:
    id: int
    user_id: str
    device: str
    started: float
    last_seen: float
    ended: float | None = None
    end_reason: str | None = None
    acknowledged: bool = True
    logout_served: float | None = None  # when the phone was first sent the logout profile


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    event: str
    user_id: str | None
    device: str | None
    client: str | None
    detail: str | None


class AuditRow(NamedTuple):
    """An audit entry to insert (no id yet)."""

    at: float
    event: str
    user_id: str | None
    device: str | None
    client: str | None
    detail: str | None


# What a store looked like: (SQLite's data_version, this store's write transactions so far).
ChangeToken = tuple[int, int]


# SQLite primary result codes that mean "the storage is not usable now", not "bad SQL".
_SQLITE_UNAVAILABLE = frozenset(
    {
        3,  # SQLITE_PERM
        5,  # SQLITE_BUSY (after busy_timeout)
        6,  # SQLITE_LOCKED
        8,  # SQLITE_READONLY
        10,  # SQLITE_IOERR
        13,  # SQLITE_FULL
        14,  # SQLITE_CANTOPEN
    }
)


class Transaction:
    """The queries a policy decision needs, inside one transaction."""

    def __init__(self, connection: _Connection) -> None:
        self._db = connection

    def _sessions(self, where: str, *args: object) -> list[Session]:
        rows = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY id", args)
        return [
            Session(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8])
            for row in rows
        ]

    def active_sessions_of_user(self, user_id: str) -> list[Session]:
        return self._sessions("ended IS NULL AND user_id = ?", user_id)

    def active_sessions_on_device(self, device: str) -> list[Session]:
        return self._sessions("ended IS NULL AND device = ?", device)

    def unacknowledged_end(self, user_id: str, device: str) -> Session | None:
        found = self._sessions("acknowledged = 0 AND device = ? AND user_id = ?", device, user_id)
        return found[-1] if found else None

    def unacknowledged_end_on_device(self, device: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sessions WHERE acknowledged = 0 AND device = ? LIMIT 1", (device,)
        )
        return row.fetchone() is not None

    def untold_ends(self, since: float) -> list[Session]:
        """Sessions ended since `since` that the phone must be told of and has not been yet (no
        logout profile served, not acknowledged): what a resync push is for."""
        return self._sessions("acknowledged = 0 AND logout_served IS NULL AND ended >= ?", since)

    def sessions_started_before(self, moment: float) -> list[Session]:
        return self._sessions("ended IS NULL AND started <= ?", moment)

    def schema_version(self) -> int:
        return int(self._db.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def data_version(self) -> int | None:
        """SQLite's data_version of this connection (None on other backends); read inside a
        transaction, before its other reads, see StateStore.change_token."""
        return None

    def ping(self) -> None:
        self._db.execute("SELECT 1").fetchone()

    def active_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM sessions WHERE ended IS NULL").fetchone()[0])

    def start_session(self, user_id: str, device: str, now: float) -> Session:
        cursor = self._db.execute(
            "INSERT INTO sessions (user_id, device, started, last_seen) VALUES (?, ?, ?, ?) RETURNING id",
            (user_id, device, now, now),
        )
        return Session(int(cursor.fetchone()[0]), user_id, device, now, now)

    def touch(self, session: Session, now: float) -> None:
        self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, session.id))

    def end_session(self, session: Session, now: float, reason: str, *, tell_phone: bool) -> None:
        """`tell_phone`: the phone still believes it is logged in; its next mobile fetch must
        get the logout profile (until acknowledged: see policy.py)."""
        self._db.execute(
            "UPDATE sessions SET ended = ?, end_reason = ?, acknowledged = ? WHERE id = ? AND ended IS NULL",
            (now, reason, 0 if tell_phone else 1, session.id),
        )

    def acknowledge_device(self, device: str) -> None:
        self._db.execute(
            "UPDATE sessions SET acknowledged = 1 WHERE acknowledged = 0 AND device = ?", (device,)
        )

    def acknowledge(self, user_id: str, device: str) -> None:
        """The pending logouts of this user on this phone are settled."""
        self._db.execute(
            "UPDATE sessions SET acknowledged = 1 WHERE acknowledged = 0 AND device = ? AND user_id = ?",
            (device, user_id),
        )

    def logout_served(self, session: Session, now: float) -> None:
        """Remember when the phone was first sent the logout profile for this ended session."""
        self._db.execute(
            "UPDATE sessions SET logout_served = ? WHERE id = ? AND logout_served IS NULL", (now, session.id)
        )

    def audit(
        self,
        now: float,
        event: str,
        *,
        user_id: str | None = None,
        device: str | None = None,
        client: str | None = None,
        detail: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO audit (at, event, user_id, device, client, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (now, event, user_id, device, client, detail),
        )

    def audit_many(self, rows: Sequence[AuditRow]) -> None:
        """Insert a batch of audit rows in the caller's transaction (the batched audit writer)."""
        for row in rows:
            self._db.execute(
                "INSERT INTO audit (at, event, user_id, device, client, detail) VALUES (?, ?, ?, ?, ?, ?)",
                tuple(row),
            )

    def sessions(
        self, *, active_only: bool = True, user_id: str | None = None, device: str | None = None
    ) -> list[Session]:
        clauses: list[str] = ["1 = 1"]
        args: list[object] = []
        if active_only:
            clauses.append("ended IS NULL")
        if user_id is not None:
            clauses.append("user_id = ?")
            args.append(user_id)
        if device is not None:
            clauses.append("device = ?")
            args.append(device)
        return self._sessions(" AND ".join(clauses), *args)

    def audit_counts(self, *, since: float) -> dict[str, int]:
        """How many entries of each event were recorded since `since` (rows: a folded row of
        repeated failures counts once)."""
        rows = self._db.execute("SELECT event, COUNT(*) FROM audit WHERE at >= ? GROUP BY event", (since,))
        return {str(event): int(count) for event, count in rows}

    def audit_entries(
        self,
        *,
        user_id: str | None = None,
        since: float | None = None,
        limit: int = 1000,
        oldest_first: bool = False,
        event: str | None = None,
        device: str | None = None,
    ) -> list[AuditEntry]:
        """The newest `limit` entries that match, newest first (`oldest_first`: the same entries
        in the order they happened)."""
        clauses: list[str] = ["1 = 1"]
        args: list[object] = []
        for column, value in (("user_id", user_id), ("event", event), ("device", device)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            clauses.append("at >= ?")
            args.append(since)
        rows = self._db.execute(
            f"SELECT id, at, event, user_id, device, client, detail FROM audit WHERE {' AND '.join(clauses)} "
            "ORDER BY at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        entries = [AuditEntry(*row) for row in rows]
        return entries[::-1] if oldest_first else entries


class _Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any: ...


class StateStore(abc.ABC):
    """Sessions and audit on one connection, used from one thread at a time (spaprov runs every
    decision on a single state thread).  Backends differ only in connecting, locking and DDL."""

    label = ""
    _transaction_class = Transaction

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.health = StoreHealth("state store", log)
        self.local_writes = 0  # write transactions committed on this store (under _lock)

    def change_token(self) -> ChangeToken | None:
        """A value that differs as soon as anyone has committed a change since it was read, or
        None when this store cannot tell (no cheap way) or is busy right now.  Never blocks: safe
        on the event loop (spaprov.mobility.session_view)."""
        return None

    def transaction_token(self, tx: Transaction, *, write: bool) -> ChangeToken | None:
        """Inside `tx`, before its other reads: the change token the store will have once `tx`
        has committed, unless someone else commits after it (in a write transaction nobody else
        can commit until it ends, and our own commits do not move data_version)."""
        version = tx.data_version()
        return None if version is None else (version, self.local_writes + (1 if write else 0))

    # Backend hooks -------------------------------------------------------------------------------
    @abc.abstractmethod
    def _session(self, write: bool) -> contextlib.AbstractContextManager[_Connection]:
        """A connection inside one open transaction, committed when the block ends normally and
        rolled back otherwise."""

    @abc.abstractmethod
    def _unavailable(self, error: BaseException) -> str | None:
        """Why `error` means the store cannot be reached (None: an ordinary error)."""

    def _ddl(self, statement: str) -> str:
        return statement

    # Shared ------------------------------------------------------------------------------------------
    def _migrate(self, session: contextlib.AbstractContextManager[_Connection]) -> None:
        with session as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if current > SCHEMA_VERSION:
                raise StateStoreError(
                    f"{self.label} has schema version {current}; this spaprov knows {SCHEMA_VERSION}"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version - 1]:
                    db.execute(self._ddl(statement))
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    @property
    def schema_version(self) -> int:
        with self.transaction(write=False) as tx:
            return tx.schema_version()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One transaction, committed when the block ends normally.  A writing one takes the
        write lock up front so its reads cannot go stale before it writes.  Raises
        StateStoreUnavailable when the store cannot be reached."""
        with self._lock:
            changes = self._changes()
            try:
                try:
                    with self._session(write) as db:
                        yield self._transaction_class(db)
                finally:
                    if write:  # also when it failed: a failed COMMIT may still have written
                        self.local_writes += 1
            except StateStoreUnavailable as error:
                self.health.failed(str(error), write=write)
                raise
            except Exception as error:
                reason = self._unavailable(error)
                if reason is None:
                    raise
                self.health.failed(f"{self.label}: {reason}", write=write)
                raise StateStoreUnavailable(f"{self.label}: {reason}") from error
            # A write transaction that changed nothing commits even on a full or read-only disk:
            # only one that wrote ends an outage seen on a write.
            self.health.succeeded(write=write and (changes is None or self._changes() != changes))

    def _changes(self) -> int | None:
        """Rows changed on this store's connection so far, where the backend can tell cheaply
        (None: it cannot, and any committed write transaction counts as one that wrote)."""
        return None

    def probe(self) -> bool:
        """Does the store answer now?  A read: after an outage seen on a write (a full or
        read-only disk, where reads may still work) only a write that goes through again ends
        it, so the probe reports the outage until then."""
        try:
            with self.transaction(write=False) as tx:
                tx.ping()
        except StateStoreUnavailable:
            return False
        return self.health.available

    @abc.abstractmethod
    def close(self) -> None: ...


class _SqliteTransaction(Transaction):
    def data_version(self) -> int | None:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])


class SqliteStateStore(StateStore):
    _transaction_class = _SqliteTransaction

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = self.label = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(self.path))
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            enable_wal(self._db)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._migrate(self._session(True))
        except sqlite3.DatabaseError as error:
            raise StateStoreError(
                f"cannot open the state database {self.path}: {_why(self.path, error)}"
            ) from None

    @contextlib.contextmanager
    def _session(self, write: bool) -> Iterator[_Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # A failed COMMIT (disk full, I/O error) may or may not have ended the transaction:
            # one left open would make every later BEGIN fail.
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    def _changes(self) -> int | None:
        return self._db.total_changes

    def _unavailable(self, error: BaseException) -> str | None:
        code = getattr(error, "sqlite_errorcode", None)
        if (
            isinstance(error, sqlite3.DatabaseError)
            and isinstance(code, int)
            and code & 0xFF in _SQLITE_UNAVAILABLE
        ):
            return f"{error} ({getattr(error, 'sqlite_errorname', code)})"
        return None

    def change_token(self) -> ChangeToken | None:
        if not self._lock.acquire(blocking=False):  # a transaction is running: do not wait for it
            return None
        try:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0]), self.local_writes
        except sqlite3.Error:
            return None
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _why(path: str, error: sqlite3.DatabaseError) -> str:
    """SQLite's reason, and the likelier cause when it is only "unable to open database file"."""
    try:
        read_only = bool(os.statvfs(Path(path).parent).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return f"{error}: the file system is read-only (SQLite writes its -wal and -shm files beside it)"
    return str(error)


def _create_private(path: Path) -> None:
    """Create the database file 0600 (SQLite gives its -wal and -shm files the database's mode).
    An existing database keeps the mode its owner chose; a readable one is named in a warning."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.chmod(path, 0o600)  # whatever the umask
        return
    except FileExistsError:
        pass
    except OSError as error:
        raise StateStoreError(f"cannot create the state database {path}: {error}") from None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "state database %s (sessions, audit) is readable by group or others (mode %04o): "
            "run chmod 600 %s %s-wal %s-shm",
            path,
            mode,
            path,
            path,
            path,
        )


# Any constant: the key of the advisory lock that serialises writing transactions across nodes,
# as SQLite's BEGIN IMMEDIATE does across processes.
_PG_WRITE_LOCK = 7_270_001


class _PostgresConnection:
    """sqlite3-style `?` placeholders over psycopg's `%s`."""

    def __init__(self, connection: Any) -> None:
        self.raw = connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return self.raw.execute(sql.replace("?", "%s"), tuple(parameters))


class PostgresStateStore(StateStore):
    """The same schema and migrations on PostgreSQL, for more than one node.

    Connections come from a psycopg_pool pool of one (the store is used by one thread at a time)
    that replaces a broken connection in the background.  While the server is down a transaction
    waits at most `OUTAGE_WAIT` for a connection, so the state thread never queues requests
    behind long timeouts; the pool gives up a reconnection after `RECONNECT_TIMEOUT` and the
    next request starts a fresh one, which bounds its backoff (recovery within a few seconds)."""

    CHECKOUT_TIMEOUT = 10.0  # seconds to wait for a connection while the server answers
    OUTAGE_WAIT = 0.05  # ... and during an outage
    RECONNECT_TIMEOUT = 4.0

    def __init__(self, url: str) -> None:
        super().__init__()
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise StateStoreError(
                "PostgreSQL needs psycopg and psycopg-pool: pip install 'spaprov[postgresql]'"
            ) from None
        self.label = _redact(url)
        self._psycopg = psycopg
        self._secrets = url_secrets(url)
        try:
            # Migrate on a connection of its own: its errors name the cause at startup.
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as first:
                self._migrate(_pg_session(_PostgresConnection(first), True))
        except psycopg.Error as error:
            detail = scrub(str(error).replace(url, self.label), url_secrets(url))  # libpq may quote it
            raise StateStoreError(f"cannot open the state database {self.label}: {detail}") from None
        # Each failed reconnection attempt is a warning of the pool's; the outage is logged once
        # by self.health instead.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        self._pool = ConnectionPool(
            url,
            kwargs={"autocommit": True, "connect_timeout": 5},
            min_size=1,
            max_size=1,
            open=True,
            name="spaprov-state",
            timeout=self.CHECKOUT_TIMEOUT,
            reconnect_timeout=self.RECONNECT_TIMEOUT,
        )

    @contextlib.contextmanager
    def _session(self, write: bool) -> Iterator[_Connection]:
        wait = self.CHECKOUT_TIMEOUT if self.health.available else self.OUTAGE_WAIT
        with self._pool.connection(timeout=wait) as raw, _pg_session(_PostgresConnection(raw), write) as db:
            yield db

    def _unavailable(self, error: BaseException) -> str | None:
        from psycopg_pool import PoolTimeout

        psycopg = self._psycopg
        if isinstance(error, PoolTimeout):
            return "no connection to the database server"
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return scrub(first, self._secrets)
        return None

    def _ddl(self, statement: str) -> str:
        return statement.replace(
            "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        ).replace(" REAL", " DOUBLE PRECISION")

    def close(self) -> None:
        with self._lock:
            self._pool.close()


@contextlib.contextmanager
def _pg_session(db: _PostgresConnection, write: bool) -> Iterator[_Connection]:
    db.execute("BEGIN")
    if write:
        db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_WRITE_LOCK,))
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if not db.raw.closed:  # a broken connection is discarded by the pool
            with contextlib.suppress(Exception):
                db.execute("ROLLBACK")
        raise


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return redact_url(url)


def default_state_url(profiles: Path) -> str:
    """The state store when none is named: sqlite in the profile directory, a dot file so the
    reload watcher ignores it."""
    return f"sqlite:///{profiles / '.spaprov-state.sqlite3'}"


def open_state(url: str) -> StateStore:
    """`sqlite:///relative/or/absolute/path` (or a bare path), or `postgresql://user:pw@host/db`."""
    if url.startswith("sqlite:///"):
        return SqliteStateStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStateStore(url)
    if "://" in url:
        raise StateStoreError(f"unsupported state URL {_redact(url)!r}: use sqlite:///PATH or postgresql://…")
    return SqliteStateStore(url)

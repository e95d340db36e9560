"""Durable extension-mobility state: sessions and the audit log (SQLite).

WAL journal and synchronous=FULL: a committed record survives a crash or a kill, and a process
killed mid-write leaves a readable database.  The schema is versioned and migrated forward on
open.  Every policy decision runs inside one `BEGIN IMMEDIATE` transaction, so two workers (or
two nodes on a shared database) cannot both decide a user is free to log in.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
)
SCHEMA_VERSION = len(MIGRATIONS)
_SESSION_COLUMNS = "id, user_id, device, started, last_seen, ended, end_reason, acknowledged"


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


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    event: str
    user_id: str | None
    device: str | None
    client: str | None
    detail: str | None


class StateError(RuntimeError):
    """The state database cannot be opened or is from a newer spaprov."""


class Transaction:
    """The queries a policy decision needs, inside one transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def _sessions(self, where: str, *args: object) -> list[Session]:
        rows = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY id", args)
        return [Session(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7])) for row in rows]

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

    def active_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM sessions WHERE ended IS NULL").fetchone()[0])

    def start_session(self, user_id: str, device: str, now: float) -> Session:
        cursor = self._db.execute(
            "INSERT INTO sessions (user_id, device, started, last_seen) VALUES (?, ?, ?, ?)",
            (user_id, device, now, now),
        )
        return Session(int(cursor.lastrowid or 0), user_id, device, now, now)

    def touch(self, session: Session, now: float) -> None:
        self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, session.id))

    def end_session(self, session: Session, now: float, reason: str, *, tell_phone: bool) -> None:
        """`tell_phone`: the phone still believes it is logged in; its next mobile fetch must
        get the logout profile (cleared once it fetches a non-mobile profile)."""
        self._db.execute(
            "UPDATE sessions SET ended = ?, end_reason = ?, acknowledged = ? WHERE id = ? AND ended IS NULL",
            (now, reason, 0 if tell_phone else 1, session.id),
        )

    def acknowledge_device(self, device: str) -> None:
        self._db.execute(
            "UPDATE sessions SET acknowledged = 1 WHERE acknowledged = 0 AND device = ?", (device,)
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

    def audit_entries(
        self, *, user_id: str | None = None, since: float | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        clauses: list[str] = ["1 = 1"]
        args: list[object] = []
        if user_id is not None:
            clauses.append("user_id = ?")
            args.append(user_id)
        if since is not None:
            clauses.append("at >= ?")
            args.append(since)
        rows = self._db.execute(
            f"SELECT id, at, event, user_id, device, client, detail FROM audit WHERE {' AND '.join(clauses)} "
            "ORDER BY id LIMIT ?",
            (*args, limit),
        )
        return [AuditEntry(*row) for row in rows]


class SqliteStateStore:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise StateError(f"cannot open the state database {self.path}: {error}") from None
        self._lock = threading.Lock()

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            if current > SCHEMA_VERSION:
                raise StateError(
                    f"{self.path} has schema version {current}; this spaprov knows {SCHEMA_VERSION}"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version - 1]:
                    self._db.execute(statement)
                self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One transaction, committed when the block ends normally.  A writing one takes the
        write lock up front (BEGIN IMMEDIATE) so its reads cannot go stale before it writes."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Transaction(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_state(url: str) -> SqliteStateStore:
    """`sqlite:///relative/or/absolute/path` (or a bare path)."""
    if url.startswith("sqlite:///"):
        return SqliteStateStore(url.removeprefix("sqlite:///"))
    if "://" in url:
        raise StateError(f"unsupported state URL {url!r}: use sqlite:///PATH")
    return SqliteStateStore(url)

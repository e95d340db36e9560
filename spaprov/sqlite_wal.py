"""Switching a SQLite database to WAL when several processes may open it at the same moment."""

from __future__ import annotations

import sqlite3
import time

SQLITE_BUSY = 5


def enable_wal(db: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch `db` to WAL.  The switch needs the database to itself, and SQLite answers
    "database is locked" at once, without its busy handler, while another process is opening the
    same new file (`serve --workers N` starting N workers): wait for it as the busy timeout would."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) != SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)

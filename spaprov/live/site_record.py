"""The site's one record of what it serves: the site generation, the directory fingerprint that
generation was loaded from, and the problems of the directory as it is now.

Under `serve --workers N` every worker reads and writes one record (a small JSON file in a private
directory the parent makes, replaced atomically, read-modify-written under a file lock), so the
generation only moves forward for the whole site, a worker that sees a newer one catches up before
it answers a phone (spaprov.live.reload.catch_up), and /healthz is the site's, not a worker's.
A single process keeps the record in memory."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SITE_RECORD_ENV = "SPAPROV_SITE_RECORD"
_FILE, _LOCK = "site-record.json", "site-record.lock"


@dataclass(frozen=True)
class Record:
    generation: int = 0
    fingerprint: str = ""
    problems: tuple[str, ...] = ()


Change = Callable[[Record], Record | None]


class SiteRecord:
    """In memory: one process serves the site."""

    def __init__(self) -> None:
        self._record = Record()

    def read(self) -> Record:
        return self._record

    def change(self, change: Change) -> Record:
        """Apply `change` to the current record (None: leave it); return the record now."""
        new = change(self._record)
        if new is not None:
            self._record = new
        return self._record


class SharedSiteRecord(SiteRecord):
    """A file shared by the workers of one `serve --workers` (the directory is the parent's)."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self._path = directory / _FILE
        self._lock = directory / _LOCK

    def read(self) -> Record:
        """Read every time (a few dozen microseconds): a cache keyed on stat could miss a change."""
        try:
            data = json.loads(self._path.read_text())
        except FileNotFoundError:
            return Record()
        return Record(int(data["generation"]), str(data["fingerprint"]), tuple(map(str, data["problems"])))

    def change(self, change: Change) -> Record:
        with open(self._lock, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.read()
            new = change(current)
            if new is not None and new != current:
                temporary = self._path.with_name(f".{_FILE}.{os.getpid()}.tmp")
                fields = {"generation": new.generation, "fingerprint": new.fingerprint}
                temporary.write_text(json.dumps({**fields, "problems": list(new.problems)}))
                os.replace(temporary, self._path)
                return new
            return current


def open_site_record() -> SiteRecord:
    """The workers' shared record when the parent of `serve --workers` made one, else in memory."""
    directory = os.environ.get(SITE_RECORD_ENV, "")
    return SharedSiteRecord(Path(directory)) if directory else SiteRecord()

"""All-or-nothing writes of several files of one directory, across a crash (kill -9, power loss).

One writer at a time holds the directory's lock (`.spaprov.lock`) and commits a batch in four steps:
  1. stage: every new file is written beside its target as `.<name>.<12 hex>.tmp` (the temp-name
     pattern of spaprov.fileio, as atomic_write's) and fsynced, with its directory;
  2. commit point: `.spaprov.journal` (JSON: each target and its staged temp, or null for a
     deletion) is written atomically and fsynced;
  3. install: one rename (or unlink) per file, then the directories are fsynced;
  4. the journal is removed.
A crash before step 2 leaves only temporaries (the old state, whole); after it, the journal says
exactly what to finish.  `recover` (run under the lock by every writer before it reads, and by
`spaprov serve` before it loads) rolls an interrupted batch forward and removes stale temporaries.
While a journal exists the directory is half installed: readers refuse it (`pending_journal`)
rather than serve a mix of old and new files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from spaprov.fileio import TEMPORARY, atomic_write, fsync_directory, temporary_path

log = logging.getLogger("spaprov.transaction")

JOURNAL = ".spaprov.journal"
LOCK = ".spaprov.lock"
# Temporaries of files whose writers all hold LOCK are stale as soon as we hold it; any other
# (admins.toml's, written without the lock) only once it is this old.
UNLOCKED_STALE_SECONDS = 60.0


class JournalError(ValueError):
    """A journal that cannot be replayed (not written by spaprov, or edited by hand)."""


def pending_journal(root: Path) -> Path | None:
    """The journal of an interrupted (or still running) batch in `root`, if there is one."""
    path = root / JOURNAL
    return path if path.exists() else None


def interrupted_message(root: Path) -> str:
    return (
        f"a write to {root} was interrupted before it finished ({root / JOURNAL} exists), so its "
        "files are a mix of old and new; `spaprov serve` finishes it at start-up, and so does any "
        f"spaprov writer (e.g. `spaprov user list --profiles {root}`)"
    )


@contextlib.contextmanager
def locked(root: Path, *, who: str = "spaprov", create: bool = False) -> Iterator[Transaction]:
    """Hold `root`'s writer lock, finish any interrupted batch, and yield a Transaction.
    `create`: make `root` if it does not exist (else FileNotFoundError)."""
    if create:
        root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("%s: waiting for another spaprov writer to finish in %s", who, root)
            fcntl.flock(fd, fcntl.LOCK_EX)
        for line in _recover_locked(root):
            log.warning("%s", line)
        yield Transaction(root)
    finally:
        os.close(fd)


def recover(root: Path) -> list[str]:
    """Take the lock, roll an interrupted batch forward, remove stale temporaries; what was done,
    one line each (empty: the directory was clean)."""
    if not root.is_dir():
        return []
    try:
        fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:  # a read-only directory: nothing can have been half written by us
        if pending_journal(root):
            raise JournalError(f"{interrupted_message(root)}; but {root / LOCK}: {error.strerror}") from None
        return []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _recover_locked(root)
    finally:
        os.close(fd)


class Transaction:
    """A batch of writes to files of `root` (labels such as "users/alice.toml"); only valid inside
    `locked(root)`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def commit(
        self, files: Mapping[str, bytes | None], *, progress: Callable[[int], None] | None = None
    ) -> None:
        """Install every file (None: delete it) or, after a crash, none until `recover` installs
        all.  Durable when this returns.  `progress` is called with the count staged so far."""
        if not files:
            return
        entries: list[tuple[str, str | None]] = []
        directories: set[Path] = set()
        try:
            for done, (label, content) in enumerate(files.items(), start=1):
                target = _target(self.root, label)
                if content is None:
                    entries.append((label, None))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    staged = _stage(target, content)
                    entries.append((label, staged.name))
                directories.add(target.parent)
                if progress is not None:
                    progress(done)
            for directory in directories:
                fsync_directory(directory)
            journal = json.dumps({"version": 1, "files": entries}, separators=(",", ":"))
            atomic_write(self.root / JOURNAL, journal.encode())  # the commit point
        except BaseException:
            for label, staged_name in entries:  # not committed: nothing to keep
                if staged_name is not None:
                    with contextlib.suppress(OSError):
                        (_target(self.root, label).parent / staged_name).unlink()
            raise
        _install(self.root, entries)


def _stage(target: Path, content: bytes) -> Path:
    staged = temporary_path(target)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    return staged


def _install(root: Path, entries: list[tuple[str, str | None]]) -> None:
    """Idempotent: a rename already done has no temporary left, a deletion done no target."""
    directories: set[Path] = set()
    for label, staged_name in entries:
        target = _target(root, label)
        if staged_name is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        else:
            with contextlib.suppress(FileNotFoundError):
                os.replace(target.parent / staged_name, target)
        directories.add(target.parent)
    for directory in directories:
        if directory.is_dir():
            fsync_directory(directory)
    (root / JOURNAL).unlink()
    fsync_directory(root)


def _target(root: Path, label: str) -> Path:
    parts = Path(label).parts
    if not parts or Path(label).is_absolute() or any(part in ("", ".", "..") for part in parts):
        raise JournalError(f"{label!r} is not a file of the directory")
    return root.joinpath(*parts)


def _recover_locked(root: Path) -> list[str]:
    done: list[str] = []
    journal = root / JOURNAL
    if journal.exists():
        try:
            document = json.loads(journal.read_bytes())
            entries = [
                (str(label), None if staged is None else str(staged)) for label, staged in document["files"]
            ]
            for _, staged in entries:
                if staged is not None and not TEMPORARY.fullmatch(staged):
                    raise JournalError(f"{staged!r} is not a spaprov temporary")
        except (ValueError, KeyError, TypeError) as error:
            raise JournalError(
                f"{journal}: cannot be replayed ({error}); move it away and check the files"
            ) from None
        _install(root, entries)
        done.append(f"finished an interrupted write of {len(entries)} files in {root} (from {JOURNAL})")
    removed = _remove_stale_temporaries(root)
    if removed:
        done.append(f"removed {removed} temporary files left by interrupted writes in {root}")
    return done


def _remove_stale_temporaries(root: Path) -> int:
    removed = 0
    now = time.time()
    for folder in _folders(root):
        with os.scandir(folder) as found:
            for entry in found:
                match = TEMPORARY.fullmatch(entry.name)
                if not match or not entry.is_file(follow_symlinks=False):
                    continue
                target = match["target"]
                locked_writer = (
                    folder != root or target == JOURNAL or target.startswith("credentials.htdigest")
                )
                if not locked_writer and now - entry.stat().st_mtime < UNLOCKED_STALE_SECONDS:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _folders(root: Path) -> Iterator[Path]:
    """`root` and every folder below it a batch may write (a restore writes nested ones too), not
    the dot folders (state databases) and not through symbolic links."""
    yield root
    for folder, directories, _ in os.walk(root):
        directories[:] = [
            name
            for name in directories
            if not name.startswith(".") and not os.path.islink(os.path.join(folder, name))
        ]
        for name in directories:
            yield Path(folder) / name


__all__ = ["JOURNAL", "LOCK", "JournalError", "Transaction", "locked", "pending_journal", "recover"]

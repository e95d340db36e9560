"""File I/O mechanics for files other processes also edit: atomic replacement (temp file in
the same directory, fsync, rename, directory fsync) and the one temp-name pattern every writer
uses (so that the start-up clean-up, spaprov.transaction, knows what is its own), and whether a
file holding a secret is open to other users.  Batches of files and the writers' lock are
spaprov.transaction's."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int = 0o600, *, sync_directory: bool = True) -> None:
    """Readers see the old file or the new one, never a mix; a crash leaves one of the two.
    `sync_directory=False` lets a batch of writes share one directory fsync (call
    fsync_directory once after them)."""
    temporary = temporary_path(path)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if sync_directory:
        fsync_directory(path.parent)


# "." + the target's name + "." + 12 hex digits + ".tmp", beside the target
TEMPORARY = re.compile(r"\.(?P<target>.+)\.[0-9a-f]{12}\.tmp")


def temporary_path(path: Path) -> Path:
    """A new temporary beside `path`, named by TEMPORARY."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_to_others(path: Path) -> int:
    """`path`'s permission bits when group or others have any access to it, else 0 (also when it
    cannot be stat'ed: whoever reads it says why)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0
    return mode if mode & (stat.S_IRWXG | stat.S_IRWXO) else 0

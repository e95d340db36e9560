"""The fingerprint of a profile directory: changes whenever one of its files is added, removed or
modified (stat only, never the contents).

It is a sum of one hash per file, so it can be kept up to date file by file (spaprov.config.tree
subtracts a changed file's old hash and adds its new one) and still equals a fresh scan of the
same directory: every worker of `serve --workers` computes the same value for the same files,
whether it followed the edits one by one or scanned the whole directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from spaprov.transaction import JOURNAL, pending_journal

_MODULUS = 1 << 128


def file_hash(label: str, status: os.stat_result) -> int:
    """One file's part: its path in the directory and what stat says changed (the inode and the
    change time too: a same-sized rewrite within one tick of the file system's clock is caught
    by the new inode of an atomic replace, or by the change time)."""
    text = f"{label}\0{status.st_mtime_ns}\0{status.st_size}\0{status.st_ino}\0{status.st_ctime_ns}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")


def combine(total: int, journal: bool) -> str:
    """The fingerprint from the sum of the file hashes (dot files are not counted, but a batch's
    journal coming or going must change it: a half-installed directory is never served)."""
    return f"{total % _MODULUS:032x}" + ("+journal" if journal else "")


def scan(root: Path) -> dict[str, int]:
    """Every file of the directory (not the dot files: state databases, locks, temporaries) with
    its hash; os.scandir, one stat per file."""
    entries: dict[str, int] = {}
    _scan(str(root), "", entries)
    return entries


def _scan(directory: str, prefix: str, entries: dict[str, int]) -> None:
    with os.scandir(directory) as found:
        for entry in found:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                _scan(entry.path, f"{prefix}{entry.name}/", entries)
            elif entry.is_file():
                label = prefix + entry.name
                entries[label] = file_hash(label, entry.stat())


def fingerprint(root: Path) -> str:
    return combine(sum(scan(root).values()), pending_journal(root) is not None)


__all__ = ["JOURNAL", "combine", "file_hash", "fingerprint", "scan"]

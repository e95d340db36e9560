"""Write the profile directory: a document as the TOML file the loader reads back, and a batch of
files written (or deleted) all or nothing, also across a crash (spaprov.transaction).  Both
writers, API edits and CSV import, go through here; each validates the whole directory with its
files laid over it (load_profile_directory's `overrides`), under the directory's writer lock,
before committing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spaprov.config.documents import without_empty_tables
from spaprov.config.toml_writer import dumps
from spaprov.transaction import locked


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """The file for a device, user or EM-profile document, empty tables left out.
    Raises TomlWriteError ("field: reason") for a value TOML or UTF-8 cannot hold."""
    return dumps(without_empty_tables(dict(document))).encode("utf-8")


def write_files(
    root: Path, files: Mapping[str, bytes | None], *, progress: Callable[[int], None] | None = None
) -> None:
    """Write each file (a label such as `users/alice.toml` under `root`), or delete it when its
    content is None, as one spaprov.transaction batch: all or nothing, also across a crash.
    Takes the directory's writer lock; a caller that already holds it (it validated under the
    lock) uses its Transaction's `commit` instead.  `progress`, when given, is called with the
    count of files staged after each one."""
    with locked(root, who="spaprov") as transaction:
        transaction.commit(files, progress=progress)


__all__ = ["document_bytes", "write_files"]

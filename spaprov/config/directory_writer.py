"""Write the profile directory: a document as the TOML file the loader reads back, and a batch of
files written (or deleted) atomically.  Both writers, API edits and CSV import, go through here;
each validates the whole directory with its files laid over it (load_profile_directory's
`overrides`) before calling `write_files`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spaprov.config.documents import without_empty_tables
from spaprov.config.toml_writer import dumps
from spaprov.fileio import atomic_write, fsync_directory


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """The file for a device, user or EM-profile document, empty tables left out.
    Raises TomlWriteError ("field: reason") for a value TOML or UTF-8 cannot hold."""
    return dumps(without_empty_tables(dict(document))).encode("utf-8")


def write_files(
    root: Path, files: Mapping[str, bytes | None], *, progress: Callable[[int], None] | None = None
) -> None:
    """Write each file (a label such as `users/alice.toml` under `root`), or delete it when its
    content is None.  Each file is replaced atomically; the directories are fsynced once, after
    the last file, so a batch of thousands shares the syncs; all is durable when this returns.
    `progress`, when given, is called with the count of files done after each one."""
    directories: set[Path] = set()
    for done, (label, content) in enumerate(files.items(), start=1):
        path = root / label
        if content is None:
            if path.exists():
                path.unlink()
                directories.add(path.parent)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, content, sync_directory=False)
            directories.add(path.parent)
        if progress is not None:
            progress(done)
    for directory in directories:
        fsync_directory(directory)


__all__ = ["document_bytes", "write_files"]

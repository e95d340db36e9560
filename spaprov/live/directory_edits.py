"""Edits to the profile directory: validated *before* anything is written (the changed documents
and the cross-references they take part in, against the directory as the server last read it:
spaprov.config.tree), then written all or nothing (one spaprov.transaction batch, under the
directory's writer lock) and reloaded file by file.  A bad edit changes nothing and returns every
problem."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spaprov.config import ConfigError, Problem
from spaprov.config.directory_writer import document_bytes
from spaprov.config.toml_writer import TomlWriteError
from spaprov.live.holder import ConfigHolder
from spaprov.live.reload import reload_now
from spaprov.transaction import locked


class EditRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class DirectoryEditor:
    def __init__(self, holder: ConfigHolder) -> None:
        self.holder = holder
        self._lock = asyncio.Lock()  # one edit at a time: each is validated against the last

    def encode(self, label: str, document: Mapping[str, Any]) -> bytes:
        """The file `label` holding `document`; EditRefused for a value that cannot be stored.
        An existing file keeps its comments and layout: only the fields that change are rewritten."""
        try:
            existing: bytes | None = (self.holder.root / label).read_bytes()
        except OSError:
            existing = None
        try:
            return document_bytes(document, existing)
        except TomlWriteError as error:
            field, _, reason = str(error).partition(": ")
            raise EditRefused([Problem(label, field, reason)]) from None

    async def apply(self, overrides: Mapping[str, bytes | None]) -> None:
        """Validate the directory with `overrides` laid over it; write them if it is good."""
        async with self._lock:
            root = self.holder.root
            try:
                await asyncio.to_thread(_validate_and_write, self.holder, root, overrides)
            except ConfigError as error:
                raise EditRefused(list(error.problems)) from None
            await reload_now(self.holder, list(overrides))


def _validate_and_write(holder: ConfigHolder, root: Path, overrides: Mapping[str, bytes | None]) -> None:
    """Under the directory's writer lock, so that no other writer (a `spaprov import` in another
    process) changes the directory between the validation and the write; all or nothing.  The
    rest of the directory is as the watcher last read it (a hand edit of the last few tens of
    milliseconds may not be in it yet: then the reload after the write refuses, and the last good
    configuration keeps serving)."""
    with locked(root, who="spaprov serve") as transaction:
        problems = holder.check_edit(overrides)
        if problems:
            raise ConfigError(problems)
        transaction.commit(overrides)

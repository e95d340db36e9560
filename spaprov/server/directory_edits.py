"""Edits to the profile directory: validated whole *before* anything is written, then written
all or nothing (one spaprov.transaction batch, under the directory's writer lock) and reloaded.
A bad edit changes nothing and returns every problem."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spaprov.config import ConfigError, Problem, load_profile_directory
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
                await asyncio.to_thread(_validate_and_write, root, overrides)
            except ConfigError as error:
                raise EditRefused(list(error.problems)) from None
            await reload_now(self.holder)


def _validate_and_write(root: Path, overrides: Mapping[str, bytes | None]) -> None:
    """Under the directory's writer lock, so that no other writer (a `spaprov import` in another
    process) changes the directory between the validation and the write; all or nothing."""
    with locked(root, who="spaprov serve") as transaction:
        load_profile_directory(root, overrides)
        transaction.commit(overrides)

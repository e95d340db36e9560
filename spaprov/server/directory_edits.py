"""Edits to the profile directory: validated whole *before* anything is written, then written
atomically and reloaded.  A bad edit changes nothing and returns every problem."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from spaprov.config import ConfigError, Problem, load_profile_directory
from spaprov.config.directory_writer import document_bytes, write_files
from spaprov.config.toml_writer import TomlWriteError
from spaprov.live.holder import ConfigHolder
from spaprov.live.reload import reload_now


class EditRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class DirectoryEditor:
    def __init__(self, holder: ConfigHolder) -> None:
        self.holder = holder
        self._lock = asyncio.Lock()  # one edit at a time: each is validated against the last

    @staticmethod
    def encode(label: str, document: Mapping[str, Any]) -> bytes:
        """The file `label` holding `document`; EditRefused for a value that cannot be stored."""
        try:
            return document_bytes(document)
        except TomlWriteError as error:
            field, _, reason = str(error).partition(": ")
            raise EditRefused([Problem(label, field, reason)]) from None

    async def apply(self, overrides: Mapping[str, bytes | None]) -> None:
        """Validate the directory with `overrides` laid over it; write them if it is good."""
        async with self._lock:
            root = self.holder.root
            try:
                await asyncio.to_thread(load_profile_directory, root, overrides)
            except ConfigError as error:
                raise EditRefused(list(error.problems)) from None
            await asyncio.to_thread(write_files, root, overrides)
            await reload_now(self.holder)

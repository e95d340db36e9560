"""Edits to the profile directory: validated whole *before* anything is written, then written
atomically and reloaded.  A bad edit changes nothing and returns every problem."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from spaprov.config import ConfigError, Problem, load_profile_directory
from spaprov.config.documents import without_empty_tables
from spaprov.config.toml_writer import TomlWriteError, dumps
from spaprov.fileio import atomic_delete, atomic_write
from spaprov.server.app_reload import reload_now
from spaprov.server.holder import ConfigHolder


class EditRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class DirectoryEditor:
    def __init__(self, holder: ConfigHolder) -> None:
        self.holder = holder
        self._lock = asyncio.Lock()  # one edit at a time: each is validated against the last

    @staticmethod
    def render(label: str, document: Mapping[str, Any]) -> bytes:
        try:
            return dumps(without_empty_tables(dict(document))).encode("utf-8")
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
            await asyncio.to_thread(_write, root, overrides)
            await reload_now(self.holder)


def _write(root: Any, overrides: Mapping[str, bytes | None]) -> None:
    for label, content in overrides.items():
        path = root / label
        if content is None:
            if path.exists():
                atomic_delete(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, content)

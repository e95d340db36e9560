"""A document as the TOML file the loader reads back.  Both writers of the profile directory, API
edits and CSV import, encode here; each validates the whole directory with its files laid over it
(load_profile_directory's `overrides`) under the directory's writer lock, then commits them as one
spaprov.transaction batch (all or nothing, also across a crash).

When the file exists already its bytes are passed as `existing`, and the new document is applied
onto them with tomlkit (a style-preserving TOML library): only the keys whose values change are
rewritten, so the administrator's comments, spacing and order survive an edit."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.container import Container
from tomlkit.items import AoT

from spaprov.config.documents import without_empty_tables
from spaprov.config.toml_writer import dumps


def document_bytes(document: Mapping[str, Any], existing: bytes | None = None) -> bytes:
    """The file for a device, user or EM-profile document, empty tables left out; with `existing`
    (the file as it is now) that file with only what differs changed.  Raises TomlWriteError
    ("field: reason") for a value TOML or UTF-8 cannot hold."""
    wanted = without_empty_tables(dict(document))
    fresh = dumps(wanted).encode("utf-8")  # also checks every value can be stored
    if existing is None:
        return fresh
    try:
        kept = _applied(existing.decode("utf-8"), wanted).encode("utf-8")
        # The merged file must read back as exactly the document, else the fresh file is written.
        if tomllib.loads(kept.decode("utf-8")) == tomllib.loads(fresh.decode("utf-8")):
            return kept
    except (UnicodeError, ValueError, TypeError, tomlkit.exceptions.TOMLKitError, RecursionError):
        pass
    return fresh


def _applied(text: str, wanted: Mapping[str, Any]) -> str:
    """`text` (TOML) with `wanted`'s values: changed keys updated in place, new ones added,
    dropped ones removed; an array of tables is replaced only when it changed."""
    parsed = tomlkit.parse(text)
    _apply(parsed, wanted)
    return tomlkit.dumps(parsed)


def _apply(container: Any, wanted: Mapping[str, Any]) -> None:
    for key in [key for key in container if key not in wanted]:
        del container[key]
    for key, value in wanted.items():
        if key in container:
            old = container[key]
            plain = old.unwrap() if hasattr(old, "unwrap") else old
            if plain == value:
                continue
            if isinstance(value, Mapping) and isinstance(old, Mapping | Container):
                _apply(old, value)
                continue
            if isinstance(old, AoT) and _tables(value) and len(old) == len(value):
                for table, wanted_table in zip(old, value, strict=True):  # table by table, in place
                    _apply(table, wanted_table)
                continue
        container[key] = value


def _tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)


__all__ = ["document_bytes"]

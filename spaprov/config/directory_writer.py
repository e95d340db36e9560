"""A document as the TOML file the loader reads back.  Both writers of the profile directory, API
edits and CSV import, encode here; each validates the whole directory with its files laid over it
(load_profile_directory's `overrides`) under the directory's writer lock, then commits them as one
spaprov.transaction batch (all or nothing, also across a crash)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spaprov.config.documents import without_empty_tables
from spaprov.config.toml_writer import dumps


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """The file for a device, user or EM-profile document, empty tables left out.
    Raises TomlWriteError ("field: reason") for a value TOML or UTF-8 cannot hold."""
    return dumps(without_empty_tables(dict(document))).encode("utf-8")


__all__ = ["document_bytes"]

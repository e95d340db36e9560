"""Search and paging of the directory's devices, users and EM profiles, shared by the API's list
endpoints and the console's list pages: `?q=` (case-insensitive text in the id or the main
fields), `&offset=` and `&limit=`.  Only the page is turned into documents, so a 10,000-device
site costs one pass over short strings per request, not 10,000 documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from spaprov.config.schema import Config

MAX_LIMIT = 1000
MAX_QUERY = 200
_WHOLE = re.compile(r"[0-9]{1,9}")


class BadPaging(ValueError):
    """A query parameter that is not acceptable; the message says which and why."""


@dataclass(frozen=True)
class Page:
    keys: tuple[str, ...]  # the ids on this page, in order
    total: int  # how many match the search
    offset: int
    limit: int | None  # None: every match

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.keys)
        return end if self.limit is not None and end < self.total else None

    @property
    def previous_offset(self) -> int | None:
        if self.offset == 0 or self.limit is None:
            return None
        return max(0, self.offset - self.limit)


def paging(query: Mapping[str, str], *, default_limit: int | None) -> tuple[str, int, int | None]:
    """(search text, offset, limit) from a request's query; BadPaging for bad values."""
    text = query.get("q", "").strip()
    if len(text) > MAX_QUERY:
        raise BadPaging(f"'q' may be at most {MAX_QUERY} characters")
    offset = _whole(query, "offset", 0, None) or 0
    limit = _whole(query, "limit", default_limit, MAX_LIMIT)
    return text, offset, limit


def _whole(query: Mapping[str, str], name: str, default: int | None, most: int | None) -> int | None:
    if name not in query:
        return default
    raw = query[name]
    low = 1 if name == "limit" else 0
    if not _WHOLE.fullmatch(raw) or int(raw) < low or (most is not None and int(raw) > most):
        bound = f" to {most}" if most is not None else " or more"
        raise BadPaging(f"'{name}' must be a whole number from {low}{bound}, not {raw[:32]!r}")
    return int(raw)


def search_text(config: Config, kind: str, key: str) -> str:
    """What `q` is matched against: the id and the fields an administrator looks for."""
    if kind == "devices":
        d = config.devices[key]
        return f"{key}\n{d.station_name}\n{d.host_user}\n{d.model.name}".lower()
    if kind == "users":
        u = config.users[key]
        return f"{key}\n{u.display_name}\n{' '.join(u.em_profiles)}".lower()
    return key


class _Index:
    """The sorted ids and their search texts of one configuration, built on first use: the
    configuration is immutable, so they hold until a reload replaces it."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self._kinds: dict[str, tuple[list[str], list[str]]] = {}

    def of(self, config: Config, kind: str) -> tuple[list[str], list[str]]:
        if config is not self._config:
            self._config, self._kinds = config, {}
        found = self._kinds.get(kind)
        if found is None:
            table: Mapping[str, object] = getattr(config, kind)
            keys = sorted(table)
            found = self._kinds[kind] = (keys, [search_text(config, kind, key) for key in keys])
        return found


_INDEX = _Index()


def page(config: Config, kind: str, text: str, offset: int, limit: int | None) -> Page:
    keys, texts = _INDEX.of(config, kind)
    if text:
        needle = text.lower()
        keys = [key for key, haystack in zip(keys, texts, strict=True) if needle in haystack]
    end = None if limit is None else offset + limit
    return Page(tuple(keys[offset:end]), len(keys), offset, limit)

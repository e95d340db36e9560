"""Rendered profiles, keyed by configuration generation, route kind, device and identity, so a
resync storm re-renders nothing that has not changed.  Bounded in entries and in bytes (least
recently used first): a profile carries every per-user slot of its model (about 5 KB on an
SPA525G2), and with `--workers` each process keeps its own cache, so an entry count alone let
a 100,000-phone storm hold about 120 MB per worker."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    headers: CIMultiDictProxy[str]  # of a 200: built once here, copied into each response


def _headers(etag: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(
        CIMultiDict(
            {"Content-Type": "text/xml; charset=us-ascii", "ETag": etag, "Cache-Control": "private, no-cache"}
        )
    )


CacheKey = tuple[int, str, str, str, bool]


# What an entry costs beyond its body: the key tuple, the Rendered object and its headers.
ENTRY_OVERHEAD = 1024


class RenderCache:
    def __init__(self, capacity: int = 20_000, capacity_bytes: int = 32 * 1024 * 1024) -> None:
        self._entries: OrderedDict[CacheKey, Rendered] = OrderedDict()
        self._capacity = capacity
        self._capacity_bytes = capacity_bytes
        self.bytes = 0  # bodies plus ENTRY_OVERHEAD each
        self.hits = 0
        self.misses = 0

    def get(self, key: CacheKey) -> Rendered | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: CacheKey, body: bytes) -> Rendered:
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        entry = Rendered(body, etag, _headers(etag))
        replaced = self._entries.pop(key, None)
        if replaced is not None:
            self.bytes -= len(replaced.body) + ENTRY_OVERHEAD
        self._entries[key] = entry
        self.bytes += len(body) + ENTRY_OVERHEAD
        while self._entries and (len(self._entries) > self._capacity or self.bytes > self._capacity_bytes):
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= len(evicted.body) + ENTRY_OVERHEAD
        return entry

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

"""Rendered profiles, keyed by configuration generation, route kind, device and identity, so a
resync storm re-renders nothing that has not changed.  Bounded (least recently used first)."""

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


class RenderCache:
    def __init__(self, capacity: int = 20_000) -> None:
        self._entries: OrderedDict[CacheKey, Rendered] = OrderedDict()
        self._capacity = capacity
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
        self._entries[key] = entry
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

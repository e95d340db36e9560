"""The render cache is bounded in bytes as well as entries, least recently used first."""

from __future__ import annotations

from spaprov.live.cache import ENTRY_OVERHEAD, CacheKey, RenderCache


def key(n: int) -> CacheKey:
    return (1, "host", f"{n:012x}", "", False)


def test_bytes_bound_evicts_the_least_recently_used() -> None:
    body = b"x" * 4000
    cache = RenderCache(capacity=1000, capacity_bytes=3 * (len(body) + ENTRY_OVERHEAD))
    for n in range(3):
        cache.put(key(n), body)
    assert cache.get(key(0)) is not None  # 0 is now the most recently used
    cache.put(key(3), body)
    assert len(cache) == 3 and cache.bytes == 3 * (len(body) + ENTRY_OVERHEAD)
    assert cache.get(key(1)) is None  # the least recently used went
    assert all(cache.get(key(n)) is not None for n in (0, 2, 3))


def test_entry_bound_still_holds_and_replacing_counts_once() -> None:
    cache = RenderCache(capacity=2, capacity_bytes=1 << 30)
    for n in range(5):
        cache.put(key(n), b"abc")
    assert len(cache) == 2 and cache.bytes == 2 * (3 + ENTRY_OVERHEAD)
    cache.put(key(4), b"abcdef")  # the same key again: its old size is taken off
    assert len(cache) == 2 and cache.bytes == (3 + ENTRY_OVERHEAD) + (6 + ENTRY_OVERHEAD)
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_a_body_bigger_than_the_cache_is_served_but_not_kept() -> None:
    cache = RenderCache(capacity_bytes=100)
    entry = cache.put(key(0), b"y" * 500)
    assert entry.body == b"y" * 500 and entry.etag.startswith('"')
    assert len(cache) == 0 and cache.bytes == 0

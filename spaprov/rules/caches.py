"""The rule language's bounded caches, by name: what each caches, the longest key it accepts
(longer texts are computed uncached), and a way to empty them all (a cold start).  For
benchmarks and memory checks; nothing in spaprov needs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spaprov.rules import macros, parser, urls, values


@dataclass(frozen=True)
class Cache:
    name: str  # what it caches, in a word
    key_length: int  # the longest text it keeps
    cached: Any  # the functools.lru_cache wrapper (cache_info, cache_clear, __wrapped__)
    fill: Callable[[str], object]  # the public call that goes through it


TEMPLATES = Cache("templates", macros._CACHED_TEXT, macros._compile, macros.Template.compile)
URLS = Cache("URLs", urls.CACHED_URL_LENGTH, urls._split_cached, urls.split_url)
NUMBERS = Cache("numbers", values._CACHED_TEXT, values._classify_cached, values.classify)
RULES = Cache("rules", parser.CACHED_RULE_LENGTH, parser._parse_cached, parser.parse_cached)
ALL = (TEMPLATES, URLS, NUMBERS, RULES)


def clear(*caches: Cache) -> None:
    """Empty the given caches (all of them when none is named)."""
    for cache in caches or ALL:
        cache.cached.cache_clear()

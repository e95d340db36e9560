"""Worst-case memory of the rule-language caches: each filled to capacity with the longest keys
it accepts (distinct, random), measured with tracemalloc.

Run from the repository root: `python bench/rule_caches.py`.  Every cache in spaprov/rules takes
only short keys (longer texts are computed uncached), so none of these figures can grow with
what a client sends.
"""

from __future__ import annotations

import gc
import secrets
import sys
import tracemalloc
from collections.abc import Callable
from functools import _lru_cache_wrapper
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaprov.rules.macros import _CACHED_TEXT, Template, _compile
from spaprov.rules.parser import CACHED_RULE_LENGTH, _parse_cached, parse_cached
from spaprov.rules.urls import CACHED_URL_LENGTH, _split_cached, split_url
from spaprov.rules.values import _CACHED_TEXT as CACHED_NUMBER_LENGTH
from spaprov.rules.values import _classify_cached, classify


def retained(fill: Callable[[], object]) -> float:
    """MiB still allocated after `fill` ran and garbage was collected."""
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    fill()
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (after - before) / 2**20


def fill_templates(count: int) -> None:
    for _ in range(count):
        text = "/$A" + secrets.token_hex(_CACHED_TEXT // 2)[: _CACHED_TEXT - 6] + "$MA"
        assert len(text) == _CACHED_TEXT
        Template.compile(text)


def fill_urls(count: int) -> None:
    for _ in range(count):
        url = "http://x/" + secrets.token_hex(CACHED_URL_LENGTH // 2)[: CACHED_URL_LENGTH - 11] + "?q"
        assert len(url) == CACHED_URL_LENGTH
        split_url(url)


def fill_numbers(count: int) -> None:
    for n in range(count):
        classify(str(10 ** (CACHED_NUMBER_LENGTH - 1) + n))


def fill_rules(count: int) -> None:
    for _ in range(count):
        alternatives = [
            f'( "$A" eq "{secrets.token_hex(8)}" )? /{secrets.token_hex(4)}$MA' for _ in range(20)
        ]
        text = " | ".join(alternatives)[:CACHED_RULE_LENGTH]
        parse_cached(text[: text.rfind(" | ")])


def main() -> None:
    cases: list[tuple[str, _lru_cache_wrapper[Any], Callable[[int], None]]] = [
        (f"templates of {_CACHED_TEXT} chars", _compile, fill_templates),
        (f"URLs of {CACHED_URL_LENGTH} chars", _split_cached, fill_urls),
        (f"numbers of {CACHED_NUMBER_LENGTH} digits", _classify_cached, fill_numbers),
        (f"rules of <= {CACHED_RULE_LENGTH} chars (with their templates)", _parse_cached, fill_rules),
    ]
    for label, cache, fill in cases:
        cache.cache_clear()
        size = cache.cache_info().maxsize or 0
        mib = retained(lambda f=fill, n=size: f(n + n // 10))  # type: ignore[misc]
        print(f"{cache.__wrapped__.__qualname__:>18}: {size:5} {label:50} {mib:6.1f} MiB")


if __name__ == "__main__":
    main()

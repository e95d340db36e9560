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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaprov.rules import caches
from spaprov.rules.macros import Template
from spaprov.rules.parser import CACHED_RULE_LENGTH, parse_cached
from spaprov.rules.urls import CACHED_URL_LENGTH, split_url
from spaprov.rules.values import classify

CACHED_TEMPLATE_LENGTH = caches.TEMPLATES.key_length
CACHED_NUMBER_LENGTH = caches.NUMBERS.key_length


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
        text = "/$A" + secrets.token_hex(CACHED_TEMPLATE_LENGTH // 2)[: CACHED_TEMPLATE_LENGTH - 6] + "$MA"
        assert len(text) == CACHED_TEMPLATE_LENGTH
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
    cases: list[tuple[str, caches.Cache, Callable[[int], None]]] = [
        (f"templates of {CACHED_TEMPLATE_LENGTH} chars", caches.TEMPLATES, fill_templates),
        (f"URLs of {CACHED_URL_LENGTH} chars", caches.URLS, fill_urls),
        (f"numbers of {CACHED_NUMBER_LENGTH} digits", caches.NUMBERS, fill_numbers),
        (f"rules of <= {CACHED_RULE_LENGTH} chars (with their templates)", caches.RULES, fill_rules),
    ]
    for label, named, fill in cases:
        cache = named.cached
        caches.clear(named)
        size = cache.cache_info().maxsize or 0
        mib = retained(lambda f=fill, n=size: f(n + n // 10))  # type: ignore[misc]
        print(f"{cache.__wrapped__.__qualname__:>18}: {size:5} {label:50} {mib:6.1f} MiB")


if __name__ == "__main__":
    main()

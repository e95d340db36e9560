"""Numbers and versions in conditions: classification and ordering.

An unquoted operand is an integer (`300`, `-1`) or a version (`2.0.6`, `7.5.2b`, `2.0.3(0412s)`).
Versions compare component by component, numerically, a missing component counting as 0; then by
suffix (none < any suffix; suffixes compare as strings).  An integer compares as the version `N`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_INTEGER = re.compile(r"-?[0-9]+")
_VERSION = re.compile(r"([0-9]+(?:\.[0-9]+)*)(?:\(([^()]*)\)|([A-Za-z][A-Za-z0-9]*))?")


@dataclass(frozen=True)
class Version:
    numbers: tuple[int, ...]
    suffix: str = ""


# Texts longer than this are classified without the cache: full of 64-character numbers it
# holds 1.5 MiB (measured).
_CACHED_TEXT = 64


def classify(text: str) -> Version | None:
    """The number or version `text` spells, or None when it is neither (an empty string, a word,
    or digits beyond Python's int conversion limit of 4,300: no phone compares such numbers)."""
    return _classify_cached(text) if len(text) <= _CACHED_TEXT else _classify(text)


def _classify(text: str) -> Version | None:
    try:
        return _parse_number(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        return None


def _parse_number(text: str) -> Version | None:
    if _INTEGER.fullmatch(text):
        return Version((int(text),))
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.group(1).split("."))
    suffix = match.group(2) if match.group(2) is not None else (match.group(3) or "")
    return Version(numbers, suffix)


_classify_cached = lru_cache(maxsize=4096)(_classify)


def compare(a: Version, b: Version) -> int:
    """-1, 0 or 1 as `a` orders before, with or after `b`."""
    width = max(len(a.numbers), len(b.numbers))
    left = a.numbers + (0,) * (width - len(a.numbers))
    right = b.numbers + (0,) * (width - len(b.numbers))
    if left != right:
        return -1 if left < right else 1
    if a.suffix != b.suffix:
        return -1 if a.suffix < b.suffix else 1
    return 0

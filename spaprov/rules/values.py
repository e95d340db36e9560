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
    is_integer: bool = False


@lru_cache(maxsize=4096)
def classify(text: str) -> Version | None:
    """The number or version `text` spells, or None when it is neither (an empty string, a word)."""
    if _INTEGER.fullmatch(text):
        return Version((int(text),), "", True)
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.group(1).split("."))
    suffix = match.group(2) if match.group(2) is not None else (match.group(3) or "")
    return Version(numbers, suffix)


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

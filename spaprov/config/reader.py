"""Typed access to one TOML table that records problems instead of stopping at the first."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from spaprov.config.errors import Problem

T = TypeVar("T")
# XML 1.0 cannot carry these even escaped (its Char production: tab, LF, CR, U+0020-U+D7FF,
# U+E000-U+FFFD, U+10000-U+10FFFF); the phone's parser would reject the profile.  So: C0
# controls but tab/LF/CR, lone surrogates, U+FFFE and U+FFFF; and DEL, which XML discourages.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def not_xml(value: str) -> str | None:
    """Why `value` cannot go into an XML profile (naming the first bad character), or None."""
    found = _NOT_XML.search(value)
    if found is None:
        return None
    point = ord(found.group())
    kind = (
        "a control character"
        if point < 0x80
        else "a lone surrogate"
        if point < 0xE000
        else "the noncharacter"
    )
    return f"contains {kind} U+{point:04X} at position {found.start() + 1}, which XML 1.0 cannot carry"


class TableReader:
    def __init__(
        self, file: str, table: Mapping[str, Any], problems: list[Problem], prefix: str = ""
    ) -> None:
        self.file = file
        self._table = table
        self._problems = problems
        self._prefix = prefix
        self._used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def problem(self, key: str, reason: str) -> None:
        self._problems.append(Problem(self.file, self.name(key) if key else self._prefix.rstrip("."), reason))

    def _get(
        self, key: str, kind: type | tuple[type, ...], kind_name: str, default: Any, required: bool
    ) -> Any:
        self._used.add(key)
        if key not in self._table:
            if required:
                self.problem(key, "is required")
            return default
        value = self._table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(key, f"must be {kind_name}, not {type(value).__name__}")
            return default
        return value

    def text(
        self,
        key: str,
        default: str = "",
        *,
        required: bool = False,
        max_length: int = 512,
        pattern: re.Pattern[str] | None = None,
        pattern_hint: str = "",
    ) -> str:
        value: str = self._get(key, str, "a string", default, required)
        if value is default:
            return value
        if len(value) > max_length:
            self.problem(key, f"is longer than {max_length} characters")
            return default
        if (reason := not_xml(value)) is not None:
            self.problem(key, reason)
            return default
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(key, f"{value!r} is not {pattern_hint}")
            return default
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int, required: bool = False) -> int:
        value: int = self._get(key, int, "an integer", default, required)
        if value is not default and not minimum <= value <= maximum:
            self.problem(key, f"must be between {minimum} and {maximum}, not {value}")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value: bool = self._get(key, bool, "true or false", default, False)
        return value

    def choice(self, key: str, choices: Iterable[str], default: str, *, required: bool = False) -> str:
        options = list(choices)
        value = self.text(key, default, required=required)
        if value not in options:
            self.problem(key, f"{value!r} is not one of {', '.join(options)}")
            return default
        return value

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", [], required)
        if not all(isinstance(item, str) for item in value):
            self.problem(key, "must be a list of strings")
            return ()
        for item in value:
            if (reason := not_xml(item)) is not None:
                self.problem(key, reason)
                return ()
        return tuple(value)

    def table(self, key: str) -> TableReader:
        value = self._get(key, dict, "a table", {}, False)
        return TableReader(self.file, value, self._problems, f"{self._prefix}{key}.")

    def tables(self, key: str, build: Callable[[TableReader], T | None]) -> tuple[T, ...]:
        """An array of tables (`[[lines]]`), each built by `build` with its own field prefix."""
        value = self._get(key, list, "an array of tables", [], False)
        built: list[T] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.problem(key, f"item {index + 1} must be a table")
                continue
            reader = TableReader(self.file, item, self._problems, f"{self._prefix}{key}[{index + 1}].")
            result = build(reader)
            reader.finish()
            if result is not None:
                built.append(result)
        return tuple(built)

    def finish(self) -> None:
        """Report fields nobody asked for: a typo must not be silently ignored."""
        for key in self._table:
            if key not in self._used:
                close = difflib.get_close_matches(key, sorted(self._used), n=1, cutoff=0.6)
                self.problem(key, f"unknown field (did you mean {close[0]!r}?)" if close else "unknown field")

"""Write the profile directory's TOML: strings, integers, booleans, lists of strings, tables and
arrays of tables — all that devices, users and EM profiles hold (tomllib only reads)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spaprov.config.reader import not_xml


class TomlWriteError(ValueError):
    pass


def dumps(document: Mapping[str, Any]) -> str:
    lines: list[str] = []
    scalars = {k: v for k, v in document.items() if not _is_table_array(v) and not isinstance(v, Mapping)}
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value, key)}")
    for key, value in document.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_key(key)}]"] + [
                f"{_key(k)} = {_value(v, f'{key}.{k}')}" for k, v in value.items()
            ]
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{_key(key)}]]"]
                lines += [f"{_key(k)} = {_value(v, f'{key}.{k}')}" for k, v in item.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)


def _key(key: str) -> str:
    if (reason := not_xml(key)) is not None and "surrogate" in reason:
        raise TomlWriteError(f"{key.encode('utf-8', 'backslashreplace').decode()}: the field name {reason}")
    if key and all(c.isalnum() or c in "_-" for c in key):
        return key
    return _string(key)


def _value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if (reason := not_xml(value)) is not None and "surrogate" in reason:  # not encodable as UTF-8
            raise TomlWriteError(f"{where}: {reason}")
        return _string(value)
    if isinstance(value, list) and all(isinstance(item, str | int | bool) for item in value):
        return "[" + ", ".join(_value(item, where) for item in value) + "]"
    raise TomlWriteError(f"{where}: {type(value).__name__} values cannot be stored")


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'

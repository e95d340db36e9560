"""Translate Lark's parse failures into RuleSyntaxError messages a person understands."""

from __future__ import annotations

import contextlib
import re

from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from spaprov.rules.errors import RuleSyntaxError

_WORDS = {
    "BAR": '"|"',
    "LPAR": '"("',
    "RPAR": '")"',
    "CLAUSE_END": '"?" or "!"',
    "LSQB": '"["',
    "RSQB": '"]"',
    "SEMI": '";"',
    "AND": '"and"',
    "OP": "a comparison operator (eq, ne, lt, le, gt, ge)",
    "STRING": "a quoted string",
    "BARE": "a number, version or macro",
    "OPTNAME": "an option (--uid, --pwd, --key, --post, --alias)",
    "OPTWORD": "the option's value",
    "URL": "a URL",
    "$END": "the end of the rule",
}
_ORDER = list(_WORDS)
_OR_WORDS = {"or", "OR", "||"}
_NOT_WORDS = {"not", "NOT"}
_CONDITION_HINT = re.compile(r'\band\b|\b(?:eq|ne|lt|le|gt|ge)\b|!=|<|>|^\s*!|"\s*=\s*"|"\s*=|=\s*[^"\s]')
_WORD_AT = re.compile(r"\|\||&&|[^\s\"()\[\]|?!=<>;]+")


def translate(error: UnexpectedInput, source: str) -> RuleSyntaxError:
    line, column, text, pos, expected = _locate(error, source)
    if _previous_word(source, pos) in _NOT_WORDS:  # point at the "not", not at what follows it
        pos = source.rfind("not", 0, pos) if "not" in source[:pos] else source.rfind("NOT", 0, pos)
        line, column = _line_column(source, pos)
        text = source[pos : pos + 3]
    message = _special_case(source, pos, text, expected) or _generic(text, expected)
    words = tuple(_WORDS[name] for name in _sorted(expected))
    return RuleSyntaxError(line, column, message, source=source, text=text, expected=words)


def _locate(error: UnexpectedInput, source: str) -> tuple[int, int, str, int, set[str]]:
    if isinstance(error, UnexpectedToken):
        token = error.token
        expected = set(error.expected)
        if error.interactive_parser is not None:
            # Lark's `expected` is the merged LALR look-ahead; accepts() tries each terminal.
            with contextlib.suppress(LarkError):
                expected = set(error.interactive_parser.accepts())  # type: ignore[no-untyped-call]
        if token.type == "$END":
            end = _end_of_content(source)
            line, column = _line_column(source, end)
            return line, column, "", end, expected
        return token.line or 1, token.column or 1, str(token), token.start_pos or 0, expected
    assert isinstance(error, UnexpectedCharacters)
    pos = error.pos_in_stream or 0
    match = _WORD_AT.match(source, pos)
    text = match.group(0) if match else source[pos : pos + 1]
    return error.line, error.column, text, pos, set(error.allowed or ())


def _special_case(source: str, pos: int, text: str, expected: set[str]) -> str | None:
    word = _WORD_AT.match(source, pos)
    word_text = word.group(0) if word else ""
    if source.startswith('"', pos) and source.count('"', pos) % 2 == 1:
        return 'unclosed quote: this string has no closing "'
    if word_text in _OR_WORDS:
        return (
            f'"{word_text}" is not part of the rule language: a condition joins comparisons with '
            '"and" only; split it into alternatives instead: (A)? url | (B)? url'
        )
    if word_text == "&&":
        return 'comparisons are joined with "and", not "&&"'
    if source.startswith("=", pos) and source[:pos].rstrip().endswith("="):
        return '"==" is not an operator: equality is "eq" (or a single "=")'
    if word_text in _NOT_WORDS or _previous_word(source, pos) in _NOT_WORDS:
        return (
            '"not" is not part of the rule language: invert the comparison instead (ne for eq, ge for lt, …)'
        )
    inside_condition = "OP" in expected or "BARE" in expected or "STRING" in expected
    if source.startswith("(", pos) and inside_condition and not source[:pos].strip():
        # Only a trigger refuses "(" as its first character: every other kind opens with ( )?.
        return _bare_trigger(source)
    if source.startswith("(", pos) and inside_condition:
        return (
            "nested parentheses are not part of the rule language: a condition is comparisons "
            'joined with "and" inside one ( )?'
        )
    if "OPTWORD" in expected and text.startswith("-"):
        return f'unexpected {text!r}: a value that starts with "-" must be quoted, as in "{text}"'
    if expected == {"CLAUSE_END"}:
        return _missing_clause_end(source, pos)
    if "RSQB" in expected and "OPTNAME" in expected and not text:
        return 'the options are not closed: expected "]"'
    if expected == {"URL"}:
        return "expected a URL after the options" if not text else f"expected a URL, not {text!r}"
    if "RPAR" in expected and not text:
        return 'the parenthesis is not closed: expected ")"'
    return None


def _bare_trigger(source: str) -> str:
    message = "a trigger rule is a bare condition, without the ( )? wrapper"
    wrapped = re.fullmatch(r"\s*\(\s*(.*?)\s*\)\s*\??\s*", source, re.DOTALL)
    return f"{message}: write {wrapped.group(1)}" if wrapped and wrapped.group(1) else message


def _missing_clause_end(source: str, pos: int) -> str:
    opening = source.rfind("(", 0, pos)
    inside = source[opening + 1 : pos] if opening != -1 else ""
    if ";" in inside:
        return 'expected "!" after the assignments'
    if _CONDITION_HINT.search(inside) and not re.fullmatch(
        r'\s*[A-Za-z][\w\-]*\s*=\s*"[^"]*"\s*\)\s*', inside
    ):
        return 'expected "?" after the condition'
    return 'expected "?" after a condition or "!" after assignments'


def _generic(text: str, expected: set[str]) -> str:
    found = f"unexpected {text!r}" if text else "unexpected end of the rule"
    if not expected:
        return found
    words = [_WORDS[name] for name in _sorted(expected)]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{found}: expected {listed}"


def _sorted(names: set[str]) -> list[str]:
    return sorted((n for n in names if n in _WORDS), key=_ORDER.index)


def _previous_word(source: str, pos: int) -> str:
    words = re.findall(r"[A-Za-z]+", source[max(0, pos - 16) : pos])
    return words[-1] if words and source[:pos].rstrip().endswith(words[-1]) else ""


def _end_of_content(source: str) -> int:
    """Where the rule's content ends: before trailing whitespace and any trailing comment."""
    end = len(source)
    comment = _comment_start(source)
    if comment is not None:
        end = comment
    return len(source[:end].rstrip())


def _comment_start(source: str) -> int | None:
    quoted = False
    for index, char in enumerate(source):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return index
    return None


def _line_column(source: str, pos: int) -> tuple[int, int]:
    line = source.count("\n", 0, pos) + 1
    column = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return line, column

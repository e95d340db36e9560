"""The Lark LALR parser over grammar/profile_rule.lark, built once per process, and its terminals."""

from __future__ import annotations

import re
from functools import cache

from lark import Lark

from spaprov.resources import resource_dir


@cache
def lark_parser() -> Lark:
    text = (resource_dir("grammar") / "profile_rule.lark").read_text(encoding="utf-8")
    return Lark(
        text,
        parser="lalr",
        lexer="contextual",
        start=["rule", "trigger"],
        maybe_placeholders=False,
    )


@cache
def terminal_pattern(name: str) -> re.Pattern[str]:
    """The regular expression of the grammar's terminal `name` (`OPTWORD`…), for code that must
    agree with the grammar about what a token may hold."""
    return re.compile(lark_parser().get_terminal(name).pattern.to_regexp())

"""The Lark LALR parser over grammar/profile_rule.lark, built once per process."""

from __future__ import annotations

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

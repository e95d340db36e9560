"""Canonical text for a rule: parses back to an equal tree.

Canonical means: word operators (no XML escaping needed), `$SWVER` written out instead of the
legacy implicit left operand, `GPP_A` for `a`, one space between parts, ` | ` between
alternatives, no trailing `;`, option values quoted only when they must be, no comments.
"""

from __future__ import annotations

from spaprov.rules.ast import Alternative, Comparison, Operand, Options, Rule, RuleKind
from spaprov.rules.grammar import terminal_pattern
from spaprov.rules.macros import Template


def format_rule(rule: Rule) -> str:
    if rule.kind is RuleKind.TRIGGER:
        if not rule.alternatives or rule.alternatives[0].condition is None:
            return ""
        return " and ".join(_comparison(c) for c in rule.alternatives[0].condition.comparisons)
    return " | ".join(_alternative(a) for a in rule.alternatives)


def _alternative(alternative: Alternative) -> str:
    parts = []
    if alternative.condition is not None:
        parts.append("(" + " and ".join(_comparison(c) for c in alternative.condition.comparisons) + ")?")
    if alternative.assignments:
        parts.append("(" + "; ".join(f'{a.name} = "{a.value.text}"' for a in alternative.assignments) + ")!")
    if alternative.options is not None:
        parts.append(_options(alternative.options))
    if alternative.url is not None:
        parts.append(alternative.url.text)
    return " ".join(parts)


def _comparison(comparison: Comparison) -> str:
    return f"{_operand(comparison.left)} {comparison.op.value} {_operand(comparison.right)}"


def _operand(operand: Operand) -> str:
    return f'"{operand.template.text}"' if operand.quoted else operand.template.text


def _options(options: Options) -> str:
    items: list[str] = []
    for name, value in (
        ("--uid", options.uid),
        ("--pwd", options.pwd),
        ("--key", options.key),
        ("--post", options.post),
        ("--alias", options.alias),
    ):
        if value is not None:
            items.append(f"{name} {_option_value(value)}")
    if options.delta:
        items.append("--delta")
    return "[" + " ".join(items) + "]"


def _option_value(value: Template) -> str:
    text = value.text
    return text if terminal_pattern("OPTWORD").fullmatch(text) else f'"{text}"'  # else a STRING

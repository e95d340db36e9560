"""The SPA profile-rule language: parse, evaluate (with trace), lint and format.

Pure: no I/O.  `parse(text)` raises only RuleSyntaxError; `evaluate(rule_or_text, state)` says
what a phone in that state would fetch.
"""

from spaprov.rules.ast import Rule, RuleKind
from spaprov.rules.errors import RuleSyntaxError
from spaprov.rules.evaluate import Evaluation, OptionValues, evaluate
from spaprov.rules.formatter import format_rule
from spaprov.rules.lint import LintWarning, lint
from spaprov.rules.macros import ExpansionTooLarge, StateError, normalize_state
from spaprov.rules.parser import parse

format = format_rule  # noqa: A001 - the documented name of the canonical formatter

__all__ = [
    "Evaluation",
    "ExpansionTooLarge",
    "LintWarning",
    "OptionValues",
    "Rule",
    "RuleKind",
    "RuleSyntaxError",
    "StateError",
    "evaluate",
    "format",
    "format_rule",
    "lint",
    "normalize_state",
    "parse",
]

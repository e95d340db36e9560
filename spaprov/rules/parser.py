"""`parse()`: rule text → `Rule`, raising only RuleSyntaxError whatever the input."""

from __future__ import annotations

from functools import lru_cache

from lark.exceptions import LarkError, UnexpectedInput

from spaprov.rules.ast import Rule, RuleKind
from spaprov.rules.build import Builder
from spaprov.rules.errors import RuleSyntaxError
from spaprov.rules.grammar import lark_parser
from spaprov.rules.syntax_errors import translate

# Flat-profile values on the phone are far shorter; this only bounds work on hostile input.
MAX_RULE_LENGTH = 16384


def parse(text: str, kind: RuleKind | str = RuleKind.PROFILE) -> Rule:
    """Parse `text` as a rule of `kind` (profile, upgrade, report or trigger)."""
    if not isinstance(text, str):
        raise RuleSyntaxError(1, 1, f"a rule is text, not {type(text).__name__}")
    try:
        rule_kind = RuleKind(kind)
    except ValueError:
        raise RuleSyntaxError(1, 1, f"unknown rule kind {kind!r}", source=text) from None
    if len(text) > MAX_RULE_LENGTH:
        raise RuleSyntaxError(
            1, 1, f"the rule is {len(text)} characters long; the limit is {MAX_RULE_LENGTH}", source=text
        )
    start = "trigger" if rule_kind is RuleKind.TRIGGER else "rule"
    try:
        tree = lark_parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise translate(error, text) from None
    except LarkError as error:  # pragma: no cover - Lark raises UnexpectedInput for bad text
        raise RuleSyntaxError(1, 1, f"cannot parse the rule: {error}", source=text) from None
    return Builder(text, rule_kind).rule(tree)


# Rules up to this many characters are cached (real ones are a few hundred).  A parsed rule
# weighs ~45 bytes per character of text, so 256 of them hold ~6 MB (bench/rule_caches.py
# measures ~7 MiB with their templates); it took 1024 rules of up to 16 KiB: ~750 MB.
CACHED_RULE_LENGTH = 512


def parse_cached(text: str, kind: RuleKind = RuleKind.PROFILE) -> Rule:
    """`parse` with a cache, for callers that evaluate the same rule text again and again."""
    if len(text) > CACHED_RULE_LENGTH:
        return parse(text, kind)
    return _parse_cached(text, kind)


_parse_cached = lru_cache(maxsize=256)(parse)

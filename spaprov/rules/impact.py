"""What a rule change does to the phones: for each phone state, the URL and the kind of profile
(mobile, host, default) it fetches with the old rule and with the new one.  Pure: no I/O.

Evaluating 100,000 phones one by one costs two evaluations each.  Phones are grouped instead by
the part of their state that can change the outcome, and each group is evaluated once:

- a macro the rules never read in a condition or a URL (a password only sent as `--pwd`) is
  left out of the key;
- a macro read only as a whole quoted operand (`"$MUID"`) compared with eq/ne against constant
  text is reduced to which of those constants it equals, or "none of them": every comparison
  then comes out the same (so `"$MUID" ne ""` puts every logged-in user in one group);
- any other use (in a URL, a substring, a version comparison) keys on the exact value.

The outcome of a group is the evaluation of its first phone's real state, so grouping never
changes an answer, only how many evaluations are made (one exception: a state whose values are
long enough to hit the rule's expansion limits gets the outcome of its group's first phone; the
states built from a profile directory are far below those limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from spaprov.rules.ast import Rule
from spaprov.rules.evaluate import evaluate
from spaprov.rules.macros import ExpansionTooLarge, MacroRef, StateError, Template

_OTHER = "\0other"  # a value equal to none of a macro's compared constants
_EXACT = None  # the macro keys on its exact value


@dataclass(frozen=True)
class Outcome:
    """What one phone fetches: `kind` is mobile, host or default (from the --uid the chosen
    alternative sends), `none` when no alternative applies, `error` when it cannot evaluate."""

    url: str | None
    kind: str
    error: str | None = None


@dataclass(frozen=True)
class PhoneImpact:
    key: str  # the device (its MAC)
    old: Outcome
    new: Outcome

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class Impact:
    phones: tuple[PhoneImpact, ...]  # in the order given
    groups: int  # distinct states that were evaluated (twice each: old and new rule)

    @property
    def changed(self) -> int:
        return sum(1 for phone in self.phones if phone.changed)


def outcome(rule: Rule, state: Mapping[str, str]) -> Outcome:
    """Evaluate `rule` (macro names as keys) and say which URL and profile kind it leads to."""
    try:
        result = evaluate(rule, state)
    except (ExpansionTooLarge, StateError) as error:
        return Outcome(None, "error", str(error))
    if result.alternative is None:
        return Outcome(None, "none")
    return Outcome(result.url, _kind(rule, result.alternative))


def impact(old: Rule, new: Rule, phones: Iterable[tuple[str, Mapping[str, str]]]) -> Impact:
    """The outcome of every phone (key, macro state) under `old` and `new`."""
    reading = _readings((old, new))
    names = sorted(reading)
    outcomes: dict[tuple[str | None, ...], tuple[Outcome, Outcome]] = {}
    result: list[PhoneImpact] = []
    for key, state in phones:
        signature = tuple(_reduced(state.get(name), reading[name]) for name in names)
        pair = outcomes.get(signature)
        if pair is None:
            pair = outcomes[signature] = (outcome(old, state), outcome(new, state))
        result.append(PhoneImpact(key, *pair))
    return Impact(tuple(result), len(outcomes))


def _kind(rule: Rule, index: int) -> str:
    options = rule.alternatives[index].options
    if options is None or options.uid is None:
        return "default"
    names = options.uid.macro_names
    return "mobile" if "MUID" in names else "host" if "PUID" in names else "other"


def _reduced(value: str | None, constants: frozenset[str] | None) -> str | None:
    if constants is None or value is None:
        return value
    return value if value in constants else _OTHER


def _readings(rules: Iterable[Rule]) -> dict[str, frozenset[str] | None]:
    """For each macro that can change an outcome: the constants it is compared with, or None
    when its exact value matters."""
    constants: dict[str, set[str]] = {}
    exact: set[str] = set()
    for rule in rules:
        for alternative in rule.alternatives:
            if alternative.url is not None:
                exact.update(alternative.url.macro_names)
            if alternative.condition is None:
                continue
            for comparison in alternative.condition.comparisons:
                left, right = comparison.left, comparison.right
                for this, other in ((left, right), (right, left)):
                    name = _whole_macro(this.template)
                    if (
                        this.quoted
                        and not comparison.op.is_ordering
                        and name is not None
                        and other.template.is_constant
                    ):
                        constants.setdefault(name, set()).add(other.template.expand({}))
                    else:
                        exact.update(this.template.macro_names)
    readings: dict[str, frozenset[str] | None] = {name: frozenset(c) for name, c in constants.items()}
    readings.update(dict.fromkeys(exact, _EXACT))
    return readings


def _whole_macro(template: Template) -> str | None:
    """The macro's name when `template` is exactly one whole macro (`$MUID`), else None."""
    if len(template.parts) != 1:
        return None
    part = template.parts[0]
    if isinstance(part, MacroRef) and not part.offset and part.length is None:
        return part.name
    return None

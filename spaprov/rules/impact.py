"""What a rule change does to the phones: for each phone state, the URL and the kind of profile
(mobile, host, default) it fetches with the old rule and with the new one.  Pure: no I/O.

Evaluating 100,000 phones one by one costs two evaluations each.  Phones are grouped instead by
the part of their state that can change which alternative applies, and each group is evaluated
once; the chosen alternative's URL is then expanded for each phone (`?mac=$MA` differs per
phone, the choice does not):

- a macro the rules never read in a condition (a password only sent as `--pwd`, a MAC only in
  the URL) is left out of the key;
- a macro read only as a whole quoted operand (`"$MUID"`) compared with eq/ne against constant
  text is reduced to which of those constants it equals, or "none of them": every comparison
  then comes out the same (so `"$MUID" ne ""` puts every logged-in user in one group);
- any other use in a condition (a substring, a version comparison) keys on the exact value.

The outcome of a group is the evaluation of its first phone's real state, so grouping never
changes an answer, only how many evaluations are made (one exception: a state whose values are
long enough to hit the rule's expansion limits gets the outcome of its group's first phone; the
states built from a profile directory are far below those limits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from spaprov.rules.ast import Rule
from spaprov.rules.evaluate import evaluate
from spaprov.rules.macros import ExpansionTooLarge, MacroRef, StateError, Template

_OTHER = "\0other"  # a value equal to none of a macro's compared constants
_EXACT = None  # the macro keys on its exact value


class Outcome(NamedTuple):
    """What one phone fetches: `kind` is mobile, host or default (from the --uid the chosen
    alternative sends), `none` when no alternative applies, `error` when it cannot evaluate.
    (NamedTuples, like the evaluator's results: one is built per phone.)"""

    url: str | None
    kind: str
    error: str | None = None


class PhoneImpact(NamedTuple):
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
    """Evaluate `rule` for one state (as `impact` takes it): which URL and profile kind."""
    return _choose(rule, state).outcome(state)


def impact(old: Rule, new: Rule, phones: Iterable[tuple[str, Mapping[str, str]]]) -> Impact:
    """The outcome of every phone under `old` and `new`.  A phone is (key, state), the state
    by macro names with the MAC in all three forms (MA, MAU, MAC): what normalize_state returns."""
    reading = _readings((old, new))
    exact = [name for name, constants in sorted(reading.items()) if constants is None]
    compared = [(name, constants) for name, constants in sorted(reading.items()) if constants is not None]
    groups: dict[tuple[str | None, ...], tuple[_Choice, _Choice]] = {}
    result: list[PhoneImpact] = []
    for key, state in phones:
        get = state.get
        signature = (
            *map(get, exact),
            *[
                value if (value := get(name)) in constants or value is None else _OTHER
                for name, constants in compared
            ],
        )
        pair = groups.get(signature)
        if pair is None:
            pair = groups[signature] = (_choose(old, state), _choose(new, state))
        old_choice, new_choice = pair
        before = old_choice.fixed or old_choice.outcome(state)
        if new_choice.fixed is not None:
            after = new_choice.fixed
        elif new_choice.same_as(old_choice):  # the same URL template: expanded once
            after = before
        else:
            after = new_choice.outcome(state)
        result.append(PhoneImpact(key, before, after))
    return Impact(tuple(result), len(groups))


@dataclass(frozen=True)
class _Choice:
    """A group's outcome: `fixed` when it is the same for every phone of the group, else the
    URL template of the chosen alternative (expanded per phone) and the kind."""

    fixed: Outcome | None
    url: Template | None = None
    kind: str = ""
    expand: Callable[[Mapping[str, str]], str] | None = None

    def same_as(self, other: _Choice) -> bool:
        return self.url is not None and self.url == other.url and self.kind == other.kind

    def outcome(self, state: Mapping[str, str]) -> Outcome:
        if self.fixed is not None:
            return self.fixed
        assert self.expand is not None  # set whenever fixed is not
        return Outcome(self.expand(state), self.kind)


def _expander(template: Template) -> Callable[[Mapping[str, str]], str]:
    """template.expand, with a shortcut for the common `…?mac=$MA` (one whole macro)."""
    parts = template.parts
    refs = [i for i, part in enumerate(parts) if isinstance(part, MacroRef)]
    if len(refs) == 1:
        ref = parts[refs[0]]
        assert isinstance(ref, MacroRef)
        if not ref.offset and ref.length is None:
            head = "".join(str(p) for p in parts[: refs[0]])
            tail = "".join(str(p) for p in parts[refs[0] + 1 :])
            name = ref.name
            return lambda state: head + state.get(name, "") + tail
    return template.expand


def _choose(rule: Rule, state: Mapping[str, str]) -> _Choice:
    try:
        result = evaluate(rule, state)
    except (ExpansionTooLarge, StateError) as error:
        return _Choice(Outcome(None, "error", str(error)))
    if result.alternative is None:
        return _Choice(Outcome(None, "none"))
    kind = _kind(rule, result.alternative)
    url = rule.alternatives[result.alternative].url
    if url is None or url.is_constant:
        return _Choice(Outcome(result.url, kind))
    return _Choice(None, url, kind, _expander(url))


def _kind(rule: Rule, index: int) -> str:
    options = rule.alternatives[index].options
    if options is None or options.uid is None:
        return "default"
    names = options.uid.macro_names
    return "mobile" if "MUID" in names else "host" if "PUID" in names else "other"


def _readings(rules: Iterable[Rule]) -> dict[str, frozenset[str] | None]:
    """For each macro that can change an outcome: the constants it is compared with, or None
    when its exact value matters."""
    constants: dict[str, set[str]] = {}
    exact: set[str] = set()
    for rule in rules:
        for alternative in rule.alternatives:
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

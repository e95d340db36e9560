"""`evaluate()`: what a phone in a given state does with a rule.

The phone takes the first alternative whose condition holds (or the first without one), runs its
assignments and fetches its URL.  The evaluator reports that choice; it does not apply the
assignments, so the URL is expanded with the state as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from spaprov.rules.ast import Comparison, Operand, Rule, RuleKind
from spaprov.rules.macros import MAX_EXPANDED_VALUE, MAX_EXPANSION_TOTAL, ExpansionTooLarge, normalize_state
from spaprov.rules.parser import parse_cached
from spaprov.rules.urls import CACHED_URL_LENGTH, UrlError, _split_cached, split_url
from spaprov.rules.values import Version, classify, compare


class OptionValues(NamedTuple):
    uid: str | None = None
    pwd: str | None = None
    key: str | None = None
    post: str | None = None
    alias: str | None = None
    delta: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "pwd": self.pwd,
            "key": self.key,
            "post": self.post,
            "alias": self.alias,
            "delta": self.delta,
        }


NO_OPTIONS = OptionValues()


class ComparisonTrace(NamedTuple):
    left: str
    op: str
    right: str
    result: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "op": self.op,
            "right": self.right,
            "result": self.result,
            "error": self.error,
        }


class AlternativeTrace(NamedTuple):
    alternative: int
    comparisons: tuple[ComparisonTrace, ...]
    matched: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "alternative": self.alternative,
            "matched": self.matched,
            "comparisons": [c.to_json() for c in self.comparisons],
        }


class Evaluation(NamedTuple):
    """The outcome; `alternative` is None when no alternative applied (the rule is skipped).

    Result types are NamedTuples rather than frozen dataclasses: they are built on every
    evaluation, and a frozen dataclass pays one object.__setattr__ per field.
    """

    alternative: int | None
    url: str | None = None
    scheme: str | None = None
    server: str | None = None
    port: int | None = None
    path: str | None = None
    query: str | None = None
    options: OptionValues = NO_OPTIONS
    assignments: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()
    trace: tuple[AlternativeTrace, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "alternative": self.alternative,
            "url": self.url,
            "scheme": self.scheme,
            "server": self.server,
            "port": self.port,
            "path": self.path,
            "query": self.query,
            "options": self.options.to_json(),
            "assignments": [list(pair) for pair in self.assignments],
            "errors": list(self.errors),
        }
        if self.trace is not None:
            data["trace"] = [t.to_json() for t in self.trace]
        return data


class _TypeError(Exception):
    """A comparison between values that are not numbers or versions (reported, not raised)."""


def evaluate(
    rule: Rule | str,
    state: Mapping[str, object] | None = None,
    *,
    kind: RuleKind | str = RuleKind.PROFILE,
    trace: bool = False,
) -> Evaluation:
    """Evaluate `rule` (a parsed Rule, or rule text, parsed once and cached) for a phone state.

    `state` maps macro names (`EMS`, `MUID`, `MA`…) or flat-profile names (`EM_Login_State`,
    `GPP_A`…) to values.  Raises RuleSyntaxError for bad rule text and StateError for a bad state;
    a comparison that cannot be made (`$REGTMR1 gt 300` with REGTMR1 unset) is false and reported
    in `errors`.  Raises ExpansionTooLarge (a StateError) when the state's values would expand any
    string of the rule past MAX_EXPANDED_VALUE characters, or all of them together past
    MAX_EXPANSION_TOTAL, whichever alternative applies; nothing is expanded then.
    """
    if isinstance(rule, str):
        rule = parse_cached(rule, RuleKind(kind))
    values = normalize_state(state or {})
    # Fast path: one bound for the whole rule (no value is longer than all of them together);
    # exact checks, string by string, only beyond it.
    literal, refs = rule.expansion_bound
    if literal + refs * len("".join(values.values())) > MAX_EXPANDED_VALUE:
        _check_expansion(rule, values)
    errors: list[str] = []
    traces: list[AlternativeTrace] | None = [] if trace else None
    for index, alternative in enumerate(rule.alternatives):
        condition = alternative.condition
        if condition is not None:
            if traces is not None:
                steps = tuple(_trace(c, values) for c in condition.comparisons)
                matched = all(step.result for step in steps)
                errors.extend(step.error for step in steps if step.error)
                traces.append(AlternativeTrace(index, steps, matched))
            else:
                matched = _holds(condition.comparisons, values, errors)
            if not matched:
                continue
        elif traces is not None:
            traces.append(AlternativeTrace(index, (), True))
        return _chosen(rule, index, values, errors, traces)
    return Evaluation(None, errors=tuple(errors), trace=_freeze(traces))


def _check_expansion(rule: Rule, values: Mapping[str, str]) -> None:
    total = 0
    for where, template in rule.expansions:
        size = template.expanded_length(values)
        if size > MAX_EXPANDED_VALUE:
            raise ExpansionTooLarge(where, size, MAX_EXPANDED_VALUE)
        total += size
        if total > MAX_EXPANSION_TOTAL:
            raise ExpansionTooLarge("the rule's expanded strings together", total, MAX_EXPANSION_TOTAL)


def _holds(comparisons: tuple[Comparison, ...], values: Mapping[str, str], errors: list[str]) -> bool:
    for comparison in comparisons:
        try:
            if not _compare(comparison, values):
                return False
        except _TypeError as error:
            errors.append(str(error))
            return False
    return True


def _trace(comparison: Comparison, values: Mapping[str, str]) -> ComparisonTrace:
    left = comparison.left.template.expand(values)
    right = comparison.right.template.expand(values)
    try:
        result = _compare(comparison, values)
    except _TypeError as error:
        return ComparisonTrace(left, comparison.op.value, right, False, str(error))
    return ComparisonTrace(left, comparison.op.value, right, result)


def _compare(comparison: Comparison, values: Mapping[str, str]) -> bool:
    if comparison.left.quoted:  # the parser guarantees both sides are strings, and op is eq/ne
        equal = comparison.left.template.expand(values) == comparison.right.template.expand(values)
        return comparison.op.holds(0 if equal else 1)
    return comparison.op.holds(compare(_number(comparison.left, values), _number(comparison.right, values)))


def _number(operand: Operand, values: Mapping[str, str]) -> Version:
    if operand.constant is not None:
        return operand.constant
    text = operand.template.expand(values)
    number = classify(text)
    if number is None:
        raise _TypeError(
            f"{operand.template.text} is {text!r}, which is neither an integer nor "
            "a version: the comparison is false"
        )
    return number


def _chosen(
    rule: Rule,
    index: int,
    values: Mapping[str, str],
    errors: list[str],
    traces: list[AlternativeTrace] | None,
) -> Evaluation:
    alternative = rule.alternatives[index]
    assignments = tuple((a.name, a.value.expand(values)) for a in alternative.assignments)
    if alternative.url is None:
        return Evaluation(index, assignments=assignments, errors=tuple(errors), trace=_freeze(traces))
    url = alternative.url.expand(values)
    opts = alternative.options
    options = (
        NO_OPTIONS
        if opts is None
        else OptionValues(
            uid=opts.uid.expand(values) if opts.uid else None,
            pwd=opts.pwd.expand(values) if opts.pwd else None,
            key=opts.key.expand(values) if opts.key else None,
            post=opts.post.expand(values) if opts.post else None,
            alias=opts.alias.expand(values) if opts.alias else None,
            delta=opts.delta,
        )
    )
    try:
        parts = _split_cached(url) if len(url) <= CACHED_URL_LENGTH else split_url(url)  # no extra call
    except UrlError as error:
        errors.append(str(error))
        return Evaluation(
            index, url, options=options, assignments=assignments, errors=tuple(errors), trace=_freeze(traces)
        )
    return Evaluation(
        index,
        url,
        parts.scheme,
        parts.server,
        parts.port,
        parts.path,
        parts.query,
        options,
        assignments,
        tuple(errors),
        _freeze(traces),
    )


def _freeze(traces: list[AlternativeTrace] | None) -> tuple[AlternativeTrace, ...] | None:
    return None if traces is None else tuple(traces)


__all__ = ["AlternativeTrace", "ComparisonTrace", "Evaluation", "OptionValues", "RuleKind", "evaluate"]

"""Warnings about rules that parse but will probably not do what their author meant."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from spaprov.rules.ast import Alternative, Comparison, Condition, Op, Rule, RuleKind, Span
from spaprov.rules.errors import RuleSyntaxError
from spaprov.rules.macros import SECURE_NAMES, Template, unknown_macros
from spaprov.rules.parser import parse
from spaprov.rules.urls import served_path
from spaprov.rules.values import compare

_XML_UNSAFE_OPS = {"<", "<=", ">", ">="}
_MAC_MACROS = frozenset({"MA", "MAU", "MAC"})
CANNOT_IDENTIFY = "unidentified-phone"
# Warnings that describe what some phones will do, not a mistake in the rule: a site whose phones
# all send their MAC works without it.  The server reports them at start-up and still serves.
ADVISORY = frozenset({CANNOT_IDENTIFY})
_PLAIN_SCHEMES = ("http://", "tftp://")


@dataclass(frozen=True)
class LintWarning:
    line: int
    column: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: warning: {self.message} [{self.code}]"


def lint(
    rule: Rule | str,
    *,
    kind: RuleKind | str = RuleKind.PROFILE,
    served_paths: Mapping[str, bool] | None = None,
) -> tuple[LintWarning, ...]:
    """Warnings for `rule`, sorted by position.

    `served_paths`, when given, maps each path the spaprov server serves to whether it requires
    Digest credentials; alternatives are then checked against it (unserved paths, missing
    credentials, and routes that cannot identify a phone sending no MAC in its User-Agent).
    Raises RuleSyntaxError for rule text that does not parse.
    """
    if isinstance(rule, str):
        rule = parse(rule, kind)
    warnings = list(_check(rule, served_paths))
    return tuple(sorted(warnings, key=lambda w: (w.line, w.column, w.code)))


def _warn(span: Span, code: str, message: str) -> LintWarning:
    return LintWarning(span.line, span.column, code, message)


def _check(rule: Rule, served_paths: Mapping[str, bool] | None) -> Iterator[LintWarning]:
    always_taken: int | None = None
    for index, alternative in enumerate(rule.alternatives):
        if always_taken is not None:
            yield _warn(
                alternative.span,
                "unreachable",
                f"alternative {index + 1} is never reached: the condition of alternative "
                f"{always_taken + 1} is always true",
            )
        if alternative.condition is not None:
            verdict = _constant_verdict(alternative.condition)
            if verdict is True and always_taken is None and rule.kind is not RuleKind.TRIGGER:
                always_taken = index
            if verdict is False or _contradicts_itself(alternative.condition):
                yield _warn(alternative.condition.span, "never-true", "this condition can never be true")
            for comparison in alternative.condition.comparisons:
                yield from _check_comparison(comparison)
        yield from _check_macros(alternative)
        yield from _check_credentials(alternative)
        if served_paths is not None:
            if rule.kind is RuleKind.PROFILE:
                yield from _check_identifies_phone(alternative, served_paths)
            yield from _check_route(alternative, served_paths)


def _check_comparison(comparison: Comparison) -> Iterator[LintWarning]:
    if comparison.written_op in _XML_UNSAFE_OPS:
        word = comparison.op.value
        yield _warn(
            comparison.span,
            "xml-escape",
            f'"{comparison.written_op}" must be escaped inside an XML profile; write "{word}"',
        )
    if comparison.implicit_left or comparison.written_op == "!":
        yield _warn(
            comparison.span,
            "legacy",
            f"legacy syntax (pre-2.0.6 firmware); write "
            f"{'$SWVER ' if comparison.implicit_left else ''}{comparison.op.value} instead",
        )
    for operand in (comparison.left, comparison.right):
        if not operand.quoted and operand.template.is_constant and operand.constant is None:
            yield _warn(
                operand.span,
                "not-a-number",
                f"{operand.template.text!r} is neither an integer nor a version: this "
                "comparison is always false (quote both sides to compare strings)",
            )


def _constant_verdict(condition: Condition) -> bool | None:
    """True/False when the condition's value does not depend on the phone; None when it does."""
    results = []
    for comparison in condition.comparisons:
        left, right = comparison.left, comparison.right
        if not (left.template.is_constant and right.template.is_constant):
            return None
        if left.quoted:
            equal = left.template.text == right.template.text
            results.append(comparison.op.holds(0 if equal else 1))
        elif left.constant is None or right.constant is None:
            results.append(False)
        else:
            order = compare(left.constant, right.constant)
            results.append(comparison.op.holds(order))
    return all(results)


def _contradicts_itself(condition: Condition) -> bool:
    """`"$EMS" eq "mobile" and "$EMS" eq "host"`, or `X eq "a" and X ne "a"`."""
    required: dict[str, str] = {}
    excluded: dict[str, set[str]] = {}
    for comparison in condition.comparisons:
        left, right = comparison.left, comparison.right
        if not left.quoted or not right.template.is_constant or left.template.is_constant:
            continue
        subject, value = left.template.text, right.template.text
        if comparison.op is Op.EQ:
            if required.setdefault(subject, value) != value:
                return True
        else:
            excluded.setdefault(subject, set()).add(value)
    return any(value in excluded.get(subject, set()) for subject, value in required.items())


def _templates(alternative: Alternative) -> Iterator[tuple[Template, Span, bool]]:
    """Every macro-bearing text of an alternative, where it is, and whether $SA..$SD expand."""
    if alternative.condition is not None:
        for comparison in alternative.condition.comparisons:
            if not comparison.implicit_left:
                yield comparison.left.template, comparison.left.span, False
            yield comparison.right.template, comparison.right.span, False
    for assignment in alternative.assignments:
        yield assignment.value, assignment.span, False
    options = alternative.options
    if options is not None:
        for value in (options.uid, options.pwd, options.key, options.post, options.alias):
            if value is not None:
                yield value, options.span, value.secure
    if alternative.url is not None:
        yield alternative.url, _url_span(alternative), False


def _url_span(alternative: Alternative) -> Span:
    return alternative.options.span if alternative.options is not None else alternative.span


def _check_macros(alternative: Alternative) -> Iterator[LintWarning]:
    for template, span, secure in _templates(alternative):
        for name in unknown_macros(template.text):
            yield _warn(span, "unknown-macro", f"${name} is not a known macro: it stays as written")
        if not secure:
            for name in SECURE_NAMES:
                if f"${name}" in template.text.replace("$$", ""):
                    yield _warn(
                        span,
                        "secure-macro",
                        f"${name} expands only inside --key, --uid and --pwd; here it stays as written",
                    )


def _check_credentials(alternative: Alternative) -> Iterator[LintWarning]:
    options = alternative.options
    if options is None or options.uid is None:
        return
    if options.pwd is not None and options.pwd.is_constant and options.pwd.text:
        yield _warn(
            options.span,
            "literal-password",
            "--pwd is a literal password, readable by anyone who reads the profile; use a "
            "macro ($PPWD, $MPWD, $SA…)",
        )
    url = alternative.url.text.lower() if alternative.url is not None else ""
    if url.startswith(_PLAIN_SCHEMES) or "://" not in url:
        yield _warn(
            options.span,
            "plaintext-credentials",
            "credentials sent over plain http/tftp can be read on the network; use https",
        )


def _check_identifies_phone(
    alternative: Alternative, served_paths: Mapping[str, bool]
) -> Iterator[LintWarning]:
    """A spaprov route with no $MA/$MAU/$MAC in its path or query names no phone: the server
    must find the MAC in the User-Agent, and some firmware leaves it out (the SPA525G sends
    `Cisco/SPA525G-7.4.7 (CBT141900G7)`, [WAZO] common.py).  A host fetch (`--uid $PUID…`) is
    identified by its Digest user instead, so it needs no MAC.  URLs the site does not serve
    (a static file on another server, the same for every phone) need no phone named."""
    url = alternative.url
    if url is None or served_path(url.text)[1] not in served_paths:
        return
    options = alternative.options
    if options is not None and options.uid is not None and "PUID" in options.uid.macro_names:
        return
    head, _ = served_path(url.text)
    parts = Template.compile(url.text[len(head) :]).parts  # the path and the query
    if any(not isinstance(part, str) and part.name in _MAC_MACROS for part in parts):
        return
    yield _warn(
        _url_span(alternative),
        CANNOT_IDENTIFY,
        f"{url.text} names no phone: a phone whose User-Agent carries no MAC (the SPA525G) "
        "cannot be identified there; add $MA to the path or query (…/default.cfg?mac=$MA)",
    )


def _check_route(alternative: Alternative, served_paths: Mapping[str, bool]) -> Iterator[LintWarning]:
    if alternative.url is None:
        return
    head, path = served_path(alternative.url.text)
    if "$" in head:  # the server is not known until the phone expands it
        return
    span = _url_span(alternative)
    if path not in served_paths:
        yield _warn(span, "unserved-path", f"the spaprov server does not serve {path}")
    elif served_paths[path] and (alternative.options is None or alternative.options.uid is None):
        yield _warn(
            span,
            "missing-credentials",
            f"{path} requires Digest credentials but this alternative sends no --uid/--pwd",
        )


__all__ = ["ADVISORY", "CANNOT_IDENTIFY", "LintWarning", "RuleSyntaxError", "lint"]

"""Property tests: canonical formatting round-trips, and no input makes the parser crash."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spaprov.rules import RuleSyntaxError, evaluate, format_rule, lint, parse
from tests.helpers.rule_corpus import CORPUS, SEED_RULE

SPACE = st.sampled_from(["", " ", "  ", "\t", "\n"])
MACROS = [
    "$EMS",
    "$MUID",
    "$MPWD",
    "$PUID",
    "$PDOM",
    "$MA",
    "$(MAU:4)",
    "$(A:1:2)",
    "$SWVER",
    "$A",
    "$$",
    "$STRANGE",
]
WORD = st.text(alphabet=string.ascii_letters + string.digits + "_-.@", min_size=1, max_size=8)
STRING_BODY = st.lists(st.one_of(st.sampled_from(MACROS), WORD, st.just(" "), st.just("#")), max_size=4).map(
    "".join
)
NUMBER = st.one_of(
    st.integers(0, 99999).map(str), st.sampled_from(["7.5.2b", "2.0.3(0412s)", "1.0", "$REGTMR1", "$PRVTMR"])
)
SYMBOLS = st.sampled_from(["eq", "ne", "=", "!=", "!"])
ORDERS = st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge", "<", "<=", ">", ">=", "=", "!="])


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        left, right = draw(STRING_BODY), draw(STRING_BODY)
        return f'"{left}"{draw(SPACE)}{draw(SYMBOLS)}{draw(SPACE)}"{right}"'
    return f"{draw(NUMBER)} {draw(ORDERS)} {draw(NUMBER)}"


@st.composite
def conditions(draw: st.DrawFn) -> str:
    items = draw(st.lists(comparisons(), min_size=1, max_size=3))
    return f"({draw(SPACE)}" + f"{draw(SPACE)} and ".join(items) + f"{draw(SPACE)})?"


@st.composite
def assignments(draw: st.DrawFn) -> str:
    names = draw(
        st.lists(
            st.sampled_from(["User_ID_1_", "a", "GPP_P", "Line_Enable_2_", "Station_Name"]),
            min_size=1,
            max_size=3,
        )
    )
    body = " ; ".join(f'{name} = "{draw(STRING_BODY)}"' for name in names)
    return f"({body}{draw(st.sampled_from(['', ';', ' ;']))})!"


@st.composite
def options(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts += [f"--uid {draw(st.sampled_from(MACROS[:5]))}$PDOM", f'--pwd "{draw(STRING_BODY)}"']
    if draw(st.booleans()):
        parts.append(f'--key "{draw(STRING_BODY)}"')
    if draw(st.booleans()):
        parts.append(f"--post {draw(st.sampled_from('abcdefghijklmnop'))}")
    if draw(st.booleans()):
        parts.append(f"--alias {draw(st.sampled_from('abcp'))}")
    parts = draw(st.permutations(parts))
    return "[" + draw(SPACE) + " ".join(parts) + draw(SPACE) + "]"


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["", "http://", "HTTPS://", "tftp://"]))
    server = (
        draw(st.sampled_from(["", "prov.example.com", "10.0.0.1:8080", "$A"]))
        if scheme
        else draw(st.sampled_from(["", "prov.example.com"]))
    )
    path = "/" + "/".join(
        draw(st.lists(st.one_of(WORD, st.sampled_from(MACROS[:7])), min_size=1, max_size=3))
    )
    query = draw(st.sampled_from(["", "?", "?mac=$MA"]))
    return scheme + server + path + query


@st.composite
def rules(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 4))
    alternatives = []
    for index in range(count):
        last = index == count - 1
        parts = []
        if not last or draw(st.booleans()):
            parts.append(draw(conditions()))
        if draw(st.booleans()):
            parts.append(draw(assignments()))
        if draw(st.booleans()) or not parts:
            if draw(st.booleans()):
                parts.append(draw(options()) + draw(SPACE))
            parts.append(draw(urls()))
        alternatives.append(" ".join(parts))
    return f"{draw(SPACE)}|{draw(SPACE)}".join(alternatives)


@pytest.mark.slow
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rules())
def test_format_round_trips(text: str) -> None:
    rule = parse(text)
    canonical = format_rule(rule)
    assert parse(canonical) == rule
    assert format_rule(parse(canonical)) == canonical


@settings(max_examples=100)
@given(st.lists(comparisons(), min_size=1, max_size=4).map(" and ".join))
def test_trigger_format_round_trips(text: str) -> None:
    rule = parse(text, "trigger")
    assert parse(format_rule(rule), "trigger") == rule


@settings(max_examples=500)
@given(st.text(max_size=200))
def test_random_text_raises_only_rule_syntax_error(text: str) -> None:
    _parse_lint_evaluate(text)


RULE_CHARS = '()[]|?!;"$#=<> -abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./:@_\n'
SEEDS = [e.text for e in CORPUS] + [SEED_RULE]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str]:
    text = draw(st.sampled_from(SEEDS))
    kind = draw(st.sampled_from(["profile", "upgrade", "report", "trigger"]))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        char = draw(st.sampled_from(RULE_CHARS))
        if action == "insert":
            text = text[:position] + char + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "replace":
            text = text[:position] + char + text[position + 1 :]
        else:
            end = draw(st.integers(position, len(text)))
            text = text[:end] + text[position:end] + text[end:]
    return text, kind


@settings(max_examples=1000)
@given(mutations())
def test_mutated_corpus_raises_only_rule_syntax_error(mutation: tuple[str, str]) -> None:
    text, kind = mutation
    _parse_lint_evaluate(text, kind)


def _parse_lint_evaluate(text: str, kind: str = "profile") -> None:
    try:
        rule = parse(text, kind)
    except RuleSyntaxError as error:
        assert error.line >= 1 and error.column >= 1
        error.render()
        return
    # Whatever parses must also lint, format, round-trip and evaluate without raising.
    lint(rule)
    assert parse(format_rule(rule), kind) == rule
    evaluate(rule, {"EMS": "mobile", "MUID": "u", "MPWD": "p", "SWVER": "7.5.5", "A": "x", "REGTMR1": "3"})
    evaluate(rule, {})

"""Typical mistakes: each gives its own message at the right line and column."""

from __future__ import annotations

import pytest

from spaprov.rules import RuleSyntaxError, parse

MISTAKES = [
    # (rule text, kind, line, column, part of the message)
    ('("$EMS" eq "mobile") http://x/m.cfg', "profile", 1, 22, 'expected "?" after the condition'),
    ('(User_ID_1_ = "a"; GPP_B = "b") /x', "profile", 1, 33, 'expected "!" after the assignments'),
    ('("$EMS" eq "mobile)? /x', "profile", 1, 12, "unclosed quote"),
    ("[--key secret http://x/a.cfg", "profile", 1, 15, 'expected "]" or an option'),
    ("[--key secret", "profile", 1, 14, 'the options are not closed: expected "]"'),
    ('("$A" eq "1"', "profile", 1, 13, 'the parenthesis is not closed: expected ")"'),
    ('("$A" eq "1" or "$B" eq "2")? /x', "profile", 1, 14, '"or" is not part of the rule language'),
    ('(not "$A" eq "1")? /x', "profile", 1, 2, '"not" is not part of the rule language'),
    ('(("$A" eq "1"))? /x', "profile", 1, 2, "nested parentheses are not part of the rule language"),
    ('("$A" eq "1" && "$B" eq "2")? /x', "profile", 1, 14, 'joined with "and", not "&&"'),
    ("[--cuid bob --pwd x] http://x/a", "profile", 1, 2, "unknown option --cuid"),
    ("[--uid $MUID] https://x/a", "profile", 1, 2, "--uid without --pwd"),
    ("[--pwd $MPWD] https://x/a", "profile", 1, 2, "--pwd without --uid"),
    ("http://prov.example.com", "profile", 1, 1, 'must start with "/"'),
    ("spa$MA.cfg", "profile", 1, 1, "has no absolute path"),
    ("ftp://x/a.cfg", "profile", 1, 1, "unsupported URL scheme 'ftp'"),
    ("http://x:99999/a.cfg", "profile", 1, 1, "bad port '99999'"),
    ('("$A" eq "1")? /a | /b | /c', "profile", 1, 21, "alternative 2 has no condition but is not the last"),
    ('("$A" lt "b")? /x', "profile", 1, 7, '"lt" cannot compare strings'),
    ('("$A" eq 5)? /x', "profile", 1, 2, "cannot compare a quoted string with an unquoted"),
    ("(Line_Enable_1_ = No)! /x", "profile", 1, 19, "assignment values must be quoted"),
    ('(a = "1" and b = "2")! /x', "profile", 1, 10, 'assignments are separated by ";"'),
    ('("$A" eq "1"; "$B" eq "2")? /x', "profile", 1, 13, 'joined with "and", not ";"'),
    ('("$A" eq "1" and)? /x', "profile", 1, 14, 'nothing follows "and"'),
    ("()? /x", "profile", 1, 1, "empty condition"),
    ('("$A" eq "1")? /a |', "profile", 1, 19, 'empty alternative: nothing on this side of "|"'),
    ('(X = "1")! ("$A" eq "1")? /x', "profile", 1, 12, "the ( condition )? must come before"),
    ('("$A" eq "1")? ("$B" eq "2")? /x', "profile", 1, 16, "an alternative takes one ( condition )?"),
    ("[--key k] /x", "upgrade", 1, 1, "an Upgrade_Rule takes no [options]"),
    ("[--delta] http://x/r.xml", "profile", 1, 2, "--delta belongs in a Report_Rule only"),
    ("[--delta yes] http://x/r.xml", "report", 1, 10, "--delta takes no value"),
    ("[--post ab] http://x/r", "profile", 1, 9, "--post takes one GPP letter a..p"),
    ("[--alias z] http://x/r", "profile", 1, 10, "--alias takes one GPP letter a..p"),
    ("[--key k --key j] /x", "profile", 1, 10, "--key is given twice"),
    ("[--key] /x", "profile", 1, 2, "--key needs a value"),
    ("[--key k]", "profile", 1, 10, "expected a URL after the options"),
    ('("$A" eq "1")? /a | /b', "report", 1, 1, "a Report_Rule is one URL"),
    ('("$A" eq "1")? /a\n| ("$B" eq "2") /b', "profile", 2, 17, 'expected "?" after the condition'),
    ("$REGTMR1 gt 300 or $PRVTMR ge 600", "trigger", 1, 17, '"or" is not part of the rule language'),
    ("(eq 5)? /x", "profile", 1, 5, "unexpected '5': expected a comparison operator"),
    ("[--uid a --pwd -abc] /x", "profile", 1, 16, 'a value that starts with "-" must be quoted, as in "-a'),
    (
        "($PRVTMR ge 600)?",
        "trigger",
        1,
        1,
        "a trigger rule is a bare condition, without the ( )? wrapper: write $PRVTMR",
    ),
    ("  (\n$A eq 1", "trigger", 1, 3, "a trigger rule is a bare condition, without the ( )? wrapper"),
]


@pytest.mark.parametrize(
    ("text", "kind", "line", "column", "message"), MISTAKES, ids=[m[4][:40] for m in MISTAKES]
)
def test_mistake_is_reported_with_position_and_reason(
    text: str, kind: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(RuleSyntaxError) as raised:
        parse(text, kind)
    error = raised.value
    assert message in error.message
    assert (error.line, error.column) == (line, column), error.render()
    assert str(error).startswith(f"{line}:{column}: ")


def test_render_puts_a_caret_under_the_spot() -> None:
    with pytest.raises(RuleSyntaxError) as raised:
        parse('("$A" eq "1")? /a\n| ("$B" eq "2") /b')
    assert raised.value.render().splitlines() == [
        '2:17: expected "?" after the condition',
        '| ("$B" eq "2") /b',
        "                ^",
    ]


def test_error_lists_what_was_expected_in_words() -> None:
    with pytest.raises(RuleSyntaxError) as raised:
        parse('("$A" eq "1" "$B")? /x')
    assert raised.value.expected == ('")"', '";"', '"and"')
    assert raised.value.text == '"$B"'


def test_non_text_and_oversize_input_are_syntax_errors() -> None:
    with pytest.raises(RuleSyntaxError, match="a rule is text"):
        parse(b"/x")  # type: ignore[arg-type]
    with pytest.raises(RuleSyntaxError, match="the limit is"):
        parse("/" + "a" * 20000)
    with pytest.raises(RuleSyntaxError, match="unknown rule kind"):
        parse("/x", "firmware")


@pytest.mark.parametrize("text", ["", "   ", "# commented out", '# ("$A" eq "1")? /x', "\n\t\n"])
def test_empty_and_comment_only_rules_are_valid_and_do_nothing(text: str) -> None:
    assert parse(text).alternatives == ()


def test_comment_runs_to_the_end_of_the_value_but_not_inside_quotes() -> None:
    rule = parse('("$A" eq "#1")? /a # | /b\n| /c')
    assert len(rule.alternatives) == 1
    assert rule.alternatives[0].condition is not None
    assert rule.alternatives[0].condition.comparisons[0].right.template.text == "#1"

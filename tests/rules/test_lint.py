"""Lint warnings: each check fires on its case and stays quiet on the seed rule's shape."""

from __future__ import annotations

import pytest

from spaprov.rules import lint

CLEAN = (
    '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "")? [--uid $MUID$PDOM --pwd $MPWD] '
    'https://p.example.com/mobilephone.cfg | ("$PUID" ne "" and "$PPWD" ne "")? '
    "[--uid $PUID$PDOM --pwd $PPWD] https://p.example.com/hostphone.cfg | https://p.example.com/default.cfg"
)


def codes(text: str, **kwargs: object) -> list[str]:
    return [w.code for w in lint(text, **kwargs)]  # type: ignore[arg-type]


def test_clean_rule_has_no_warnings() -> None:
    assert lint(CLEAN) == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('("x" eq "x")? /a | /b', "unreachable"),
        ('("mobile" eq "host")? /a | /b', "never-true"),
        ('("$EMS" eq "mobile" and "$EMS" eq "host")? /a | /b', "never-true"),
        ('("$EMS" eq "mobile" and "$EMS" ne "mobile")? /a | /b', "never-true"),
        ("($SWVER < 7.5.2b)? /a | /b", "xml-escape"),
        ("($SWVER >= 7.5.2b)? /a | /b", "xml-escape"),
        ("(! 1.0.2)? /a", "legacy"),
        ("(<1.0)? /a", "legacy"),
        ("[--uid admin --pwd hunter2] https://x/a", "literal-password"),
        ("[--uid $MUID --pwd $MPWD] http://x/a", "plaintext-credentials"),
        ("[--uid $MUID --pwd $MPWD] tftp://x/a", "plaintext-credentials"),
        ("[--uid $MUID --pwd $MPWD] /a", "plaintext-credentials"),
        ("http://x/spa$STRANGE.cfg", "unknown-macro"),
        ("http://x/$(FOO:1).cfg", "unknown-macro"),
        ("http://x/$SA.cfg", "secure-macro"),
        ("($SWVER ge sip78xx.11-0-0MPP-7)? /a", "not-a-number"),
    ],
)
def test_warning(text: str, code: str) -> None:
    warnings = lint(text)
    assert code in [w.code for w in warnings], warnings
    warning = next(w for w in warnings if w.code == code)
    assert warning.line >= 1 and warning.column >= 1
    assert str(warning).endswith(f"[{code}]")


def test_unreachable_names_the_alternatives() -> None:
    (warning,) = [w for w in lint('("1" eq "1")? /a | ("$A" eq "x")? /b | /c') if w.code == "unreachable"][:1]
    assert "alternative 2 is never reached" in warning.message
    assert "alternative 1" in warning.message


def test_routes_the_server_does_not_serve_or_that_need_credentials() -> None:
    served = {"/mobilephone.cfg": True, "/hostphone.cfg": True, "/default.cfg": False}
    assert codes(CLEAN, served_paths=served) == []
    assert codes("https://p.example.com/other.cfg", served_paths=served) == ["unserved-path"]
    assert codes("https://p.example.com/hostphone.cfg", served_paths=served) == ["missing-credentials"]


def test_xml_safe_words_and_quoted_macros_are_not_flagged() -> None:
    assert lint('($SWVER lt 7.5.2b and "$CCERT" eq "Installed")? /a | /b') == ()


def test_trigger_conditions_are_linted() -> None:
    assert codes("$REGTMR1 > 300", kind="trigger") == ["xml-escape"]

"""Lint warnings: each check fires on its case and stays quiet on the seed rule's shape."""

from __future__ import annotations

import pytest

from spaprov.rules import lint, parse
from spaprov.rules.urls import served_path

CLEAN = (
    '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "")? [--uid $MUID$PDOM --pwd $MPWD] '
    'https://p.example.com/mobilephone.cfg?mac=$MA | ("$PUID" ne "" and "$PPWD" ne "")? '
    "[--uid $PUID$PDOM --pwd $PPWD] https://p.example.com/hostphone.cfg | https://p.example.com/default/$MA.cfg"
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
    served = {"/mobilephone.cfg": True, "/hostphone.cfg": True, "/default/$MA.cfg": False}
    assert codes(CLEAN, served_paths=served) == []
    assert codes("https://p.example.com/other$MA.cfg", served_paths=served) == ["unserved-path"]
    assert codes("https://p.example.com/hostphone.cfg?$MA", served_paths=served) == ["missing-credentials"]


def test_xml_safe_words_and_quoted_macros_are_not_flagged() -> None:
    assert lint('($SWVER lt 7.5.2b and "$CCERT" eq "Installed")? /a$MA | /b$MA') == ()


def test_trigger_conditions_are_linted() -> None:
    assert codes("$REGTMR1 > 300", kind="trigger") == ["xml-escape"]


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("http://p.example.com/default.cfg", [1]),
        ("http://p.example.com/default.cfg?mac=$MA", []),
        ("http://p.example.com/$MAU/default.cfg", []),
        ("http://p.example.com/config?Linksys$MAU", []),  # [LSPG30] p.44
        ("tftp://p.example.com/spa$(MAC).cfg", []),
        ("/spa$PSN.cfg", [1]),  # the factory rule: one file per model, no phone named
        # A host fetch is identified by its Digest user; a mobile one is not.
        ("[--uid $PUID$PDOM --pwd $PPWD] https://p/h.cfg", []),
        ('("$EMS" eq "mobile")? [--uid $MUID$PDOM --pwd $MPWD] https://p/m.cfg | https://p/d.cfg', [1, 2]),
    ],
)
def test_urls_that_cannot_identify_a_phone(text: str, flagged: list[int]) -> None:
    served = {served_path(a.url.text)[1]: False for a in parse(text).alternatives if a.url is not None}
    warnings = [w for w in lint(text, served_paths=served) if w.code == "unidentified-phone"]
    assert len(warnings) == len(flagged), warnings
    assert all("SPA525G" in w.message and "$MA" in w.message for w in warnings)
    # Without a site, or for a URL the site does not serve (a static file on another server,
    # the same for every phone), there is no phone to name.
    assert not [w for w in lint(text) if w.code == "unidentified-phone"]
    assert not [w for w in lint(text, served_paths={"/other.cfg": False}) if w.code == "unidentified-phone"]


def test_only_profile_rules_are_checked_for_a_phone_id() -> None:
    assert codes("http://p.example.com/firmware.bin", kind="upgrade") == []

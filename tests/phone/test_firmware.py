"""The firmware's resync sequence, driven by hand: no server, no sockets."""

from __future__ import annotations

import gzip
from pathlib import Path

from spaprov.config.models import MODELS
from spaprov.phone.firmware import Round, identity_macros
from spaprov.phone.parameters import factory_defaults
from tests.helpers.phones import openssl_encrypt

MODEL = MODELS["SPA525G2"]
RULE = '( "$EMS" eq "mobile" )? http://p.example/mobile.cfg | http://p.example/$MA.cfg'
PROFILE = b"<flat-profile><Station_Name>Lobby</Station_Name></flat-profile>"


def a_round(parameters: dict[str, str]) -> Round:
    return Round(parameters, identity_macros("001122334455", MODEL, "CBT1", "7.5.5", "1"))


def test_a_round_asks_for_the_url_the_rule_chooses_and_applies_the_answer() -> None:
    parameters = factory_defaults(MODEL, RULE)
    first = a_round(parameters)
    request = first.next_fetch()
    assert request is not None and request.url == "http://p.example/001122334455.cfg"
    first.receive(b"<flat-profile><EM_Login_State>mobile</EM_Login_State></flat-profile>")
    assert first.changed and first.failure is None and first.next_fetch() is None
    again = a_round(parameters).next_fetch()
    assert again is not None and again.url == "http://p.example/mobile.cfg"


def test_a_profile_that_changes_the_rules_does_not_restart_the_sequence() -> None:
    """[LSPG30] p.43: Profile_Rule, _B, _C, _D once each, in order; the rule Profile_Rule's
    profile rewrites is not evaluated again in the same resync, and _B sees the new values."""
    parameters = factory_defaults(MODEL, "http://p.example/a.cfg")
    parameters["Profile_Rule_B"] = "http://p.example/b-$A.cfg"
    round_ = a_round(parameters)
    first = round_.next_fetch()
    assert first is not None and first.rule_name == "Profile_Rule"
    round_.receive(
        b"<flat-profile><Profile_Rule>http://p.example/new.cfg</Profile_Rule><GPP_A>x</GPP_A></flat-profile>"
    )
    second = round_.next_fetch()
    assert second is not None and (second.rule_name, second.url) == (
        "Profile_Rule_B",
        "http://p.example/b-x.cfg",
    )
    round_.receive(PROFILE)
    assert round_.next_fetch() is None and round_.failure is None and round_.changed


def test_a_failure_abandons_the_rest_of_the_sequence() -> None:
    parameters = factory_defaults(MODEL, "http://p.example/a.cfg")
    parameters["Profile_Rule_B"] = "http://p.example/b.cfg"
    failed = a_round(parameters)
    assert failed.next_fetch() is not None
    failed.fail("HTTP 500")
    assert failed.failure == "HTTP 500" and failed.next_fetch() is None  # _B never evaluated
    corrupt = a_round(factory_defaults(MODEL, RULE))
    assert corrupt.next_fetch() is not None
    corrupt.receive(b"not xml")
    assert corrupt.failure is not None and "Profile_Rule: corrupt profile" in corrupt.failure


def test_blank_and_unmatched_rules_are_skipped_and_assignments_alone_succeed() -> None:
    parameters = factory_defaults(MODEL, "")  # blank Profile_Rule: B, C, D still run ([SPA1xxAG])
    parameters["Profile_Rule_B"] = '( "$A" eq "never" )? http://p.example/no.cfg'
    parameters["Profile_Rule_C"] = '( GPP_B = "set"; )!'
    parameters["Profile_Rule_D"] = "http://p.example/d-$B.cfg"
    round_ = a_round(parameters)
    request = round_.next_fetch()
    assert request is not None and (request.rule_name, request.url) == (
        "Profile_Rule_D",
        "http://p.example/d-set.cfg",
    )
    round_.receive(PROFILE)
    assert round_.failure is None and parameters["GPP_B"] == "set"


def test_file_not_found_fails_unless_resync_fails_on_fnf_is_no() -> None:
    strict = factory_defaults(MODEL, "http://p.example/a.cfg")
    strict["Profile_Rule_B"] = "http://p.example/b.cfg"
    round_ = a_round(strict)
    round_.next_fetch()
    round_.not_found("HTTP 404")
    assert round_.failure == "Profile_Rule: HTTP 404" and round_.next_fetch() is None
    lenient = dict(strict, Resync_Fails_On_FNF="No")
    round_ = a_round(lenient)
    round_.next_fetch()
    round_.not_found("HTTP 404")
    assert round_.failure is None
    after = round_.next_fetch()  # the sequence goes on to _B
    assert after is not None and after.rule_name == "Profile_Rule_B"


def test_key_decrypts_an_openssl_profile_and_a_wrong_key_fails_the_resync(tmp_path: Path) -> None:
    encrypted = openssl_encrypt(tmp_path, gzip.compress(PROFILE), "SecretPhrase1234")
    parameters = factory_defaults(MODEL, '[--key "SecretPhrase1234"] http://p.example/a.cfg')
    round_ = a_round(parameters)
    request = round_.next_fetch()
    assert request is not None and request.key == "SecretPhrase1234"
    round_.receive(encrypted)
    assert round_.failure is None and parameters["Station_Name"] == "Lobby"  # gunzipped too

    wrong = factory_defaults(MODEL, "[--key WrongPhrase] http://p.example/a.cfg")
    round_ = a_round(wrong)
    round_.next_fetch()
    round_.receive(encrypted)
    # AES-CBC has no integrity check: a wrong key usually breaks the padding ("cannot decrypt"),
    # but about 1 salt in 256 decrypts to valid padding and garbage, which is then no profile.
    # Either way the resync fails and nothing is applied, as on the phone.
    assert round_.failure is not None
    assert "cannot decrypt" in round_.failure or "corrupt profile" in round_.failure, round_.failure
    assert wrong["Station_Name"] == ""

    plain_phone = factory_defaults(MODEL, "http://p.example/a.cfg")  # no --key: not a profile
    round_ = a_round(plain_phone)
    round_.next_fetch()
    round_.receive(encrypted)
    assert round_.failure is not None and "corrupt profile" in round_.failure

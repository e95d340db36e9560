"""The firmware's resync round, driven by hand: no server, no sockets."""

from __future__ import annotations

from spaprov.config.models import MODELS
from spaprov.phone.firmware import Round, identity_macros
from spaprov.phone.parameters import factory_defaults

MODEL = MODELS["SPA525G2"]
RULE = '( "$EMS" eq "mobile" )? http://p.example/mobile.cfg | http://p.example/$MA.cfg'


def a_round(parameters: dict[str, str]) -> Round:
    return Round(parameters, identity_macros("001122334455", MODEL, "CBT1", "7.5.5", "1"))


def test_a_round_asks_for_the_url_the_rule_chooses_and_applies_the_answer() -> None:
    parameters = factory_defaults(MODEL, RULE)
    first = a_round(parameters)
    request = first.next_fetch()
    assert request is not None and request.url == "http://p.example/001122334455.cfg"
    first.receive(b"<flat-profile><EM_Login_State>mobile</EM_Login_State></flat-profile>")
    assert first.reevaluate and first.failure is None and first.next_fetch() is None
    again = a_round(parameters).next_fetch()
    assert again is not None and again.url == "http://p.example/mobile.cfg"


def test_a_failed_fetch_or_a_corrupt_profile_ends_the_round() -> None:
    failed = a_round(factory_defaults(MODEL, RULE))
    assert failed.next_fetch() is not None
    failed.fail("HTTP 404")
    assert failed.failure == "HTTP 404" and failed.next_fetch() is None
    corrupt = a_round(factory_defaults(MODEL, RULE))
    assert corrupt.next_fetch() is not None
    corrupt.receive(b"not xml")
    assert corrupt.failure is not None and "Profile_Rule: corrupt profile" in corrupt.failure

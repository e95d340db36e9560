"""Macro expansion as the SPA provisioning guides describe it ($NAME, $(NAME), $(NAME:p:q); Cisco
OL-19687-01 pp.55-56, Linksys SPA Provisioning Guide v3.01 p.4-7)."""

from __future__ import annotations

import pytest

from spaprov.rules import StateError, evaluate, normalize_state
from spaprov.rules.macros import Template

STATE = normalize_state({"MAU": "000E08012345", "A": "ABCDEF", "B": "$MA", "SA": "secret"})


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("spa$(MAU)config.cfg", "spa000E08012345config.cfg"),
        ("spa$STRANGE$MAU.cfg", "spa$STRANGE000E08012345.cfg"),
        ("$$MAU", "$MAU"),
        ("$(MAU:4)", "08012345"),
        ("$(MAU:8:2)", "23"),
        ("$(A:2)", "CDEF"),
        ("$(A:2:3)", "CDE"),
        ("$(A:10)", ""),
        ("$(A:4:10)", "EF"),
        ("$(A:0:0)", ""),
        ("$(STRANGE)", "$(STRANGE)"),
        ("$(STRANGE:1:2)", "$(STRANGE:1:2)"),
        ("$MAUX", "$MAUX"),
        ("$ma", "$ma"),
        ("$MA", "000e08012345"),
        ("$MAC", "00:0e:08:01:23:45"),
        ("$MAC.cfg", "00:0e:08:01:23:45.cfg"),
        ("$A$A", "ABCDEFABCDEF"),
        ("cost: 5$", "cost: 5$"),
        ("$", "$"),
        ("$$", "$"),
        ("$$$MA", "$000e08012345"),
        ("$B", "$MA"),  # expansion happens once: the value "$MA" is not expanded again
        ("$C", ""),  # known macro the caller did not supply
        ("$SA", "$SA"),  # secure GPPs stay literal outside --key/--uid/--pwd
        ("$(SA)", "$(SA)"),
    ],
)
def test_expansion(text: str, expanded: str) -> None:
    assert Template.compile(text).expand(STATE) == expanded


def test_secure_gpps_expand_in_credential_options() -> None:
    assert Template.compile("$SA", secure=True).expand(STATE) == "secret"
    result = evaluate("[--uid $SA --pwd $SA] https://x/$SA.cfg", {"SA": "s"})
    assert (result.options.uid, result.options.pwd, result.path) == ("s", "s", "/$SA.cfg")


@pytest.mark.parametrize(
    "given", ["000E08012345", "00:0e:08:01:23:45", "000e.0801.2345", "00-0E-08-01-23-45"]
)
@pytest.mark.parametrize("name", ["MA", "MAU", "MAC"])
def test_mac_macros_come_from_one_value_in_any_form(name: str, given: str) -> None:
    values = normalize_state({name: given})
    assert (values["MA"], values["MAU"], values["MAC"]) == (
        "000e08012345",
        "000E08012345",
        "00:0e:08:01:23:45",
    )


def test_flat_profile_names_feed_their_macros() -> None:
    values = normalize_state({"GPP_A": "x", "GPP_SB": "y", "EM_User_Domain": "@d", "User_ID_1_": "100"})
    assert (values["A"], values["SB"], values["PDOM"], values["UID1"]) == ("x", "y", "@d", "100")


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"EM_Login": "mobile"}, "unknown phone-state name 'EM_Login'"),
        ({"MA": "0011223344"}, "is not a MAC address"),
        ({"MA": "00112233445Z"}, "is not a MAC address"),
        ({"MA": "001122334455", "MAU": "001122334466"}, "different MAC addresses"),
    ],
)
def test_bad_phone_state_is_refused_with_a_reason(state: dict[str, str], message: str) -> None:
    with pytest.raises(StateError, match=message):
        normalize_state(state)


def test_assignment_values_and_urls_expand_macros() -> None:
    result = evaluate(
        '(User_ID_1_ = "uid$B"; c = ""; d = "$MA")! /spa$MA.cfg', {"B": "42", "MA": "000E08012345"}
    )
    assert result.assignments == (("User_ID_1_", "uid42"), ("GPP_C", ""), ("GPP_D", "000e08012345"))
    assert result.url == "/spa000e08012345.cfg"

"""One canonical MAC form, whichever common way a person or a phone writes it."""

from __future__ import annotations

import pytest

from spaprov.mac import colon_form, mac_from_user_agent, normalize_mac


@pytest.mark.parametrize(
    "written", ["000E08012345", "00:0e:08:01:23:45", "00-0E-08-01-23-45", "000e.0801.2345", " 000e08012345 "]
)
def test_every_common_form_has_one_canonical_form(written: str) -> None:
    assert normalize_mac(written) == "000e08012345"
    assert colon_form("000e08012345") == "00:0e:08:01:23:45"


@pytest.mark.parametrize("written", ["", "0011223344", "00112233445Z", "alice", "0011223344556"])
def test_what_is_not_a_mac(written: str) -> None:
    assert normalize_mac(written) is None


def test_a_spa_user_agent_names_its_mac_and_model() -> None:
    agent = "Cisco/SPA525G2-7.5.5 (00112233445F)(CBT1234567)"
    assert mac_from_user_agent(agent) == ("00112233445f", "SPA525G2")
    assert mac_from_user_agent("Cisco/SPA525G2-7.5.5") is None

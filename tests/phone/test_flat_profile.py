"""The simulator reads flat profiles as SPA firmware does (Linksys SPA Provisioning Guide v3.0
p.28, v3.01 Example 2-2)."""

from __future__ import annotations

import pytest

from spaprov.config.models import MODELS
from spaprov.phone import ProfileFormatError, SpaPhone, parse_flat_profile
from spaprov.phone.firmware import apply_profile


def test_last_occurrence_wins_values_trimmed_newlines_become_spaces() -> None:
    body = b"""<?xml version="1.0"?>
    <flat-profile>
      <Station_Name ua="na">  First  </Station_Name>
      <Text_Logo group="Phone/General">two
         lines</Text_Logo>
      <Station_Name>Second</Station_Name>
      <!-- a comment -->
      <Empty/>
    </flat-profile>"""
    assert parse_flat_profile(body) == {"Station_Name": "Second", "Text_Logo": "two lines", "Empty": ""}


def test_flat_profile_may_be_nested_and_namespaced() -> None:
    body = (
        b'<top-level><other/><flat-profile xmlns="http://www.sipura.net/xsd/SPA50x-30x-SIP">'
        b"<Station_Name>Lobby</Station_Name></flat-profile></top-level>"
    )
    assert parse_flat_profile(body) == {"Station_Name": "Lobby"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<flat-profile><a></flat-profile>", "not well-formed"),
        (b"<profile><a>1</a></profile>", "no <flat-profile>"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><flat-profile><a>&a;</a></flat-profile>', "DOCTYPE"),
        (b"not xml at all", "not well-formed"),
    ],
)
def test_corrupt_profiles_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(ProfileFormatError, match=message):
        parse_flat_profile(body)


def test_unknown_parameters_are_ignored_and_absent_ones_unchanged() -> None:
    phone = SpaPhone("001122334455", MODELS["SPA502G"], "/default.cfg")
    phone.parameters["Station_Name"] = "Kept"
    changed = apply_profile(
        phone.parameters, {"Text_Logo": "Acme", "Not_A_Parameter": "x", "User_ID_2_": "9"}
    )
    assert changed  # Text_Logo changed: the phone reboots ([LSPG30] p.42)
    assert not apply_profile(phone.parameters, {"Text_Logo": "Acme", "Not_A_Parameter": "y"})
    assert phone.parameters["Text_Logo"] == "Acme" and phone.parameters["Station_Name"] == "Kept"
    assert "Not_A_Parameter" not in phone.parameters and "User_ID_2_" not in phone.parameters  # 1 line key


def test_rule_state_comes_from_the_parameters() -> None:
    phone = SpaPhone.of_model("00:11:22:33:44:55", "SPA525G2", "/x")
    phone.parameters.update(
        EM_Login_State="mobile", EM_Mobile_User_ID="alice", EM_User_Domain="@d", GPP_A="k"
    )
    macros = phone.macros()
    assert (macros["EM_Login_State"], macros["EM_Mobile_User_ID"], macros["GPP_A"]) == (
        "mobile",
        "alice",
        "k",
    )
    assert (macros["MA"], macros["PSN"], macros["PN"]) == ("001122334455", "525G2", "SPA525G2")
    assert phone.user_agent == "Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"


def test_the_user_agent_is_each_model_firmware_s() -> None:
    """Reference section 3.2: `Cisco/<MODEL>-<FW> (<MAC>)(<SERIAL>)`; the SPA525G sends no MAC."""
    agents = {
        model: SpaPhone.of_model("649ef3788e6a", model, serial="CBT141900G7").user_agent
        for model in ("SPA525G", "SPA504G", "SPA501G")
    }
    assert agents == {
        "SPA525G": "Cisco/SPA525G-7.4.7 (CBT141900G7)",
        "SPA504G": "Cisco/SPA504G-7.4.9c (649EF3788E6A)(CBT141900G7)",
        "SPA501G": "Cisco/SPA501G-7.4.4 (649EF3788E6A)(CBT141900G7)",
    }
    quiet = SpaPhone.of_model("649ef3788e6a", "SPA525G2", sends_mac=False)
    assert quiet.user_agent == "Cisco/SPA525G2-7.5.5 (CBT1234567)"


async def test_a_rule_that_cannot_be_evaluated_is_a_failed_resync_not_a_crash() -> None:
    phone = SpaPhone.of_model("001122334455", "SPA525G2", "/x")
    phone.parameters["GPP_A"] = "a" * 5000  # expands past the 4 KiB bound on one string
    phone.parameters["Profile_Rule"] = "http://127.0.0.1:9/$A.cfg"
    report = await phone.resync()
    assert not report.ok
    assert "cannot be evaluated" in report.message and "Profile_Rule" in report.message

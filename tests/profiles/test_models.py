"""Issue 11 items 5 and 6: what each model gets (line keys, attendant-console keys, speed
dials), how a profile that does not fit is fitted and warned about, and secrets hidden from the
phone's User web account (ua="na")."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import MappingProxyType

import pytest

from spaprov.config import ConfigError, load_profile_directory
from spaprov.config.models import MODELS
from spaprov.config.schema import Config, Device, EmProfile, Line, LineKey, ProfileContent, SpeedDial
from spaprov.profiles import ProfileBuilder, Renderer
from spaprov.profiles.advice import startup_advice
from spaprov.profiles.layout import layout
from tests.helpers.site import CONF_ROOM, SAMPLE

CONFIG = load_profile_directory(SAMPLE)
BUILDER = ProfileBuilder(Renderer())
# (line keys, attendant-console units, Speed_Dial_n): spaprov/config/models.py cites each.
EXPECTED = {
    "SPA501G": (8, 0, True),
    "SPA502G": (1, 0, True),
    "SPA504G": (4, 2, True),
    "SPA508G": (8, 2, True),
    "SPA509G": (12, 2, True),
    "SPA512G": (1, 0, True),
    "SPA514G": (4, 2, True),
    "SPA525G": (5, 2, True),
    "SPA525G2": (5, 2, False),
}


def device(model: str, content: ProfileContent | None = None) -> Device:
    return dataclasses.replace(
        CONFIG.devices[CONF_ROOM], model=MODELS[model], content=content or ProfileContent()
    )


def alice_with(content: ProfileContent) -> Config:
    profiles = {**CONFIG.em_profiles, "alice": EmProfile("alice", content)}
    return dataclasses.replace(CONFIG, em_profiles=MappingProxyType(profiles))


def tags(body: bytes) -> dict[str, ET.Element]:
    return {child.tag: child for child in ET.fromstring(body)}


def values(body: bytes) -> dict[str, str]:
    return {tag: element.text or "" for tag, element in tags(body).items()}


def test_every_model_is_known() -> None:
    assert set(MODELS) == set(EXPECTED)


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_what_each_model_gets(model: str) -> None:
    keys, units, speed_dials = EXPECTED[model]
    found = values(BUILDER.build(CONFIG, "host", device(model)))
    assert {n for n in range(1, 14) if f"Line_Enable_{n}_" in found} == set(range(1, keys + 1))
    console = {t for t in found if t.startswith("Unit_")}
    assert console == {f"Unit_{u}_Key_{k}" for u in range(1, units + 1) for k in range(1, 33)}
    assert {t for t in found if t.startswith("Speed_Dial_")} == (
        {f"Speed_Dial_{n}" for n in range(2, 10)} if speed_dials else set()
    )


def test_nine_lines_on_an_spa525g2_fill_its_five_keys_and_say_what_is_left_out() -> None:
    content = ProfileContent(lines=tuple(Line(n, f"20{n:02}") for n in range(1, 10)))
    config = alice_with(content)
    found = values(BUILDER.build(config, "mobile", device("SPA525G2"), user=CONFIG.users["alice"]))
    assert [found[f"User_ID_{n}_"] for n in range(1, 6)] == ["2001", "2002", "2003", "2004", "2005"]
    misfits = BUILDER.misfits(config, "mobile", device("SPA525G2"), CONFIG.users["alice"])
    assert misfits == tuple(
        f"line {n} (20{n:02}) does not fit: the SPA525G2 has 5 line keys, all used" for n in range(6, 10)
    )


def test_lines_written_for_a_bigger_phone_move_to_free_keys_not_to_nowhere() -> None:
    """Lines on keys 6-9 (a profile written for an SPA509G) gave an SPA525G2 no line at all."""
    content = ProfileContent(lines=tuple(Line(n, f"20{n:02}") for n in range(6, 10)))
    config = alice_with(content)
    found = values(BUILDER.build(config, "mobile", device("SPA525G2"), user=CONFIG.users["alice"]))
    assert [found[f"User_ID_{n}_"] for n in range(1, 6)] == ["2006", "2007", "2008", "2009", ""]
    assert [found[f"Extension_{n}_"] for n in range(1, 6)] == ["1", "2", "3", "4", "Disabled"]
    assert "line 6 (2006) is on line key 1: the SPA525G2 has 5" in layout(MODELS["SPA525G2"], content).misfits


def test_keys_past_the_phone_go_to_its_attendant_console_or_are_reported() -> None:
    content = ProfileContent(
        lines=(Line(1, "2001"),),
        line_keys=(LineKey(2, "blf", "Bob", "2002"), LineKey(9, "blf", "Carol", "2003")),
    )
    on_525g2 = layout(MODELS["SPA525G2"], content)  # 5 keys: key 9 is the console's 4th
    assert on_525g2.sidecar[3].function == "fnc=blf+sd+cp;sub=2003@$PROXY;nme=Carol"
    assert on_525g2.misfits == ("blf key 9 (Carol) is on attendant console 1 key 4",)
    on_502g = layout(MODELS["SPA502G"], content)  # one key, held by line 1; no console
    assert on_502g.sidecar == ()
    assert on_502g.misfits == (
        "blf key 2 (Bob) does not fit: no free key on the SPA502G",
        "blf key 9 (Carol) does not fit: no free key on the SPA502G",
    )
    on_509g = layout(MODELS["SPA509G"], content)  # 12 keys: everything where it was written
    assert on_509g.misfits == () and on_509g.keys[8].function.endswith("nme=Carol")


def test_the_speed_dial_name_is_a_key_label_where_the_model_has_no_speed_dial_parameters() -> None:
    content = ProfileContent(lines=(Line(1, "2001"),), speed_dials=(SpeedDial(2, "Reception", "1001"),))
    spa525g2 = layout(MODELS["SPA525G2"], content)
    assert (spa525g2.keys[1].short_name, spa525g2.keys[1].function) == (
        "Reception",
        "fnc=sd;ext=1001@$PROXY;nme=Reception",
    )
    assert spa525g2.speed_dials == () and spa525g2.misfits == ()
    spa504g = layout(MODELS["SPA504G"], content)  # Speed_Dial_2 holds the number alone
    assert [(slot.n, slot.number) for slot in spa504g.speed_dials][:2] == [(2, "1001"), (3, "")]
    assert spa504g.keys[1].function == ""


def test_a_misfit_is_logged_when_rendered(caplog: pytest.LogCaptureFixture) -> None:
    config = alice_with(ProfileContent(lines=tuple(Line(n, f"20{n:02}") for n in range(1, 10))))
    with caplog.at_level(logging.WARNING, logger="spaprov.profiles"):
        BUILDER.build(config, "mobile", device("SPA525G2"), user=CONFIG.users["alice"])
    (record,) = caplog.records
    assert "EM profile 'alice' of 'alice' does not fit SPA525G2 001122334455" in record.getMessage()
    assert "line 9 (2009) does not fit" in record.getMessage()


def test_render_and_serve_say_which_profiles_do_not_fit(site: Path) -> None:
    alice = site / "em_profiles" / "alice.toml"
    extra = "".join(f'\n[[lines]]\nnumber = {n}\nuser_id = "20{n:02}"\n' for n in range(6, 10))
    alice.write_text(
        alice.read_text().replace("[[speed_dials]]", extra.lstrip("\n") + "\n[[speed_dials]]", 1)
    )
    config = load_profile_directory(site)
    advice = startup_advice(config)
    assert any(line.startswith("em_profiles/alice.toml on a SPA525G2: line 6 (2006)") for line in advice)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "spaprov",
            "render",
            "--profiles",
            str(site),
            "--device",
            CONF_ROOM,
            "--user",
            "alice",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "spaprov render: warning: line 6 (2006) is on line key 3: the SPA525G2 has 5" in done.stderr
    assert ET.fromstring(done.stdout).tag == "flat-profile"  # stdout stays exactly the profile


def test_console_keys_are_accepted_up_to_the_models_reach(site: Path) -> None:
    path = site / "devices" / f"{CONF_ROOM}.toml"
    path.write_text(path.read_text().replace("key = 5", "key = 69"))  # SPA525G2: 5 + 64
    assert load_profile_directory(site).devices[CONF_ROOM].content.line_keys[0].key == 69
    path.write_text(path.read_text().replace("key = 69", "key = 70"))
    with pytest.raises(ConfigError, match=r"line_keys\[1\]\.key: must be between 1 and 69, not 70"):
        load_profile_directory(site)


def test_a_speed_dial_name_cannot_rewrite_a_keys_function(site: Path) -> None:
    path = site / "devices" / f"{CONF_ROOM}.toml"
    path.write_text(path.read_text().replace('name = "Reception"', 'name = "R;fnc=xml;url=http://evil/x"'))
    with pytest.raises(ConfigError, match=r"speed_dials\[1\].name: .* contains ';'"):
        load_profile_directory(site)


SECRETS = {"EM_Phone_User_ID", "EM_Phone_Password", "EM_Mobile_User_ID", "EM_Mobile_Password"}


@pytest.mark.parametrize("kind", ["default", "host", "mobile", "logout"])
def test_secrets_are_hidden_from_the_phones_user_account(kind: str) -> None:
    host_bootstrap = dataclasses.replace(
        CONFIG.site,
        host_credentials=dataclasses.replace(CONFIG.site.host_credentials, in_default_profile=True),
    )
    config = dataclasses.replace(CONFIG, site=host_bootstrap)
    phone = dataclasses.replace(CONFIG.devices[CONF_ROOM], host_password="host-secret")
    body = BUILDER.build(config, kind, phone, user=CONFIG.users["alice"], secure=True)  # type: ignore[arg-type]
    found = tags(body)
    secret = {t for t in found if t in SECRETS or (t.startswith("Password_") and t.endswith("_"))}
    assert {t for t in secret if t.startswith("Password_")}  # every kind clears or sets line passwords
    if kind == "default":
        assert {"EM_Phone_User_ID", "EM_Phone_Password"} <= secret
    if kind == "logout":
        assert {"EM_Mobile_User_ID", "EM_Mobile_Password"} <= secret
    assert {t for t in secret if found[t].get("ua") != "na"} == set()
    others = {t for t in found if t not in secret and found[t].get("ua") is not None}
    assert others == set()


def test_the_xml_declaration_is_the_one_real_spa_profiles_carry() -> None:
    body = BUILDER.build(CONFIG, "host", CONFIG.devices[CONF_ROOM])
    assert body.startswith(b'<?xml version="1.0" standalone="yes"?>\n')
    assert b"encoding=" not in body.split(b"\n", 1)[0]

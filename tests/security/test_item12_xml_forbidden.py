"""Item 12: characters XML 1.0 cannot carry (U+FFFE, U+FFFF, C0 controls) in a string that is
rendered into a profile made an invalid profile.  They are refused at validation now, naming the
file, the field and the code point, and a reload keeps serving the last good configuration."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from spaprov.auth.admins import AdminAccounts
from spaprov.config import ConfigError, load_profile_directory
from spaprov.profiles.templates import Renderer
from tests.helpers.site import ServerFactory, holder_of

ALICE = Path("users") / "alice.toml"
ADMIN = ("admin", "admin-secret")


def set_display_name(site: Path, escaped: str) -> None:
    path = site / ALICE
    text = path.read_text()
    assert 'display_name = "Alice Example"' in text
    path.write_text(text.replace('display_name = "Alice Example"', f'display_name = "{escaped}"'))


@pytest.mark.parametrize(
    ("escaped", "point", "position"),
    [
        ("Alice\\uFFFE", "the noncharacter U+FFFE", 6),
        ("\\uFFFFAlice", "the noncharacter U+FFFF", 1),
        ("Al\\u0001ice", "a control character U+0001", 3),
        ("Alice\\u001B[31m", "a control character U+001B", 6),
    ],
)
def test_a_display_name_xml_cannot_carry_is_refused(
    site: Path, escaped: str, point: str, position: int
) -> None:
    set_display_name(site, escaped)
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(site)
    assert [str(p) for p in raised.value.problems] == [
        f"users/alice.toml: display_name: contains {point} at position {position}, which XML 1.0 cannot carry"
    ]


def test_tab_and_ordinary_unicode_are_still_fine(site: Path) -> None:
    set_display_name(site, "Zo\\u00eb \\u5f20\\tTeam \\U0001F600")
    config = load_profile_directory(site)
    user = config.users["alice"]
    profile = Renderer().render(
        "mobile",
        config.site,
        config.devices["001122334455"].model,
        user=user,
        content=config.em_profiles["alice"].content,
    )
    ET.fromstring(profile)  # a well-formed profile


def test_what_the_old_validation_let_through_was_not_xml(site: Path) -> None:
    """Why the check matters: rendered, U+FFFE is a character reference no XML parser accepts."""
    config = load_profile_directory(site)
    user = config.users["alice"]
    broken = type(user)(user.user_id, "Alice\ufffe", user.em_profiles, user.default_profile)
    profile = Renderer().render(
        "mobile",
        config.site,
        config.devices["001122334455"].model,
        user=broken,
        content=config.em_profiles["alice"].content,
    )
    assert b"&#65534;" in profile
    with pytest.raises(ET.ParseError):
        ET.fromstring(profile)


def test_other_string_fields_are_checked_too(site: Path) -> None:
    device = site / "devices" / "001122334455.toml"
    device.write_text(device.read_text().replace('name = "Directory"', 'name = "Dir\\uFFFF"'))
    site_toml = site / "site.toml"
    site_toml.write_text(site_toml.read_text().replace('text_logo = "Example Corp"', 'text_logo = "\\u0008"'))
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(site)
    problems = {(p.file, p.field): p.reason for p in raised.value.problems}
    assert problems[("devices/001122334455.toml", "line_keys[1].name")].startswith(
        "contains the noncharacter U+FFFF at position 4"
    )
    assert problems[("site.toml", "site.text_logo")].startswith("contains a control character U+0008")


async def test_reload_keeps_serving_the_last_good_config(start: ServerFactory, site: Path) -> None:
    AdminAccounts(site / "admins.toml").set(ADMIN[0], "admin", ADMIN[1])
    server = await start(site, watch_interval=0.05)
    set_display_name(site, "Alice\\uFFFE")
    deadline = asyncio.get_running_loop().time() + 10
    async with httpx.AsyncClient(auth=ADMIN) as client:  # reload problems: administrators only
        while True:
            report = (await client.get(str(server.make_url("/healthz")))).json()
            if report["status"] == "degraded":
                break
            assert asyncio.get_running_loop().time() < deadline, "the bad edit was not noticed"
            await asyncio.sleep(0.05)
    assert report["generation"] == 1
    assert (
        "users/alice.toml: display_name: contains the noncharacter U+FFFE at position 6, "
        "which XML 1.0 cannot carry" in report["reload_problems"]
    )
    assert holder_of(server).config.users["alice"].display_name == "Alice Example"


async def test_the_api_refuses_them_too(start: ServerFactory, site: Path) -> None:
    """JSON can carry what TOML cannot (a lone surrogate): refused as a 4xx, never a 500."""
    AdminAccounts(site / "admins.toml").set(ADMIN[0], "admin", ADMIN[1])
    server = await start(site)
    url = str(server.make_url("/api/v1/users"))
    async with httpx.AsyncClient(auth=ADMIN) as client:
        for number, name in enumerate(["Carol\ufffe", "Carol\x01", "Carol\ud800"]):
            body = json.dumps({"id": f"carol{number}", "display_name": name, "em_profiles": ["alice"]})
            answer = await client.post(url, content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code in (400, 422), answer.text
            error = answer.json()["error"]
            assert set(error) == {"status", "code", "message", "details"}
            if answer.status_code == 422:
                (detail,) = error["details"]
                assert (detail["file"], detail["field"]) == (f"users/carol{number}.toml", "display_name")
                assert f"U+{ord(name[-1]):04X}" in detail["reason"]
            assert not (site / "users" / f"carol{number}.toml").exists()
        surrogate_key = json.dumps({"id": "carol9", "em_profiles": ["alice"], "x\ud800": 1})
        answer = await client.post(url, content=surrogate_key, headers={"Content-Type": "application/json"})
        assert answer.status_code in (400, 422), answer.text

"""Templates: well-formed XML for every model, escaping, per-model differences, host credentials."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from types import MappingProxyType

import pytest

from spaprov.config import load_profile_directory
from spaprov.config.models import MODELS
from spaprov.config.schema import Config, Device, Line, ProfileContent, User
from spaprov.profiles.builder import ProfileBuilder
from spaprov.profiles.templates import Renderer
from tests.helpers.site import SAMPLE

CONFIG = load_profile_directory(SAMPLE)
DEVICE = CONFIG.devices["001122334455"]
BUILDER = ProfileBuilder(Renderer())


def params(body: bytes) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(body)}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("kind", ["default", "host", "mobile"])
def test_every_model_and_kind_renders_well_formed_xml(model: str, kind: str) -> None:
    device = dataclasses.replace(
        DEVICE, model=MODELS[model], content=ProfileContent(lines=(Line(1, "1000"),))
    )
    body = BUILDER.build(CONFIG, kind, device, user=CONFIG.users["alice"] if kind == "mobile" else None)  # type: ignore[arg-type]
    found = params(body)
    keys = MODELS[model].line_keys
    assert f"Line_Enable_{keys}_" in found and f"Line_Enable_{keys + 1}_" not in found
    assert ("Text_Logo" in found) == MODELS[model].has_display
    assert body.decode("ascii").startswith('<?xml version="1.0" standalone="yes"?>\n<!-- spaprov')


def test_values_are_escaped_and_non_ascii_becomes_character_references() -> None:
    user = User("bob", '<Bob & "Al">', ("bob",), "bob")
    device = dataclasses.replace(DEVICE, station_name="Zoë's </Station_Name><x>")
    body = BUILDER.build(CONFIG, "mobile", device, user=user)
    found = params(body)
    assert found["Station_Display_Name"] == '<Bob & "Al">'
    assert found["Station_Name"] == "Zoë's </Station_Name><x>"
    assert b"&lt;Bob &amp; &#34;Al&#34;&gt;" in body and b"Zo&#235;" in body


def test_lines_beyond_the_phones_keys_are_left_out() -> None:
    content = ProfileContent(lines=tuple(Line(n, str(1000 + n)) for n in range(1, 13)))
    profiles = {"alice": dataclasses.replace(CONFIG.em_profiles["alice"], content=content)}
    config = dataclasses.replace(CONFIG, em_profiles=MappingProxyType(profiles))
    small = dataclasses.replace(DEVICE, model=MODELS["SPA502G"])
    found = params(BUILDER.build(config, "mobile", small, user=CONFIG.users["alice"]))
    assert found["User_ID_1_"] == "1001" and "User_ID_2_" not in found


def with_policy(in_default: bool, plain_http: bool) -> Config:
    policy = dataclasses.replace(
        CONFIG.site.host_credentials, in_default_profile=in_default, allow_plain_http=plain_http
    )
    return dataclasses.replace(CONFIG, site=dataclasses.replace(CONFIG.site, host_credentials=policy))


@pytest.mark.parametrize(
    ("in_default", "plain_http", "secure", "password", "expected"),
    [
        (False, False, True, "host-secret", False),
        (True, False, False, "host-secret", False),  # not over plain http unless forced
        (True, False, True, "host-secret", True),
        (True, True, False, "host-secret", True),  # explicitly forced
        (True, True, True, "", False),  # no bootstrap password on the device
    ],
)
def test_host_credentials_in_the_default_profile(
    in_default: bool, plain_http: bool, secure: bool, password: str, expected: bool
) -> None:
    device: Device = dataclasses.replace(DEVICE, host_password=password)
    found = params(BUILDER.build(with_policy(in_default, plain_http), "default", device, secure=secure))
    assert ("EM_Phone_Password" in found) == expected
    if expected:
        # The bare id ($PUID): the rule appends $PDOM itself.
        assert (found["EM_Phone_User_ID"], found["EM_Phone_Password"]) == ("conf-room-1", "host-secret")

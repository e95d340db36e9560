"""Issue 11 item 4: every parameter a mobile profile sets is reset by the host, logout and
default profiles, on every model: a set difference over rendered profiles, and no value of the
logged-out user left in them (the old host profile left Station_Display_Name on the screen)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from types import MappingProxyType

import pytest

from spaprov.config import load_profile_directory
from spaprov.config.models import MAX_KEY, MAX_LINE_KEYS, MODELS
from spaprov.config.schema import Config, EmProfile, Line, LineKey, ProfileContent, SpeedDial, User
from spaprov.profiles import ProfileBuilder, Renderer
from tests.helpers.site import SAMPLE

CONFIG = load_profile_directory(SAMPLE)
BUILDER = ProfileBuilder(Renderer())
USER = User("carol", "Carol Mobile", ("carol",), "carol")
# The fullest profile a user can have: every line, BLF keys past the biggest phone's line keys
# (onto attendant consoles), every speed dial; each value marked as the user's.
FULL = ProfileContent(
    lines=tuple(
        Line(n, f"9{n:03}", f"Carol line {n}", f"carol-secret-{n}", f"carol-auth-{n}", "carol.sip", f"C{n}")
        for n in range(1, MAX_LINE_KEYS + 1)
    ),
    speed_dials=tuple(SpeedDial(n, f"Carol dial {n}", f"77{n}") for n in range(2, 10)),
    line_keys=tuple(
        LineKey(k, "blf", f"CarolKey{k}", f"88{k}") for k in range(MAX_LINE_KEYS + 1, MAX_KEY + 1)
    ),
)
USER_VALUES = ("Carol", "carol", "9001", "771", "8813")


def config_with_carol() -> Config:
    profiles = {**CONFIG.em_profiles, "carol": EmProfile("carol", FULL)}
    users = {**CONFIG.users, "carol": USER}
    return dataclasses.replace(CONFIG, em_profiles=MappingProxyType(profiles), users=MappingProxyType(users))


def parameters(body: bytes) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(body)}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("reset_by", ["host", "logout", "default"])
def test_everything_a_mobile_profile_sets_is_reset(model: str, reset_by: str) -> None:
    config = config_with_carol()
    device = dataclasses.replace(config.devices["001122334455"], model=MODELS[model])
    mobile = parameters(BUILDER.build(config, "mobile", device, user=USER))
    other = parameters(BUILDER.build(config, reset_by, device))  # type: ignore[arg-type]
    assert set(mobile) - set(other) == set()
    # ... and reset to something that is not the user's.
    for name in set(mobile) - {"Profile_Rule"}:
        assert not any(value in other[name] for value in USER_VALUES), (name, other[name])
    assert "Station_Display_Name" in mobile and mobile["Station_Display_Name"] == "Carol Mobile"
    assert other["Station_Display_Name"] == "Conference Room 1"  # the phone's own name again


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_fullest_profile_sets_every_slot_the_model_has(model: str) -> None:
    """The set is the model's: an empty profile renders the very same parameter names."""
    config = config_with_carol()
    device = dataclasses.replace(
        config.devices["001122334455"], model=MODELS[model], content=ProfileContent()
    )
    full = parameters(BUILDER.build(config, "mobile", device, user=USER))
    empty = parameters(BUILDER.build(config, "host", device))
    assert set(full) == set(empty)

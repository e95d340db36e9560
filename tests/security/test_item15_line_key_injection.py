"""Item 15: a line key's `target` or `name` was pasted verbatim into `Extended_Function_n_`, so
`3003;fnc=xml;url=http://evil.example/x` turned a BLF key into an XML service of the writer's
choosing.  Both fields are now held to what they legitimately contain, on load and through the
API (which validates with the same code)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from spaprov.auth.admins import AdminAccounts
from spaprov.config import ConfigError, load_profile_directory
from spaprov.config.models import MODELS
from spaprov.config.schema import LineKey, ProfileContent
from spaprov.profiles.layout import layout
from tests.helpers.site import ServerFactory

ADMIN = ("admin", "admin-secret")
BOB_KEY = 'kind = "blf"\nname = "Bob"\ntarget = "2002"'  # em_profiles/alice.toml


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def problems_of(site: Path) -> dict[tuple[str, str], str]:
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(site)
    return {(p.file, p.field): p.reason for p in raised.value.problems}


@pytest.mark.parametrize(
    "target",
    ["3003;fnc=xml;url=http://evil.example/x", "2002@evil.example", "2002 ", "$PROXY", "20=02"],
)
def test_a_blf_target_is_an_extension(site: Path, target: str) -> None:
    replace(site / "em_profiles" / "alice.toml", 'target = "2002"', f'target = "{target}"')
    assert problems_of(site)[("em_profiles/alice.toml", "line_keys[1].target")] == (
        f"{target!r} is not an extension (letters, digits, _ . + * # -; the server adds the @domain itself)"
    )


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8080/directory.xml;fnc=sd;ext=900",
        "http://evil.example/x?fnc=blf",
        "http://user:pw@127.0.0.1/directory.xml",
        "http://127.0.0.1/dir $MA.xml",
        "http://127.0.0.1/dir$MA.xml",
        "javascript:alert(1)",
        "ftp://127.0.0.1/directory.xml",
    ],
)
def test_a_service_target_is_a_plain_url(site: Path, target: str) -> None:
    replace(site / "devices" / "001122334455.toml", "http://127.0.0.1:8080/directory.xml", target)
    reasons = problems_of(site)
    assert reasons[("devices/001122334455.toml", "line_keys[1].target")].startswith(
        f"{target!r} is not a plain http(s) URL"
    )


@pytest.mark.parametrize("name", ["Bob;fnc=xml", "Bob@evil", "Bob $PROXY", "nme=x"])
def test_a_name_cannot_add_fields(site: Path, name: str) -> None:
    replace(site / "em_profiles" / "alice.toml", BOB_KEY, BOB_KEY.replace('name = "Bob"', f'name = "{name}"'))
    reasons = problems_of(site)
    assert (
        "would change the key's Extended_Function" in reasons[("em_profiles/alice.toml", "line_keys[1].name")]
    )


@pytest.mark.parametrize(
    ("blf", "url", "name"),
    [
        ("*8#2002", "https://dir.example.com:8443/xml/dir.xml?dept=sales&x=1", "Bob (Sales) & Co."),
        ("alice.smith", "http://[2001:db8::1]:8080/d.xml", "Zoë"),
    ],
)
def test_legitimate_keys_still_load(site: Path, blf: str, url: str, name: str) -> None:
    replace(site / "em_profiles" / "alice.toml", BOB_KEY, f'kind = "blf"\nname = "{name}"\ntarget = "{blf}"')
    replace(site / "devices" / "001122334455.toml", "http://127.0.0.1:8080/directory.xml", url)
    config = load_profile_directory(site)
    assert config.em_profiles["alice"].content.line_keys[0] == LineKey(2, "blf", name, blf)
    assert config.devices["001122334455"].content.line_keys[0].target == url


def test_what_the_injection_did() -> None:
    """The rendering that made the fields dangerous (unchanged: the validation is the fix)."""
    content = ProfileContent(line_keys=(LineKey(1, "blf", "Bob", "3003;fnc=xml;url=http://evil.example/x"),))
    (slot,) = layout(MODELS["SPA502G"], content).keys
    assert slot.function == "fnc=blf+sd+cp;sub=3003;fnc=xml;url=http://evil.example/x@$PROXY;nme=Bob"


async def test_the_api_refuses_an_injected_key(start: ServerFactory, site: Path) -> None:
    AdminAccounts(site / "admins.toml").set(ADMIN[0], "admin", ADMIN[1])
    server = await start(site)
    profile = {
        "name": "mallory",
        "line_keys": [
            {"key": 1, "kind": "blf", "name": "Boss", "target": "3003;fnc=xml;url=http://evil.example/x"}
        ],
    }
    async with httpx.AsyncClient(auth=ADMIN) as client:
        answer = await client.post(str(server.make_url("/api/v1/em_profiles")), json=profile)
        assert answer.status_code in (400, 422), answer.text
        error = answer.json()["error"]
        assert error["code"] == "validation_failed"
        assert {
            "file": "em_profiles/mallory.toml",
            "field": "line_keys[1].target",
            "reason": "'3003;fnc=xml;url=http://evil.example/x' is not an extension "
            "(letters, digits, _ . + * # -; the server adds the @domain itself)",
        } in error["details"]
        assert not (site / "em_profiles" / "mallory.toml").exists()
        fine = {**profile, "line_keys": [{"key": 1, "kind": "blf", "name": "Boss", "target": "3003"}]}
        assert (await client.post(str(server.make_url("/api/v1/em_profiles")), json=fine)).status_code == 201

"""Issue 11 item 3: the SPA525G sends no MAC in its User-Agent (`Cisco/SPA525G-7.4.7
(CBT141900G7)`, [WAZO] common.py).  The sample rule names the phone in every URL (?mac=$MA), a
host fetch is known by its Digest user, and `serve` warns at start-up about URLs that name no
phone.  Every request here is a real HTTP client sending that User-Agent."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
from aiohttp.test_utils import TestServer

from spaprov.rules import evaluate
from tests.helpers.cli import serve
from tests.helpers.site import CONF_ROOM, ServerFactory, copy_sample, flat_profile

SPA525G = "Cisco/SPA525G-7.4.7 (CBT141900G7)"
HOST = httpx.DigestAuth("conf-room-1@example.com", "host-secret")
ALICE = httpx.DigestAuth("alice@example.com", "1234")


async def test_every_kind_is_served_to_a_phone_that_states_no_mac(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    rule = (site / "site.toml").read_text()
    async with _client(server) as client:
        # The URLs the sample rule makes this phone fetch, MAC expanded by the phone itself.
        chosen = evaluate(_rule(rule), {"MA": CONF_ROOM})
        assert chosen.query == f"mac={CONF_ROOM}"
        default = await client.get(f"{chosen.path}?{chosen.query}")
        assert default.status_code == 200, default.text
        assert flat_profile(default.content)["Station_Name"] == "Conference Room 1"

        mobile = await client.get(f"/mobilephone.cfg?mac={CONF_ROOM}", auth=ALICE)
        assert mobile.status_code == 200, mobile.text
        assert flat_profile(mobile.content)["User_ID_1_"] == "2001"

        host = await client.get(f"/hostphone.cfg?mac={CONF_ROOM}", auth=HOST)
        assert host.status_code == 200 and flat_profile(host.content)["User_ID_1_"] == "1000"


async def test_a_host_fetch_without_a_mac_is_known_by_its_digest_user(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site)
    async with _client(server) as client:
        host = await client.get("/hostphone.cfg", auth=HOST)
        assert host.status_code == 200, host.text
        assert flat_profile(host.content)["Station_Name"] == "Conference Room 1"
        # Alice's credentials are nobody's host credentials: refused, not guessed.
        assert (await client.get("/hostphone.cfg", auth=ALICE)).status_code == 403


async def test_without_a_mac_default_and_mobile_fetches_are_refused_clearly(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site)
    async with _client(server) as client:
        default = await client.get("/default.cfg")
        assert default.status_code == 400 and "$MA" in default.text
        assert (await client.get("/mobilephone.cfg", auth=ALICE)).status_code == 400
        assert (await client.get("/default.cfg?mac=0011223344ff")).status_code == 404  # unknown phone
        assert (await client.get("/default.cfg?mac=nonsense")).status_code == 400


def _client(server: TestServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(server.make_url("/")), headers={"User-Agent": SPA525G})


def _rule(site_toml: str) -> str:
    return str(tomllib.loads(site_toml)["site"]["profile_rule"])


def test_serve_warns_at_start_up_about_urls_that_name_no_phone(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    site_toml = site / "site.toml"
    site_toml.write_text(site_toml.read_text().replace("?mac=$MA", ""))
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state):
        with httpx.Client() as client:  # still served: a phone with its MAC in the UA works
            assert client.get(served.url + "/default.cfg", headers={"User-Agent": SPA525G}).status_code == 400
        process = served.process
    assert process.stdout is not None
    output = process.stdout.read()
    assert output.count("[unidentified-phone]") == 2, output  # default and mobile, not host
    assert "/default.cfg names no phone" in output


def test_the_sample_site_starts_without_that_warning(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    for served in serve("--profiles", str(site), "--state", f"sqlite:///{tmp_path / 's.db'}"):
        process = served.process
    assert process.stdout is not None
    assert "[unidentified-phone]" not in process.stdout.read()

"""Item 5: only authenticated evidence may end or re-open an extension-mobility session.

Before the fix any fetch of /default.cfg carrying a phone's MAC in its User-Agent (no credentials
at all) ended that phone's sessions and acknowledged its pending logouts: a forced, max_login_time
or auto_logout logout was undone and the next mobile resync got the full mobile profile with the
user's SIP password.  Driven here over real HTTP against a real server on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.clock import ManualClock
from spaprov.mobility.policy import LOGOUT_ACK_DELAY
from tests.helpers.site import SPA_AGENT, ServerFactory

ADMIN = ("admin", "admin-secret")
ROOM_2 = "00aabbccddee"
ROOM_2_AGENT = f"Cisco/SPA504G-7.5.5 ({ROOM_2.upper()})(CBT7654321)"
PASSWORDS = {"alice": "1234", "bob": "5678"}
SIP_PASSWORDS = {"alice": "sip-alice", "bob": "sip-bob"}


async def mobile(server: TestServer, user: str, agent: str = SPA_AGENT) -> str:
    """The user's mobile fetch (Digest): the profile body; asserts 200."""
    async with httpx.AsyncClient(headers={"User-Agent": agent}) as client:
        response = await client.get(
            str(server.make_url("/mobilephone.cfg")),
            auth=httpx.DigestAuth(f"{user}@example.com", PASSWORDS[user]),
        )
    assert response.status_code == 200, response.text
    return response.text


def is_mobile_profile(body: str, user: str) -> bool:
    logout = "<EM_Login_State>host</EM_Login_State>" in body
    assert logout != (SIP_PASSWORDS[user] in body), "a profile is either the user's or the logout one"
    return not logout


async def spoofed_default(server: TestServer, agent: str = SPA_AGENT) -> None:
    """What anyone on the network can send: no credentials, the phone's User-Agent."""
    async with httpx.AsyncClient(headers={"User-Agent": agent}) as client:
        response = await client.get(str(server.make_url("/default.cfg")))
    assert response.status_code == 200


async def active_users(server: TestServer) -> list[str]:
    async with httpx.AsyncClient(auth=ADMIN) as client:
        response = await client.get(str(server.make_url("/api/v1/sessions")))
    assert response.status_code == 200
    return sorted(item["user"] for item in response.json()["items"])


async def test_spoofed_default_does_not_undo_a_forced_logout(start: ServerFactory, site: Path) -> None:
    clock = ManualClock()
    server = await start(site, clock=clock)
    assert is_mobile_profile(await mobile(server, "alice"), "alice")
    async with httpx.AsyncClient(auth=ADMIN) as client:
        forced = await client.delete(str(server.make_url("/api/v1/sessions/alice")))
    assert forced.status_code == 200 and [s["user"] for s in forced.json()["ended"]] == ["alice"]

    await spoofed_default(server)
    # The phone still holds alice's credentials: its resync must get the logout profile.
    assert not is_mobile_profile(await mobile(server, "alice"), "alice")
    await spoofed_default(server)
    clock.advance(LOGOUT_ACK_DELAY / 2)
    assert not is_mobile_profile(await mobile(server, "alice"), "alice")  # a retry: still logged out
    assert await active_users(server) == []

    # A phone without host credentials never proves it heard the logout; once the logout profile
    # has been served and long enough has passed, alice typing her password again is a login.
    clock.advance(LOGOUT_ACK_DELAY)
    assert is_mobile_profile(await mobile(server, "alice"), "alice")
    assert await active_users(server) == ["alice"]


async def test_spoofed_default_does_not_end_an_active_session(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    assert is_mobile_profile(await mobile(server, "bob"), "bob")
    await spoofed_default(server)
    assert await active_users(server) == ["bob"]
    assert is_mobile_profile(await mobile(server, "bob"), "bob")


async def test_spoofed_default_does_not_undo_max_login_time(start: ServerFactory, site: Path) -> None:
    clock = ManualClock()
    server = await start(site, clock=clock)
    assert is_mobile_profile(await mobile(server, "bob"), "bob")
    clock.advance(8 * 3600)  # the sample site's max_login_time is 8:00
    assert not is_mobile_profile(await mobile(server, "bob"), "bob")
    await spoofed_default(server)
    assert not is_mobile_profile(await mobile(server, "bob"), "bob")


async def test_the_phones_own_host_fetch_still_ends_the_session(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    assert is_mobile_profile(await mobile(server, "alice"), "alice")
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(
            str(server.make_url("/hostphone.cfg")),
            auth=httpx.DigestAuth("conf-room-1@example.com", "host-secret"),
        )
    assert response.status_code == 200
    assert await active_users(server) == []


async def test_expired_session_elsewhere_does_not_block_not_allowed(start: ServerFactory, site: Path) -> None:
    """A phone without host credentials logs out through the unauthenticated default profile,
    which proves nothing; under not_allowed max_login_time is what frees the user."""
    (site / "devices" / f"{ROOM_2}.toml").write_text(
        'model = "SPA504G"\nstation_name = "Conference Room 2"\nhost_user = "conf-room-2"\n'
        '[[lines]]\nnumber = 1\nuser_id = "1100"\ndisplay_name = "Conference Room 2"\n'
    )
    CredentialStore(site / "credentials.htdigest", "prov.example.com").set_password(
        "conf-room-2@example.com", "room2-secret"
    )
    clock = ManualClock()
    server = await start(site, clock=clock)
    assert is_mobile_profile(await mobile(server, "alice"), "alice")
    await spoofed_default(server)  # "logged out" on the first phone: proves nothing
    async with httpx.AsyncClient(headers={"User-Agent": ROOM_2_AGENT}) as client:
        url, auth = str(server.make_url("/mobilephone.cfg")), httpx.DigestAuth("alice@example.com", "1234")
        assert (await client.get(url, auth=auth)).status_code == 403  # logged in elsewhere
        clock.advance(8 * 3600)
        assert (await client.get(url, auth=auth)).status_code == 200
    assert await active_users(server) == ["alice"]
    # The first phone, should it come back with alice's credentials, is told to log out.
    assert not is_mobile_profile(await mobile(server, "alice"), "alice")


async def test_spoofed_default_by_mac_query_does_not_undo_an_auto_logout(
    start: ServerFactory, site: Path
) -> None:
    """multiple_login = "auto_logout": bob logging in on a second phone ends his session on the
    first.  An unauthenticated /default.cfg?mac=<first phone> (the seed rule's own URL, sent by
    anyone, with any User-Agent) must not acknowledge that logout: the first phone's next resync
    with bob's credentials still gets the logout profile, never bob's SIP password."""
    site_toml = site / "site.toml"
    site_toml.write_text(
        site_toml.read_text().replace('multiple_login = "not_allowed"', 'multiple_login = "auto_logout"')
    )
    (site / "devices" / f"{ROOM_2}.toml").write_text(
        'model = "SPA504G"\nstation_name = "Conference Room 2"\nhost_user = "conf-room-2"\n'
        '[[lines]]\nnumber = 1\nuser_id = "1100"\ndisplay_name = "Conference Room 2"\n'
    )
    CredentialStore(site / "credentials.htdigest", "prov.example.com").set_password(
        "conf-room-2@example.com", "room2-secret"
    )
    server = await start(site)
    assert is_mobile_profile(await mobile(server, "bob"), "bob")
    assert is_mobile_profile(await mobile(server, "bob", ROOM_2_AGENT), "bob")  # ends the first
    assert await active_users(server) == ["bob"]
    for agent in ("curl/8.5.0", SPA_AGENT):
        async with httpx.AsyncClient(headers={"User-Agent": agent}) as client:
            spoofed = await client.get(str(server.make_url("/default.cfg?mac=001122334455")))
        assert spoofed.status_code == 200
        assert not is_mobile_profile(await mobile(server, "bob"), "bob")
    assert is_mobile_profile(await mobile(server, "bob", ROOM_2_AGENT), "bob")

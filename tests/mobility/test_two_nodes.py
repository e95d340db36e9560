"""Two spaprov instances, one profile directory, one state store (PostgreSQL in CI; SQLite too):
what one node decides, the other's policy sees; a nonce from one node is good on the other."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers.digest_client import authorization, parse_challenge
from tests.helpers.mobility import ROOM_2, Starter, make_site
from tests.helpers.site import CONF_ROOM, free_port

ROOM_2_AGENT = f"Cisco/SPA504G-7.5.5 ({ROOM_2.upper()})(CBT0000002)"


async def test_a_login_through_one_node_is_seen_by_the_other(live: Starter, tmp_path: Path) -> None:
    first_port, second_port = free_port(), free_port()
    site = make_site(tmp_path / "shared", first_port, multiple_login='"not_allowed"')
    toml = site / "site.toml"
    toml.write_text(toml.read_text().replace('nonce_secret = "random"', 'nonce_secret = "file:nonce.secret"'))
    (site / "nonce.secret").write_text("a-secret-both-nodes-share-0123456789\n")
    first = await live(site=site, port=first_port)
    second = await live(site=site, port=second_port)

    phone = first.phone(CONF_ROOM)  # its rule points at the first node
    await phone.boot()
    assert (await phone.login("alice", "1234")).ok

    async with httpx.AsyncClient(headers={"User-Agent": ROOM_2_AGENT}) as client:
        refused = await client.get(
            f"http://127.0.0.1:{second_port}/mobilephone.cfg",
            auth=httpx.DigestAuth("alice@example.com", "1234"),
        )
        assert refused.status_code == 403 and "logged in elsewhere" in refused.text
        # A challenge from one node, answered to the other (a load balancer may do that).
        challenge = await client.get(f"http://127.0.0.1:{first_port}/hostphone.cfg")
        header = authorization(
            parse_challenge(challenge.headers["WWW-Authenticate"]),
            "conf-room-2@example.com",
            "room2-secret",
            uri="/hostphone.cfg",
        )
        host = await client.get(
            f"http://127.0.0.1:{second_port}/hostphone.cfg", headers={"Authorization": header}
        )
        assert host.status_code == 200 and b"<User_ID_1_>1100</User_ID_1_>" in host.content

    (denied,) = await first.audit("denied")  # written by the second node, read through the first
    assert denied.device == ROOM_2
    assert [s.device for s in await second.sessions()] == [CONF_ROOM]
    assert (await phone.logout()).ok
    assert await second.sessions() == []

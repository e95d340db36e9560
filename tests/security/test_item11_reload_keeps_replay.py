"""Item 11: a reload that changes [auth] must keep the replay table and the lockouts, and a
restart with a configured nonce secret must not accept a replay of a nonce issued before it."""

from __future__ import annotations

from pathlib import Path

from spaprov.clock import ManualClock
from spaprov.live.reload import reload_now
from tests.helpers.auth import HOST_PASSWORD, HOST_USER, challenge, change_auth, digest_header, get
from tests.helpers.digest_client import authorization
from tests.helpers.site import ServerFactory, holder_of


async def test_used_header_does_not_replay_after_an_auth_reload(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    header = await digest_header(server)
    assert (await get(server, "/hostphone.cfg", header=header)).status_code == 200
    assert (await get(server, "/hostphone.cfg", header=header)).status_code == 401  # replay refused

    holder = holder_of(server)
    generation = holder.generation
    change_auth(site, "max_failures = 5", "max_failures = 6")
    assert await reload_now(holder) and holder.generation == generation + 1
    assert holder.authenticator.throttle.max_failures == 6  # the new limits are in force

    replay = await get(server, "/hostphone.cfg", header=header)
    assert replay.status_code == 401
    # A fresh login still works after the reload.
    assert (await get(server, "/hostphone.cfg", header=await digest_header(server))).status_code == 200


async def test_lockout_survives_an_auth_reload(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    for _ in range(5):
        wrong = await digest_header(server, password="wrong")
        assert (await get(server, "/hostphone.cfg", header=wrong)).status_code == 401
    right = await digest_header(server)
    assert (await get(server, "/hostphone.cfg", header=right)).status_code == 429

    change_auth(site, "nonce_lifetime = 300", "nonce_lifetime = 600")
    assert await reload_now(holder_of(server))
    locked = await get(server, "/hostphone.cfg", header=await digest_header(server))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


async def test_restart_with_a_configured_secret_refuses_an_old_nonce(
    start: ServerFactory, site: Path
) -> None:
    (site / "nonce.secret").write_text("0123456789abcdef0123456789abcdef\n")
    change_auth(site, 'nonce_secret = "random"', 'nonce_secret = "file:nonce.secret"')
    clock = ManualClock()
    first = await start(site, clock=clock)
    nonce = await challenge(first)
    header = authorization(nonce, HOST_USER, HOST_PASSWORD, uri="/hostphone.cfg")
    assert (await get(first, "/hostphone.cfg", header=header)).status_code == 200
    await first.close()

    clock.advance(1)  # the "restart": a new process with an empty replay table
    second = await start(site, clock=clock)
    replay = await get(second, "/hostphone.cfg", header=header)
    assert replay.status_code == 401
    assert "stale=true" in replay.headers["WWW-Authenticate"]  # a phone just takes a new nonce
    # Nonces the new process issues work as usual (also with a clock that has not moved).
    assert (await get(second, "/hostphone.cfg", header=await digest_header(second))).status_code == 200

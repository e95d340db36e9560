"""Extension mobility end to end: the simulator against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from spaprov.mobility import SqliteStateStore
from spaprov.mobility.store import Transaction
from tests.helpers.mobility import ROOM_2, Starter, make_site
from tests.helpers.site import CONF_ROOM, free_port


async def test_conference_phone_boots_default_then_host(live: Starter) -> None:
    server = await live()
    report = await server.phone().boot()
    assert report.ok
    # each profile that changes the phone reboots it, and it resyncs after the reboot ([LSPG30]
    # p.42; Resync_On_Reset): the second host fetch changes nothing, so the phone stays up
    names = [f.url.rsplit("/", 1)[1].split("?")[0] for f in report.fetches]
    assert names == ["default.cfg", "hostphone.cfg", "hostphone.cfg"]
    assert [f.status for f in report.fetches] == [200, 200, 200]
    assert (report.line_1, report.line_1_name, report.station_name) == (
        "1000",
        "Conference Room 1",
        "Conference Room 1",
    )


async def test_login_then_logout(live: Starter) -> None:
    server = await live()
    phone = server.phone()
    await phone.boot()
    login = await phone.login("alice", "1234")
    assert login.ok and (login.login_state, login.line_1, login.line_1_name) == (
        "mobile",
        "2001",
        "Alice Example",
    )
    (session,) = await server.sessions()
    assert (session.user_id, session.device) == ("alice", CONF_ROOM)
    assert (await phone.resync()).line_1 == "2001"  # a periodic resync keeps her logged in
    logout = await phone.logout()
    assert logout.ok and (logout.login_state, logout.line_1) == ("host", "1000")
    assert await server.sessions() == []
    (ended,) = await server.sessions(active_only=False)
    assert ended.end_reason == "logout"
    assert [e.event for e in await server.audit()] == ["login", "logout"]


async def test_multiple_login_not_allowed(live: Starter) -> None:
    server = await live(multiple_login='"not_allowed"')
    first, second = server.phone(CONF_ROOM), server.phone(ROOM_2)
    await first.boot()
    await second.boot()
    assert (await first.login("alice", "1234")).ok
    refused = await second.login("alice", "1234")
    assert not refused.ok and refused.fetches[-1].status == 403
    assert (refused.login_state, refused.line_1) == ("", "1100")  # still its host profile
    (denied,) = await server.audit("denied")
    assert denied.device == ROOM_2 and "logged in elsewhere" in (denied.detail or "")
    assert [s.device for s in await server.sessions()] == [CONF_ROOM]


async def test_multiple_login_auto_logout(live: Starter) -> None:
    server = await live(multiple_login='"auto_logout"')
    first, second = server.phone(CONF_ROOM), server.phone(ROOM_2)
    await first.boot()
    await second.boot()
    assert (await first.login("alice", "1234")).ok
    assert (await second.login("alice", "1234")).line_1 == "2001"
    kicked = await first.resync()  # the first phone, still holding alice's credentials
    names = [f.url.rsplit("/", 1)[1].split("?")[0] for f in kicked.fetches]
    # the logout profile, then its host profile (and again after the reboot that one caused)
    assert names == ["mobilephone.cfg", "hostphone.cfg", "hostphone.cfg"]
    assert (kicked.login_state, kicked.line_1) == ("host", "1000")
    assert [s.device for s in await server.sessions()] == [ROOM_2]
    (auto,) = await server.audit("auto_logout")
    assert auto.device == CONF_ROOM and auto.detail == f"logged in on {ROOM_2}"
    assert (await second.resync()).line_1 == "2001"  # and the second phone is not kicked back
    assert (await first.resync()).line_1 == "1000"


async def test_multiple_login_allowed(live: Starter) -> None:
    server = await live(multiple_login='"allowed"')
    first, second = server.phone(CONF_ROOM), server.phone(ROOM_2)
    for phone in (first, second):
        await phone.boot()
        assert (await phone.login("alice", "1234")).ok
    assert sorted(s.device for s in await server.sessions()) == sorted([ROOM_2, CONF_ROOM])
    assert (await first.resync()).line_1 == (await second.resync()).line_1 == "2001"


async def test_max_login_time_with_an_injected_clock(live: Starter) -> None:
    server = await live(max_login_time='"1:30"')
    phone = server.phone()
    await phone.boot()
    assert (await phone.login("bob", "5678")).line_1 == "2002"
    server.clock.advance(89 * 60)
    assert (await phone.resync()).line_1 == "2002"
    server.clock.advance(60)
    expired = await phone.resync()
    assert (expired.login_state, expired.line_1) == ("host", "1000")
    (auto,) = await server.audit("auto_logout")
    assert auto.detail == "maximum login time 1:30 reached"
    (ended,) = await server.sessions(active_only=False)
    assert ended.end_reason == "max_login_time"
    assert (await phone.login("bob", "5678")).ok  # he may log in again


async def test_wrong_password_then_lockout(live: Starter) -> None:
    server = await live()
    phone = server.phone()
    await phone.boot()
    wrong = await phone.login("alice", "0000")
    assert not wrong.ok and wrong.fetches[-1].status == 401
    assert (wrong.login_state, wrong.line_1) == ("", "1000")
    assert await server.sessions(active_only=False) == []
    for _ in range(4):
        await phone.login("alice", "0000")
    locked = await phone.login("alice", "1234")
    assert not locked.ok and locked.fetches[-1].status == 429
    (failed,) = await server.audit("failed_auth")  # coalesced: one row per user, client, interval
    assert (failed.user_id, failed.detail) == ("alice", "4 failures")  # as her logins are
    assert len(await server.audit("lockout")) == 1
    server.clock.advance(301)
    assert (await phone.login("alice", "1234")).ok


async def test_server_restart_keeps_the_session(live: Starter, tmp_path: Path) -> None:
    port = free_port()
    site = make_site(tmp_path / "restart", port)
    first = await live(site=site, port=port)
    phone = first.phone()
    await phone.boot()
    assert (await phone.login("alice", "1234")).ok
    (before,) = await first.sessions()
    await first.server.close()
    second = await live(site=site, port=port, clock=first.clock)
    assert (await phone.resync()).line_1 == "2001"
    (after,) = await second.sessions()
    assert after.id == before.id
    assert [e.event for e in await second.audit()] == ["login"]


class SlowStore(SqliteStateStore):
    """Every writing transaction takes a while: logins pile up as they would under load."""

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        if write:
            time.sleep(0.3)
        with super().transaction(write=write) as tx:
            yield tx


async def test_concurrent_login_throttle(live: Starter, tmp_path: Path) -> None:
    port = free_port()
    site = make_site(tmp_path / "throttle", port, max_concurrent_logins="1")
    server = await live(site=site, port=port, store=SlowStore(site / "slow.sqlite3"))
    first, second = server.phone(CONF_ROOM), server.phone(ROOM_2)
    await asyncio.gather(first.boot(), second.boot())
    results = await asyncio.gather(first.login("alice", "1234"), second.login("bob", "5678"))
    statuses = sorted(r.fetches[-1].status or 0 for r in results)
    assert statuses == [200, 503]
    loser = next(r for r in results if not r.ok)
    assert "too many logins in progress" in loser.message

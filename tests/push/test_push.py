"""Immediate logout: when an administrator, auto_logout or max_login_time ends a session, the
server sends the phone a SIP NOTIFY `Event: resync` and answers its Digest challenge with the
phone's line-1 SIP account; a real UDP socket stands in for the phone (tests/push/fake_phone)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.cli import main
from spaprov.clock import ManualClock, system_clock
from spaprov.config.schema import MobilityPolicy
from spaprov.mobility import Mobility, forced_logout, open_state
from spaprov.push.client import push_resync
from spaprov.push.sip import SipCredentials
from spaprov.server.app import PUSHER
from tests.helpers.site import CONF_ROOM, SPA_AGENT, ServerFactory, flat_profile
from tests.push.fake_phone import FakePhone

ALICE_LINE = SipCredentials("2001", "2001", "sip-alice")
ROOM_LINE = SipCredentials("1000", "1000", "sip-conf-room-1")


@pytest.fixture
async def phone() -> AsyncIterator[FakePhone]:
    fake = FakePhone(user="2001", password="sip-alice")
    yield fake
    fake.close()


def configure_push(site: Path, **push: object) -> None:
    text = "\n[push]\n" + "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in push.items())
    with (site / "site.toml").open("a") as toml:
        toml.write(text.replace("True", "true").replace("False", "false"))


async def fetch(server: TestServer, path: str, user: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(auth=httpx.DigestAuth(user, password)) as client:
        return await client.get(str(server.make_url(path)), headers={"User-Agent": SPA_AGENT})


async def login_alice(server: TestServer) -> None:
    answer = await fetch(server, "/mobilephone.cfg", "alice@example.com", "1234")
    assert answer.status_code == 200
    assert flat_profile(answer.content)["User_ID_1_"] == "2001"


async def metrics(server: TestServer) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(str(server.make_url("/metrics")), auth=("admin", "admin-secret"))).text


async def test_the_push_answers_the_phones_challenge_with_digest(phone: FakePhone) -> None:
    result = await push_resync(("127.0.0.1", phone.port), [ALICE_LINE], timeout=3)
    assert (result.outcome, result.detail) == ("ok", "200 OK")
    first, second = phone.received
    assert first.request_line == f"NOTIFY sip:2001@127.0.0.1:{phone.port} SIP/2.0"
    assert first.headers["event"] == "resync"
    assert first.verified is None and second.verified is True
    assert first.headers["call-id"] == second.headers["call-id"]
    assert (first.headers["cseq"], second.headers["cseq"]) == ("1 NOTIFY", "2 NOTIFY")


async def test_rfc2069_challenge_without_qop_is_answered_too() -> None:
    fake = FakePhone(user="2001", password="sip-alice", qop=False)
    try:
        result = await push_resync(("127.0.0.1", fake.port), [ALICE_LINE], timeout=3)
        assert result.outcome == "ok"
        assert fake.received[-1].verified is True
    finally:
        fake.close()


async def test_the_devices_own_line_is_tried_when_the_mobile_one_is_refused() -> None:
    """Which account the firmware checks a NOTIFY against is UNCONFIRMED: both are tried."""
    fake = FakePhone(user="1000", password="sip-conf-room-1")
    try:
        result = await push_resync(("127.0.0.1", fake.port), [ALICE_LINE, ROOM_LINE], timeout=3)
        assert result.outcome == "ok"
        assert [r.verified for r in fake.received] == [None, False, True]
        assert fake.received[-1].headers["authorization"].startswith('Digest username="1000"')
    finally:
        fake.close()


async def test_a_wrong_password_is_rejected(phone: FakePhone) -> None:
    result = await push_resync(("127.0.0.1", phone.port), [SipCredentials("2001", "2001", "nope")], timeout=3)
    assert (result.outcome, result.detail) == ("rejected", "401 Unauthorized")
    assert [r.verified for r in phone.received] == [None, False]  # one answer per account, no loop


async def test_a_silent_phone_times_out_within_the_bound() -> None:
    fake = FakePhone(user="2001", password="x", silent=True)
    try:
        loop = asyncio.get_running_loop()
        began = loop.time()
        result = await push_resync(("127.0.0.1", fake.port), [ALICE_LINE], timeout=1.2)
        assert result.outcome == "timeout"
        assert loop.time() - began < 3
        assert len(fake.received) >= 2  # retransmitted (T1 = 0.5 s, doubling)
    finally:
        fake.close()


async def test_an_admin_logout_pushes_a_resync_to_the_phone(
    start: ServerFactory, site: Path, phone: FakePhone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spaprov.push")
    configure_push(site, sip_port=phone.port, timeout=3)
    server = await start(site, push_interval=0.05)
    await login_alice(server)
    async with httpx.AsyncClient() as client:
        answer = await client.delete(
            str(server.make_url("/api/v1/sessions/alice")), auth=("admin", "admin-secret")
        )
    assert answer.status_code == 200
    await asyncio.wait_for(phone.resynced.wait(), 10)
    assert phone.received[0].headers["event"] == "resync"
    await asyncio.sleep(0.05)
    assert 'spaprov_resync_push_total{outcome="ok"} 1' in await metrics(server)
    lines = [r.getMessage() for r in caplog.records if r.name == "spaprov.push"]
    assert lines == [
        f"push resync device={CONF_ROOM} user=alice reason=forced_logout to=127.0.0.1:{phone.port}: "
        'ok "200 OK"'
    ]
    assert "sip-alice" not in caplog.text


async def test_max_login_time_pushes_without_waiting_for_the_phone(
    start: ServerFactory, site: Path, phone: FakePhone
) -> None:
    configure_push(site, sip_port=phone.port, timeout=3)
    clock = ManualClock()
    server = await start(site, clock=clock, push_interval=None)
    pusher = server.app[PUSHER]
    await login_alice(server)
    assert await pusher.sweep() == []  # nothing ended yet
    clock.advance(8 * 3600)  # the sample's max_login_time
    tasks = await pusher.sweep()
    assert len(tasks) == 1
    result = await tasks[0]
    assert result is not None and result.outcome == "ok"
    assert await pusher.sweep() == []  # pushed once
    # the phone, told, resyncs and gets the logout profile
    answer = await fetch(server, "/mobilephone.cfg", "alice@example.com", "1234")
    assert flat_profile(answer.content)["EM_Login_State"] != "mobile"


async def test_a_logout_from_the_command_line_is_pushed_too(
    start: ServerFactory, site: Path, phone: FakePhone
) -> None:
    """`spaprov sessions logout` writes the state store from another process: the sweep finds it."""
    configure_push(site, sip_port=phone.port, timeout=3)
    server = await start(site, push_interval=None, clock=system_clock)  # the CLI's time is real
    pusher = server.app[PUSHER]
    await login_alice(server)
    state = f"sqlite:///{site / '.spaprov-state.sqlite3'}"
    assert await asyncio.to_thread(main, ["sessions", "logout", "alice", "--state", state]) == 0
    (task,) = await pusher.sweep()
    result = await task
    assert result is not None and result.outcome == "ok"


async def test_auto_logout_pushes_to_the_first_phone(
    start: ServerFactory, site: Path, phone: FakePhone
) -> None:
    text = (
        (site / "site.toml")
        .read_text()
        .replace('multiple_login = "not_allowed"', 'multiple_login = "auto_logout"')
    )
    (site / "site.toml").write_text(text)
    (site / "devices" / "00aabbccddee.toml").write_text(
        'model = "SPA504G"\nstation_name = "Room 2"\nhost_user = "room-2"\n'
    )
    configure_push(site, sip_port=phone.port, timeout=3)
    server = await start(site, push_interval=None)
    pusher = server.app[PUSHER]
    await login_alice(server)
    async with httpx.AsyncClient(auth=httpx.DigestAuth("alice@example.com", "1234")) as client:
        answer = await client.get(
            str(server.make_url("/mobilephone.cfg")),
            headers={"User-Agent": "Cisco/SPA504G-7.5.5 (00AABBCCDDEE)(CBT1)"},
        )
    assert answer.status_code == 200
    (task,) = await pusher.sweep()
    result = await task
    assert result is not None and result.outcome == "ok"
    assert phone.received[-1].verified is True


async def test_a_phone_never_seen_is_not_pushed(start: ServerFactory, site: Path, phone: FakePhone) -> None:
    configure_push(site, sip_port=phone.port, timeout=3)
    server = await start(site, push_interval=None, clock=system_clock)
    pusher = server.app[PUSHER]
    await login_alice(server)
    pusher.addresses.clear()  # as after a restart: no fetch seen by this process
    state = f"sqlite:///{site / '.spaprov-state.sqlite3'}"
    assert await asyncio.to_thread(main, ["sessions", "logout", "alice", "--state", state]) == 0
    (task,) = await pusher.sweep()
    result = await task
    assert result is not None and result.outcome == "no_address"
    assert phone.received == []


async def test_a_push_never_blocks_a_phone_fetch(start: ServerFactory, site: Path) -> None:
    silent = FakePhone(user="2001", password="x", silent=True)
    try:
        configure_push(site, sip_port=silent.port, timeout=5)
        server = await start(site, push_interval=None, clock=system_clock)
        pusher = server.app[PUSHER]
        await login_alice(server)
        state = f"sqlite:///{site / '.spaprov-state.sqlite3'}"
        assert await asyncio.to_thread(main, ["sessions", "logout", "alice", "--state", state]) == 0
        (task,) = await pusher.sweep()
        answer = await fetch(server, "/mobilephone.cfg", "alice@example.com", "1234")  # while it waits
        assert answer.status_code == 200 and not task.done()
        task.cancel()
    finally:
        silent.close()


@pytest.mark.parametrize(
    ("push", "expected"),
    [({}, "3600"), ({"enabled": False}, "300"), ({"enabled": False, "fallback_periodic": 0}, "3600")],
)
async def test_the_mobile_profile_resyncs_often_when_no_push_can_reach_it(
    start: ServerFactory, site: Path, push: dict[str, object], expected: str
) -> None:
    configure_push(site, **push)
    server = await start(site, push_interval=None)
    answer = await fetch(server, "/mobilephone.cfg", "alice@example.com", "1234")
    profile = flat_profile(answer.content)
    assert profile["Resync_Periodic"] == expected
    assert profile["Resync_From_SIP"] == "Yes"
    host = await fetch(server, "/hostphone.cfg", "conf-room-1@example.com", "host-secret")
    assert flat_profile(host.content)["Resync_Periodic"] == "3600"  # only the mobile profile


async def test_the_store_finds_expired_and_untold_sessions(state_url: str) -> None:
    """The sweep's two queries and its max_login_time ending, on SQLite and PostgreSQL."""
    clock = ManualClock()
    mobility = Mobility(open_state(state_url), clock)
    try:
        policy = MobilityPolicy(max_login_minutes=60)
        await mobility.write(lambda tx: tx.start_session("alice", CONF_ROOM, clock()))
        clock.advance(30 * 60)
        await mobility.write(lambda tx: tx.start_session("bob", "00aabbccddee", clock()))
        assert await mobility.expire(policy) == []
        clock.advance(30 * 60)  # alice's hour is up, bob's is not
        (ended,) = await mobility.expire(policy)
        assert (ended.user_id, ended.device) == ("alice", CONF_ROOM)
        (untold,) = await mobility.untold_ends(600)
        assert (untold.user_id, untold.end_reason) == ("alice", "max_login_time")
        await mobility.write(lambda tx: tx.logout_served(untold, clock()))  # the phone was told
        assert await mobility.untold_ends(600) == []
        await mobility.drain()
        events = await mobility.read(lambda tx: [e.event for e in tx.audit_entries(oldest_first=True)])
        assert events == ["auto_logout"]
        clock.advance(3600)
        await mobility.write(lambda tx: forced_logout(tx, "bob", clock()))
        clock.advance(601)
        assert await mobility.untold_ends(600) == []  # ended too long ago to push now
    finally:
        await mobility.close()


async def test_only_an_authenticated_fetch_sets_where_pushes_go(start: ServerFactory, site: Path) -> None:
    """A default fetch names its phone only by a User-Agent anyone can send: if it set the push
    target, a stranger would receive the NOTIFY and the Digest answer made with a SIP password."""
    server = await start(site)
    pusher = server.app[PUSHER]
    assert (await fetch(server, "/default.cfg", "nobody", "x")).status_code == 200
    assert pusher.addresses == {}
    bad = await fetch(server, "/mobilephone.cfg", "alice@example.com", "wrong")
    assert bad.status_code == 401 and pusher.addresses == {}
    await login_alice(server)
    assert pusher.addresses == {CONF_ROOM: "127.0.0.1"}

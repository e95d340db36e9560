"""The session view (spaprov.mobility.session_view): a resync of a phone already logged in is
answered without the state thread, and a session ended by anyone (this process, another worker,
`spaprov sessions logout`, a write made on the store directly) is never answered from it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from spaprov.clock import ManualClock
from spaprov.config.schema import MobilityPolicy
from spaprov.mobility import Action, Mobility, SqliteStateStore, forced_logout
from spaprov.mobility.policy import TOUCH_INTERVAL
from tests.helpers.cli import serve, wait_for_listeners
from tests.helpers.digest_client import authorization, parse_challenge
from tests.helpers.mobility import ROOM_2, make_site
from tests.helpers.site import SPA_AGENT, flat_profile, free_port

POLICY = MobilityPolicy(multiple_login="not_allowed", max_login_minutes=60)
PHONE = "001122334455"


class Counting(Mobility):
    """A Mobility that counts the decisions that went to the state thread."""

    hops = 0

    async def _decide(self, work, *, write):  # type: ignore[no-untyped-def]
        self.hops += 1
        return await super()._decide(work, write=write)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


@pytest.fixture
async def mobility(path: Path):  # type: ignore[no-untyped-def]
    runner = Counting(SqliteStateStore(path), ManualClock(1_000_000.0))
    yield runner
    await runner.close()


async def test_a_resync_after_login_does_not_reach_the_state_thread(mobility: Counting) -> None:
    assert (await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")).reason == "login"
    hops = mobility.hops
    for _ in range(5):
        decision = await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
        assert (decision.action, decision.reason) == (Action.SERVE, "resumed")
    assert mobility.hops == hops and mobility.view.hits == 5


async def test_a_logout_by_another_process_is_seen_at_once(mobility: Counting, path: Path) -> None:
    """Another connection to the database: what `spaprov sessions logout` and other workers are."""
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    assert mobility.view.hits == 1
    script = (
        "import sys\nfrom spaprov.mobility import SqliteStateStore, forced_logout\n"
        "store = SqliteStateStore(sys.argv[1])\n"
        "with store.transaction() as tx:\n    assert forced_logout(tx, 'alice', 1_000_001.0)\n"
    )
    # The command runs while the server goes on serving (the loop is not blocked meanwhile).
    await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script, str(path)], check=True, timeout=60)
    decision = await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    assert (decision.action, decision.reason) == (Action.LOGOUT, "forced_logout")
    assert mobility.view.hits == 1


async def test_a_logout_on_another_connection_of_this_process_is_seen(mobility: Counting, path: Path) -> None:
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    other = SqliteStateStore(path)
    with other.transaction() as tx:
        forced_logout(tx, PHONE, 1_000_001.0)
    other.close()
    assert (await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")).action is Action.LOGOUT


async def test_a_logout_through_this_runner_or_its_store_is_seen(mobility: Counting) -> None:
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    await mobility.write(lambda tx: forced_logout(tx, "alice", 1_000_001.0))  # the admin API's way
    assert (await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")).action is Action.LOGOUT
    await mobility.host_fetch(PHONE, "c")  # the phone heard it; alice logs in again
    assert (await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")).reason == "login"
    with mobility.store.transaction() as tx:  # the same connection, not through the runner
        forced_logout(tx, "alice", 1_000_002.0)
    assert (await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")).action is Action.LOGOUT


async def test_last_seen_is_still_refreshed_and_max_login_time_still_ends_it(mobility: Counting) -> None:
    clock = mobility._clock
    assert isinstance(clock, ManualClock)
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    clock.advance(TOUCH_INTERVAL + 1)
    hops = mobility.hops
    assert (await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")).action is Action.SERVE
    assert mobility.hops > hops  # due a touch: decided on the state thread
    (session,) = await mobility.read(lambda tx: tx.sessions())
    assert session.last_seen == clock()
    clock.advance(POLICY.max_login_minutes * 60)
    decision = await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    assert (decision.action, decision.reason) == (Action.LOGOUT, "max_login_time")


async def test_a_new_policy_is_not_answered_from_the_view(mobility: Counting) -> None:
    clock = mobility._clock
    assert isinstance(clock, ManualClock)
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    clock.advance(10 * 60)
    shorter = MobilityPolicy(multiple_login="not_allowed", max_login_minutes=5)  # a reload
    decision = await mobility.mobile_fetch(shorter, "alice", PHONE, "c")
    assert (decision.action, decision.reason) == (Action.LOGOUT, "max_login_time")


async def test_a_busy_store_is_asked_not_the_view(mobility: Counting) -> None:
    await mobility.mobile_fetch(POLICY, "alice", PHONE, "c")
    store = mobility.store
    with store._lock:  # the state thread (or the audit writer) in a transaction
        assert store.change_token() is None
        assert mobility.view.lookup(POLICY, "alice", PHONE, mobility._clock()) is None
    assert mobility.view.lookup(POLICY, "alice", PHONE, mobility._clock()) is not None


def _mobile_fetch(url: str, agent: str) -> dict[str, str]:
    """alice's resync on a connection of its own (the kernel spreads them over the workers)."""
    with httpx.Client(headers={"User-Agent": agent}) as client:
        challenge = client.get(f"{url}/mobilephone.cfg").headers["WWW-Authenticate"]
    header = authorization(parse_challenge(challenge), "alice@example.com", "1234")
    with httpx.Client(headers={"User-Agent": agent, "Authorization": header}) as client:
        answer = client.get(f"{url}/mobilephone.cfg")
    assert answer.status_code == 200, answer.status_code
    return flat_profile(answer.content)


@pytest.mark.slow
def test_under_two_workers_a_session_ended_on_either_is_never_served_from_the_others_view(
    tmp_path: Path,
) -> None:
    port = free_port()
    site = make_site(tmp_path / "site", port, multiple_login='"auto_logout"')
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    room_1 = SPA_AGENT
    room_2 = f"Cisco/SPA504G-7.5.5 ({ROOM_2.upper()})(CBT7654321)"
    for served in serve("--profiles", str(site), "--state", state, "--workers", "2", port=port):
        wait_for_listeners(served.url, 2)
        for _ in range(16):  # logged in on room 1; both workers now answer its resyncs from memory
            assert _mobile_fetch(served.url, room_1)["Station_Display_Name"] == "Alice Example"
        _mobile_fetch(served.url, room_2)  # alice logs in on room 2: room 1's session ends
        for _ in range(16):  # whichever worker answers, room 1 is told to log out
            assert _mobile_fetch(served.url, room_1).get("EM_Login_State") == "host"

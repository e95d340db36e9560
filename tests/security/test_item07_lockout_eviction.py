"""Item 7: a flood of failures for made-up names must never make the lockout forget a real user
(the old table evicted the victim's counter, so the right password passed after 8 wrong ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spaprov.auth.throttle import FailureThrottle
from spaprov.clock import ManualClock
from tests.helpers.auth import HOST_USER, challenge, digest_header, get
from tests.helpers.digest_client import authorization
from tests.helpers.site import ServerFactory, holder_of

FLOOD = 60


def test_known_counters_outlive_a_flood_of_made_up_names() -> None:
    clock = ManualClock()
    throttle = FailureThrottle(clock, capacity=10, known_capacity=10, known=lambda user: user == "victim")
    for _ in range(4):
        assert not throttle.failed("victim", "10.0.0.1")
    for index in range(1000):
        throttle.failed(f"made-up-{index}", "10.0.0.1")
    assert len(throttle) <= 20  # memory stays bounded
    assert throttle.failed("victim", "10.0.0.1")  # the 5th failure still locks out
    assert throttle.retry_after("victim", "10.0.0.1") == 300


def test_a_full_known_table_counts_per_name_instead_of_evicting() -> None:
    clock = ManualClock()
    throttle = FailureThrottle(clock, known_capacity=3, known=lambda user: user.startswith("real"))
    for client in ("a", "b", "c"):  # the table is full of live entries for real names
        throttle.failed("real-1", client)
    assert throttle.overflowed == 0
    for client in ("d", "e", "f", "g"):  # more clients: counted against the name, nothing evicted
        assert not throttle.failed("real-2", client)
    assert throttle.failed("real-2", "h")  # the 5th such failure locks real-2 ...
    assert throttle.overflowed == 5  # on /metrics as spaprov_auth_failures_per_name_total
    assert throttle.retry_after("real-2", "i") == 300  # ... for every client the table lacks
    assert throttle.retry_after("real-3", "i") is None  # other names are not affected
    assert throttle.retry_after("real-1", "a") is None  # tracked clients keep their own counters
    for _ in range(4):
        throttle.failed("real-1", "a")
    assert throttle.retry_after("real-1", "a") == 300  # ... which were never forgotten
    assert len(throttle) <= 3 + 2
    clock.advance(301)  # window and cooldown over: everything can be swept
    assert throttle.retry_after("real-2", "i") is None
    assert not throttle.failed("real-2", "i")
    assert len(throttle) == 1


def test_unknown_names_lock_out_like_known_ones() -> None:
    clock = ManualClock()
    throttle = FailureThrottle(clock, known=lambda user: user == "victim")
    for user in ("victim", "nobody"):
        locked = [throttle.failed(user, "10.0.0.1") for _ in range(5)]
        assert locked == [False, False, False, False, True]
        assert throttle.retry_after(user, "10.0.0.1") == 300


@pytest.mark.slow
async def test_flood_of_made_up_users_does_not_unlock_the_victim(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    # A small table stands in for the 100,000-key one, so the flood stays small.
    holder_of(server).authenticator.throttle._capacity = FLOOD // 2
    for _ in range(4):
        wrong = await digest_header(server, password="wrong")
        assert (await get(server, "/hostphone.cfg", header=wrong)).status_code == 401
    nonce = await challenge(server)
    for index in range(FLOOD):
        made_up = authorization(nonce, f"made-up-{index}@example.com", "x", uri="/hostphone.cfg")
        assert (await get(server, "/hostphone.cfg", header=made_up)).status_code == 401
    last_wrong = await digest_header(server, password="wrong-again")
    assert (await get(server, "/hostphone.cfg", header=last_wrong)).status_code == 401
    right = await get(server, "/hostphone.cfg", header=await digest_header(server, HOST_USER))
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0

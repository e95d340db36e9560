"""Item 6: admin Basic logins lock out like Digest ones, and the password hash never runs on the
event loop (64 guessing connections made an unauthenticated /default.cfg take 2.3 s)."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from spaprov.clock import ManualClock
from spaprov.server.app import METRICS
from tests.helpers.auth import ADMIN_NAME, ADMIN_PASSWORD, get, set_admin
from tests.helpers.site import SPA_AGENT, ServerFactory

GUESSERS = 64
PROBES = 60
# The probe's p99 under attack may be twice its idle p99, but never needs to beat this floor
# (a shared CI machine jitters); the hash on the event loop made it seconds.
FLOOR = 0.5


async def test_wrong_passwords_lock_out_even_the_right_one(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    set_admin(site)
    clock = ManualClock()
    server = await start(site, clock=clock)
    with caplog.at_level(logging.WARNING, logger="spaprov.auth"):
        statuses = [
            (await get(server, "/api/v1/devices", auth=(ADMIN_NAME, f"guess-{i}"))).status_code
            for i in range(7)
        ]
    assert statuses == [401] * 5 + [429] * 2
    assert "now locked out" in caplog.text and "guess-" not in caplog.text
    assert server.app[METRICS].lockouts >= 1

    right = await get(server, "/api/v1/devices", auth=(ADMIN_NAME, ADMIN_PASSWORD))
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert (await get(server, "/admin", auth=(ADMIN_NAME, ADMIN_PASSWORD))).status_code == 429

    # Unknown names are counted the same way: nothing tells them apart.
    unknown = [
        (await get(server, "/api/v1/devices", auth=("nobody", f"guess-{i}"))).status_code for i in range(6)
    ]
    assert unknown == [401] * 5 + [429]

    clock.advance(301)  # the cooldown passes
    assert (await get(server, "/api/v1/devices", auth=(ADMIN_NAME, ADMIN_PASSWORD))).status_code == 200
    assert (await get(server, "/admin", auth=(ADMIN_NAME, ADMIN_PASSWORD))).status_code == 200


async def probe_latencies(session: aiohttp.ClientSession, url: str, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(url, headers={"User-Agent": SPA_AGENT}) as response:
            await response.read()
            assert response.status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.005)
    return latencies


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def guess(session: aiohttp.ClientSession, url: str, index: int, stop: asyncio.Event) -> list[int]:
    statuses = []
    attempt = 0
    while not stop.is_set():
        attempt += 1  # a new made-up name each time: the lockout alone cannot stop this
        token = base64.b64encode(f"guesser-{index}-{attempt}:password{attempt}".encode()).decode()
        async with session.get(url, headers={"Authorization": f"Basic {token}"}) as response:
            await response.read()
            statuses.append(response.status)
    return statuses


@pytest.mark.slow
async def test_default_cfg_stays_fast_during_basic_guessing(start: ServerFactory, site: Path) -> None:
    set_admin(site)
    server: TestServer = await start(site)
    probe_url = str(server.make_url("/default.cfg"))
    api_url = str(server.make_url("/api/v1/devices"))
    async with (
        aiohttp.ClientSession() as probe,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=GUESSERS)) as attack,
    ):
        await probe_latencies(probe, probe_url, 5)  # warm up (render cache, connection)
        idle = await probe_latencies(probe, probe_url, PROBES)
        stop = asyncio.Event()
        guessers = [asyncio.create_task(guess(attack, api_url, i, stop)) for i in range(GUESSERS)]
        try:
            await asyncio.sleep(0.2)  # the attack is under way
            loaded = await asyncio.wait_for(probe_latencies(probe, probe_url, PROBES), 60)
        finally:
            stop.set()
            results = await asyncio.gather(*guessers)
    statuses = {status for result in results for status in result}
    assert statuses <= {401, 503}, statuses  # busy hashing slots answer at once, never 500
    assert sum(map(len, results)) >= GUESSERS
    limit = max(2 * p99(idle), FLOOR)
    assert p99(loaded) <= limit, f"probe p99 {p99(loaded):.3f}s under attack, idle {p99(idle):.3f}s"

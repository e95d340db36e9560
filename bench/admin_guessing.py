"""Admin Basic guessing vs phones: /default.cfg latency while N connections guess admin
passwords with a new made-up name each time (the lockout alone cannot stop that; the bounded
hashing pool must).  Prints the probe's p50/p99 idle and under attack, and what the guessers got.

Run from the repository root: `python bench/admin_guessing.py [--guessers 64] [--seconds 5]`.
Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaprov.auth.admins import AdminAccounts
from spaprov.server.app import create_app

ROOT = Path(__file__).resolve().parent.parent
AGENT = "Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def probe(url: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(url, headers={"User-Agent": AGENT}) as response:
                await response.read()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
    return latencies


async def guesser(session: aiohttp.ClientSession, url: str, index: int, stop: asyncio.Event) -> list[int]:
    statuses, attempt = [], 0
    while not stop.is_set():
        attempt += 1
        token = base64.b64encode(f"guesser-{index}-{attempt}:pw{attempt}".encode()).decode()
        async with session.get(url, headers={"Authorization": f"Basic {token}"}) as response:
            await response.read()
            statuses.append(response.status)
    return statuses


async def main(guessers: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as directory:
        site = Path(directory) / "site"
        shutil.copytree(ROOT / "sample_profiles", site, ignore=shutil.ignore_patterns(".spaprov-state*"))
        AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
        runner = web.AppRunner(create_app(site, watch_interval=None), access_log=None)
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        try:
            await probe(base + "/default.cfg", 0.5)  # warm-up
            idle = await probe(base + "/default.cfg", seconds)
            stop = asyncio.Event()
            connector = aiohttp.TCPConnector(limit=guessers)
            async with aiohttp.ClientSession(connector=connector) as attack:
                tasks = [
                    asyncio.create_task(guesser(attack, base + "/api/v1/devices", i, stop))
                    for i in range(guessers)
                ]
                await asyncio.sleep(0.2)
                loaded = await probe(base + "/default.cfg", seconds)
                stop.set()
                results = await asyncio.gather(*tasks)
        finally:
            await runner.cleanup()
    counts = collections.Counter(status for result in results for status in result)
    print(f"{guessers} guessing connections, {seconds:.0f} s per phase, probe in the same process")
    for name, values in (("idle", idle), ("attack", loaded)):
        print(
            f"/default.cfg {name:6}: n={len(values):4}  p50 {percentile(values, 0.5) * 1e3:7.1f} ms"
            f"  p99 {percentile(values, 0.99) * 1e3:7.1f} ms"
        )
    total = sum(counts.values())
    print(f"guesses answered: {total} ({total / seconds:,.0f}/s) by status {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--guessers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.guessers, arguments.seconds))

"""Unauthenticated flood: failed Digest attempts, a new made-up user each (so no lockout ever
triggers), while a probe fetches /default.cfg and alice logs in on the conference phone.

Run from the repository root: `python bench/flood.py [--rate 1200] [--seconds 60]
[--concurrency 64] [--state URL]`.  It copies sample_profiles to a temporary directory, starts
`spaprov serve` on 127.0.0.1 as a subprocess, measures the probe while idle, then floods at the
given rate and prints idle vs flood probe p50/p99, the time of a real login during the flood, and
the server's RSS before and after.  The flood is bounded by rate x seconds requests, all on
loopback.  tests/security/test_item01_audit_flood.py drives the same functions in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
AGENT = "Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"
REALM = "prov.example.com"
_CHALLENGE = re.compile(r'nonce="([^"]+)".*?opaque="([^"]+)"', re.S)


def bad_digest(user: str, nonce: str, opaque: str, path: str = "/hostphone.cfg") -> str:
    """A well-formed Digest header for a made-up user: it fails as "unknown user" after the
    server has done the full work of checking it."""
    return (
        f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{path}", algorithm=MD5, '
        f'response="{"0" * 32}", opaque="{opaque}", qop=auth, nc=00000001, cnonce="0badc0de"'
    )


async def challenge(session: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    async with session.get(f"{base}/hostphone.cfg", headers={"User-Agent": AGENT}) as response:
        header = response.headers.get("WWW-Authenticate", "")
    found = _CHALLENGE.search(header)
    if found is None:
        raise RuntimeError(f"no Digest challenge from {base}: {header!r}")
    return found.group(1), found.group(2)


@dataclass
class FloodResult:
    sent: int = 0
    seconds: float = 0.0
    statuses: Counter[int | str] = field(default_factory=Counter)


async def flood(
    base: str,
    *,
    rate: float,
    total: int,
    concurrency: int = 64,
    user: Callable[[int], str] = lambda n: f"flood-{n}@example.com",
) -> FloodResult:
    """`total` failed Digest attempts paced at `rate` per second (as fast as possible when the
    server cannot keep up), `concurrency` at a time; request n uses the user name user(n)."""
    result = FloodResult()
    numbers = itertools.count()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        nonce, opaque = await challenge(session, base)
        started = time.perf_counter()

        async def worker() -> None:
            while (n := next(numbers)) < total:
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                headers = {"User-Agent": AGENT, "Authorization": bad_digest(user(n), nonce, opaque)}
                try:
                    async with session.get(f"{base}/hostphone.cfg", headers=headers) as response:
                        await response.read()
                        result.statuses[response.status] += 1
                except (aiohttp.ClientError, TimeoutError) as error:
                    result.statuses[type(error).__name__] += 1
                result.sent += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def probe(
    base: str, *, count: int | None = None, until: asyncio.Event | None = None, pause: float = 0.01
) -> list[float]:
    """Latencies (s) of unauthenticated /default.cfg fetches, one after another with `pause`
    between them: `count` of them, or until `until` is set."""
    latencies: list[float] = []
    async with httpx.AsyncClient(headers={"User-Agent": AGENT}, timeout=120) as client:
        while (count is None or len(latencies) < count) and not (until is not None and until.is_set()):
            started = time.perf_counter()
            response = await client.get(f"{base}/default.cfg")
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"/default.cfg answered {response.status_code}")
            await asyncio.sleep(pause)
    return latencies


async def login(base: str, user: str = "alice@example.com", password: str = "1234") -> tuple[int, float]:
    """A real extension-mobility login (challenge, then Digest): (status, seconds)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(headers={"User-Agent": AGENT}, timeout=120) as client:
        response = await client.get(f"{base}/mobilephone.cfg", auth=httpx.DigestAuth(user, password))
    return response.status_code, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction + 0.5) - 1))]


def rss_mb(pid: int | str = "self") -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def _report(label: str, latencies: list[float]) -> str:
    return (
        f"{label}: {len(latencies)} probes, p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


async def run(base: str, pid: int, rate: float, seconds: float, concurrency: int) -> None:
    await probe(base, count=20)  # warm up
    idle = await probe(base, count=200)
    print(_report("idle ", idle))
    before = rss_mb(pid)
    done = asyncio.Event()

    async def flood_then_stop() -> FloodResult:
        try:
            return await flood(base, rate=rate, total=int(rate * seconds), concurrency=concurrency)
        finally:
            done.set()

    async def login_later() -> tuple[int, float]:
        await asyncio.sleep(seconds / 2)
        return await login(base)

    flooded, during, (status, login_seconds) = await asyncio.gather(
        flood_then_stop(), probe(base, until=done), login_later()
    )
    print(
        f"flood: {flooded.sent} bad requests in {flooded.seconds:.1f} s "
        f"({flooded.sent / flooded.seconds:.0f}/s), answers {dict(flooded.statuses)}"
    )
    print(_report("flood", during))
    print(f"login during the flood: {status} in {login_seconds * 1000:.0f} ms")
    print(f"server RSS: {before:.1f} MB before the flood, {rss_mb(pid):.1f} MB after")
    await asyncio.sleep(2)
    print(_report("after", await probe(base, count=100)))
    print(f"server RSS 2 s later: {rss_mb(pid):.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1200.0, help="bad requests per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--state", help="state store URL (default: sqlite in the copied site)")
    args = parser.parse_args()
    from bench.serve import free_port, start

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(ROOT / "sample_profiles", site, ignore=shutil.ignore_patterns(".spaprov-state*"))
        port = free_port()
        command = [sys.executable, "-m", "spaprov", "serve", "--profiles", str(site), "--port", str(port)]
        command += ["--state", args.state] if args.state else []
        server = start(command, port)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(run(base, server.pid, args.rate, args.seconds, args.concurrency))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()

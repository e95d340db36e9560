"""Serving speed: concurrent phones each doing a Digest challenge + authenticated fetch of the
mobile profile, against spaprov and, in the same run, against a bare aiohttp handler.

Run from the repository root: `python bench/serve.py [--clients 50] [--seconds 8]`.  Each server
runs in its own process; the client is a lean keep-alive HTTP/1.1 client on asyncio streams (an
aiohttp client would be the bottleneck and flatten the ratio).  Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENT = "Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"
USER, PASSWORD, REALM = "alice@example.com", "1234", "prov.example.com"
PATH = "/mobilephone.cfg"
_CHALLENGE = re.compile(rb'nonce="([^"]+)".*?opaque="([^"]+)"', re.S)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], port: int, patience: float = 20.0) -> subprocess.Popen[bytes]:
    """Start a server and wait up to `patience` seconds for it to listen (a big site loads slowly)."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.terminate()  # SIGTERM: a --workers parent passes it on (SIGKILL would orphan them)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    raise SystemExit(f"server {' '.join(command)} did not start")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
        self.reader, self.writer, self.port = reader, writer, port

    async def get(
        self, path: str, authorization: str | None = None, *, agent: str = AGENT
    ) -> tuple[int, bytes, bytes]:
        extra = f"Authorization: {authorization}\r\n" if authorization else ""
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUser-Agent: {agent}\r\n"
            f"{extra}\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
        body = await self.reader.readexactly(length)
        return status, head, body


@dataclass(frozen=True)
class Identity:
    """Who the benchmark's phones are: the Digest user and password, and the User-Agent."""

    user: str = USER
    password: str = PASSWORD
    agent: str = AGENT


def digest_header(head: bytes, identity: Identity, nc: int = 1, path: str = PATH) -> str:
    nonce, opaque = (part.decode() for part in _CHALLENGE.search(head).groups())  # type: ignore[union-attr]
    ha1 = hashlib.md5(f"{identity.user}:{REALM}:{identity.password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{path}".encode()).hexdigest()
    cnonce, nc_text = os.urandom(8).hex(), f"{nc:08x}"
    response = hashlib.md5(f"{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{identity.user}", realm="{REALM}", nonce="{nonce}", uri="{path}", algorithm=MD5, '
        f'response="{response}", opaque="{opaque}", qop=auth, nc={nc_text}, cnonce="{cnonce}"'
    )


async def phone(
    port: int,
    deadline: float,
    authenticated: bool,
    latencies: list[float],
    errors: list[str],
    identity: Identity = Identity(),
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connection = Connection(reader, writer, port)
    requests = 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            # the phone's first, unauthenticated GET
            status, head, _ = await connection.get(PATH, agent=identity.agent)
            if authenticated:
                if status != 401:
                    errors.append(f"challenge answered {status}")
                status, _, _ = await connection.get(PATH, digest_header(head, identity), agent=identity.agent)
            else:
                status, _, _ = await connection.get(PATH, agent=identity.agent)
            if status != 200:
                errors.append(f"fetch answered {status}")
            latencies.append(time.perf_counter() - started)
            requests += 2
    finally:
        writer.close()
    return requests


async def measure(
    port: int, clients: int, seconds: float, authenticated: bool, identity: Identity = Identity()
) -> dict[str, float]:
    warm_latencies: list[float] = []
    await asyncio.gather(
        *(
            phone(port, time.perf_counter() + 1.0, authenticated, warm_latencies, [], identity)
            for _ in range(clients)
        )
    )
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(phone(port, started + seconds, authenticated, latencies, errors, identity) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": sum(counts) / elapsed,
        "fetches_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    ours_port, bare_port = free_port(), free_port()
    ours = start(
        [
            sys.executable,
            "-m",
            "spaprov",
            "serve",
            "--profiles",
            "sample_profiles",
            "--port",
            str(ours_port),
            "--log-level",
            "WARNING",
        ],
        ours_port,
    )
    bare = start([sys.executable, "bench/bare_server.py", str(bare_port)], bare_port)
    try:
        print(
            f"{args.clients} concurrent keep-alive clients, {args.seconds:.0f} s each, 127.0.0.1, "
            f"one server process each; an iteration = 2 requests"
        )
        results = {}
        for label, port, authenticated in (
            ("bare aiohttp handler", bare_port, False),
            ("spaprov mobile (401 + Digest)", ours_port, True),
        ):
            result = asyncio.run(measure(port, args.clients, args.seconds, authenticated))
            results[label] = result
            print(
                f"{label:31} {result['requests_per_s']:8,.0f} req/s  {result['fetches_per_s']:7,.0f} "
                f"iterations/s  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                f"errors {result['errors']:.0f}"
            )
        ratio = (
            results["spaprov mobile (401 + Digest)"]["requests_per_s"]
            / results["bare aiohttp handler"]["requests_per_s"]
        )
        print(f"ratio spaprov / bare: {ratio:.2f}")
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()

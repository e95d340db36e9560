"""TFTP bootstrap speed: how many factory-reset phones per second get spa$PSN.cfg from
`spaprov serve --tftp` (a boot storm after a power cut starts here).

Run from the repository root: `python bench/tftp.py [--clients 32] [--seconds 8] [--blksize 512]`.
The server is a real `spaprov serve --tftp` process on a copy of sample_profiles; the clients are
lean raw-UDP RFC 1350 readers on one asyncio loop in this process (RRQ, then DATA/ACK lock-step;
a lost packet fails that transfer rather than waiting out a retransmission).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def one_transfer(port: int, blksize: int) -> float:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    began = time.perf_counter()
    try:
        options = b"" if blksize == 512 else b"blksize\0" + str(blksize).encode() + b"\0"
        await loop.sock_sendto(sock, b"\0\1spa525G2.cfg\0octet\0" + options, ("127.0.0.1", port))
        expected = 1
        while True:
            data, peer = await asyncio.wait_for(loop.sock_recvfrom(sock, 70000), 2)
            opcode, block = struct.unpack("!HH", data[:4])
            if opcode == 6:  # OACK
                await loop.sock_sendto(sock, struct.pack("!HH", 4, 0), peer)
                continue
            if opcode != 3 or block != expected:
                raise RuntimeError(f"unexpected packet {opcode}/{block}")
            await loop.sock_sendto(sock, struct.pack("!HH", 4, block), peer)
            if len(data) - 4 < blksize:
                return time.perf_counter() - began
            expected += 1
    finally:
        sock.close()


async def run(port: int, clients: int, seconds: float, blksize: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            try:
                latencies.append(await one_transfer(port, blksize))
            except (TimeoutError, RuntimeError, OSError):
                failures += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--blksize", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(ROOT / "sample_profiles", site, ignore=shutil.ignore_patterns(".spaprov-state*"))
        http, udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
        server = subprocess.Popen(
            [sys.executable, "-m", "spaprov", "serve", "--profiles", str(site), "--port", str(http),
             "--tftp", f"127.0.0.1:{udp}", "--log-level", "WARNING"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", http), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("server did not start") from None
                    time.sleep(0.1)
            latencies, failures = asyncio.run(run(udp, args.clients, args.seconds, args.blksize))
        finally:
            server.terminate()
            server.wait(timeout=10)
    latencies.sort()
    count = len(latencies)
    if not count:
        raise SystemExit(f"no transfer completed ({failures} failed)")
    print(f"tftp bootstrap: {args.clients} clients, {args.seconds:g} s, blksize {args.blksize}")
    print(f"  transfers/s  {count / args.seconds:,.0f}   ({count} done, {failures} failed)")
    p95, p99 = latencies[int(count * 0.95) - 1], latencies[int(count * 0.99) - 1]
    median = statistics.median(latencies)
    print(f"  latency ms   p50 {median * 1000:.1f}   p95 {p95 * 1000:.1f}   p99 {p99 * 1000:.1f}")


if __name__ == "__main__":
    main()

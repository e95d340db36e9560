"""Boot storm: after a power cut every phone of a site boots at once and resyncs.

Run from the repository root: `python bench/storm.py [--phones 10000] [--spread 20] [--workers 1]`.
It builds (once, cached under build/storm-site) a site of 10,000 devices and 10,000 users,
times loading it, starts `spaprov serve` on 127.0.0.1, and boots N simulated phones with a
random start spread like Resync_Random_Delay.  Each phone, on one keep-alive connection:
GET /default.cfg, then /hostphone.cfg (401 challenge, then Digest), and a share of them log in
(/mobilephone.cfg: 401, then Digest).  It prints phones/s, requests/s, p50/p95/p99 latency,
errors, the server's peak RSS, and a bare aiohttp handler's requests/s measured in the same run.
Traffic stays on loopback and every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serve import Connection, Identity, digest_header, free_port, measure, start
from spaprov.auth import CredentialStore
from spaprov.commands.bulk import Progress
from spaprov.config import load_profile_directory

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "storm-site"
REALM, DOMAIN = "prov.example.com", "@example.com"
MODELS = ("SPA501G", "SPA502G", "SPA504G", "SPA508G", "SPA509G", "SPA525G", "SPA525G2")


def mac(n: int) -> str:
    return f"00a0{n:08x}"


def build_site(count: int) -> None:
    marker = SITE / f".built-{count}"
    os.umask(0o077)  # the files hold passwords: 0600 as the server expects, no warning per file
    if marker.exists():
        return
    shutil.rmtree(SITE, ignore_errors=True)
    for folder in ("devices", "users", "em_profiles"):
        (SITE / folder).mkdir(parents=True)
    site = (
        (ROOT / "sample_profiles" / "site.toml")
        .read_text()
        .replace("max_concurrent_logins = 5", "max_concurrent_logins = 1000")
    )
    (SITE / "site.toml").write_text(
        site.replace('multiple_login = "not_allowed"', 'multiple_login = "allowed"')
    )
    bar = Progress(f"building a site of {count} devices and {count} users", count)
    for n in range(count):
        (SITE / "devices" / f"{mac(n)}.toml").write_text(
            f'model = "{MODELS[n % len(MODELS)]}"\nstation_name = "Desk {n}"\nhost_user = "desk-{n}"\n'
            f'[[lines]]\nnumber = 1\nuser_id = "{10000 + n}"\ndisplay_name = "Desk {n}"\n'
            f'password = "sip-{n}"\n'
        )
        (SITE / "users" / f"user{n}.toml").write_text(
            f'display_name = "User {n}"\nem_profiles = ["user{n}"]\n'
        )
        (SITE / "em_profiles" / f"user{n}.toml").write_text(
            f'[[lines]]\nnumber = 1\nuser_id = "{50000 + n}"\ndisplay_name = "User {n}"\n'
            f'password = "sip-u{n}"\n'
        )
        bar.update(n + 1)
    store = CredentialStore(SITE / "credentials.htdigest", REALM)
    passwords = {f"desk-{n}{DOMAIN}": f"host-{n}" for n in range(count)}
    passwords |= {f"user{n}{DOMAIN}": f"pin-{n}" for n in range(count)}
    store.set_passwords(passwords)
    marker.touch()


class Storm:
    def __init__(self, port: int, phones: int, spread: float, login_share: float, deadline: float) -> None:
        self.port, self.phones, self.spread, self.login_share, self.deadline = (
            port,
            phones,
            spread,
            login_share,
            deadline,
        )
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.requests = 0
        self.done = 0
        self.limit = asyncio.Semaphore(800)  # open connections at once (file descriptors)
        self.bar = Progress(f"booting {phones} phones", phones)

    async def request(
        self,
        connection: Connection,
        path: str,
        agent: str,
        authorization: str | None = None,
        expect: int = 200,
    ) -> bytes:
        started = time.perf_counter()
        status, head, _ = await connection.get(path, authorization, agent=agent)
        self.latencies.append(time.perf_counter() - started)
        self.requests += 1
        if status != expect:
            self.errors.append(f"{path}: {status}")
        return head

    async def phone(self, n: int) -> None:
        await asyncio.sleep(random.uniform(0, self.spread))
        if time.perf_counter() > self.deadline:
            self.errors.append("not started before the deadline")
            return
        agent = f"Cisco/{MODELS[n % len(MODELS)]}-7.5.5 ({mac(n).upper()})(CBT{n:07d})"
        async with self.limit:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 30)
                connection = Connection(reader, writer, self.port)
                try:
                    await self.request(connection, "/default.cfg", agent)
                    head = await self.request(connection, "/hostphone.cfg", agent, expect=401)
                    await self.request(
                        connection,
                        "/hostphone.cfg",
                        agent,
                        digest_header(
                            head, Identity(f"desk-{n}{DOMAIN}", f"host-{n}"), path="/hostphone.cfg"
                        ),
                    )
                    if random.random() < self.login_share:
                        head = await self.request(connection, "/mobilephone.cfg", agent, expect=401)
                        await self.request(
                            connection,
                            "/mobilephone.cfg",
                            agent,
                            digest_header(
                                head, Identity(f"user{n}{DOMAIN}", f"pin-{n}"), path="/mobilephone.cfg"
                            ),
                        )
                finally:
                    writer.close()
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
                self.errors.append(f"phone {n}: {type(error).__name__}")
        self.done += 1
        self.bar.update(self.done)

    async def run(self) -> float:
        started = time.perf_counter()
        await asyncio.gather(*(self.phone(n) for n in range(self.phones)))
        return time.perf_counter() - started


def server_pids(pid: int) -> list[int]:
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server and its worker processes."""
    total = 0
    for each in server_pids(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """VmRSS of the server and its worker processes, now."""
    total = 0
    for each in server_pids(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


class RssSampler(threading.Thread):
    """The largest total RSS of the server's processes while the storm runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak = max(self.peak, rss_mb(self.pid))

    def stop(self) -> None:
        self.done.set()
        self.join()


def peak_rss_mb(pid: int) -> float:
    """VmHWM of the server and its worker processes."""
    total = 0
    for each in server_pids(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which phones start")
    parser.add_argument("--login-share", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--site-size", type=int, default=10_000)
    parser.add_argument(
        "--site",
        type=Path,
        default=ROOT / "build" / "storm-site",
        help="where the generated site is kept (default build/storm-site)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="the storm stops after this many seconds"
    )
    args = parser.parse_args()
    global SITE
    SITE = args.site.resolve()
    build_site(max(args.site_size, args.phones))
    started = time.perf_counter()
    config = load_profile_directory(SITE)
    load_seconds = time.perf_counter() - started
    print(f"config load: {len(config.devices)} devices, {len(config.users)} users in {load_seconds:.2f} s")
    state = SITE.parent / "storm-state.sqlite3"
    for stale in SITE.parent.glob("storm-state.sqlite3*"):
        stale.unlink()
    port, bare_port = free_port(), free_port()
    server = start(
        [
            sys.executable,
            "-m",
            "spaprov",
            "serve",
            "--profiles",
            str(SITE),
            "--port",
            str(port),
            "--state",
            f"sqlite:///{state}",
            "--log-level",
            "WARNING",
            "--workers",
            str(args.workers),
        ],
        port,
        patience=60 + 3 * load_seconds,  # the server loads the site once to check it, then per worker
    )
    bare = start([sys.executable, "bench/bare_server.py", str(bare_port)], bare_port)
    try:
        storm = Storm(port, args.phones, args.spread, args.login_share, time.perf_counter() + args.timeout)
        cpu_before = server_cpu_seconds(server.pid)
        sampler = RssSampler(server.pid)
        sampler.start()
        elapsed = asyncio.run(asyncio.wait_for(storm.run(), args.timeout + 60))
        sampler.stop()
        cpu = server_cpu_seconds(server.pid) - cpu_before
        rss = peak_rss_mb(server.pid)

        agent = f"Cisco/{MODELS[0]}-7.5.5 ({mac(0).upper()})(CBT0000000)"
        ours = asyncio.run(measure(port, 50, 6.0, True, Identity(f"user0{DOMAIN}", "pin-0", agent)))
        baseline = asyncio.run(measure(bare_port, 50, 6.0, False))
    finally:
        for process in (server, bare):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    latencies = sorted(storm.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    print(
        f"phones: {args.phones} over a {args.spread:.0f} s spread, {args.workers} worker(s), "
        f"{args.login_share:.0%} logging in; done in {elapsed:.1f} s"
    )
    print(
        f"phones/s {args.phones / elapsed:,.0f}   requests/s {storm.requests / elapsed:,.0f}   "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms  p95 {pct(0.95):.1f} ms  p99 {pct(0.99):.1f} ms"
    )
    print(f"errors: {len(storm.errors)}" + (f" (first: {storm.errors[:3]})" if storm.errors else ""))
    print(
        f"server RSS during the storm (all processes, sampled every 0.5 s): max {sampler.peak:.0f} MB; "
        f"peak since start (VmHWM, includes loading the site): {rss:.0f} MB"
    )
    print(
        f"server CPU during the storm: {cpu:.1f} s, {cpu / args.phones * 1000:.2f} ms per phone; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"saturated, 50 clients: spaprov authenticated+rendered {ours['requests_per_s']:,.0f} req/s, "
        f"bare aiohttp handler {baseline['requests_per_s']:,.0f} req/s, ratio "
        f"{ours['requests_per_s'] / baseline['requests_per_s']:.2f}"
    )


if __name__ == "__main__":
    main()

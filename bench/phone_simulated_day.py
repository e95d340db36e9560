"""How long simulated time takes: a simulated SPA525G2 boots against a real server on 127.0.0.1
sharing its ManualClock, Alice logs in, and the phone's timers run until her 8:00
`max_login_time` sends it back to its host profile (and on to a full simulated day).  Prints the
wall-clock time and the number of resyncs.

Run from the repository root: `python bench/phone_simulated_day.py [--hours 24] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serve import free_port
from spaprov.clock import ManualClock
from spaprov.phone import SpaPhone
from spaprov.server.app import create_app

ROOT = Path(__file__).resolve().parent.parent


def make_site(target: Path, port: int) -> Path:
    """A copy of sample_profiles (its max_login_time is 8:00) with its rule pointed at `port`."""
    shutil.copytree(ROOT / "sample_profiles", target, ignore=shutil.ignore_patterns(".spaprov-*"))
    for path in target.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)  # secrets: readable by their owner only
    toml = target / "site.toml"
    toml.write_text(toml.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    return target


async def one_day(hours: float) -> tuple[float, float, int, str]:
    """(seconds to the logout, seconds for the whole run, resyncs, final login state)."""
    with tempfile.TemporaryDirectory() as tmp:
        port, clock = free_port(), ManualClock()
        site = make_site(Path(tmp) / "site", port)
        app = create_app(site, clock=clock, watch_interval=None, state=f"sqlite:///{tmp}/state.sqlite3")
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            phone = SpaPhone.of_model(
                "001122334455", "SPA525G2", f"http://127.0.0.1:{port}/default.cfg", clock=clock
            )
            phone.set_host_credentials("conf-room-1", "host-secret")
            started = time.perf_counter()
            await phone.boot()
            assert (await phone.login("alice", "1234")).ok
            reports = await phone.advance(8 * 3600 + 60)
            logged_out = time.perf_counter() - started
            assert reports[-1].login_state == "host", reports[-1]
            reports += await phone.advance(max(0.0, hours * 3600 - 8 * 3600 - 60))
            return logged_out, time.perf_counter() - started, len(reports), phone.parameters["EM_Login_State"]
        finally:
            await server.close()
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs = [asyncio.run(one_day(args.hours)) for _ in range(args.rounds)]
    to_logout = [run[0] * 1000 for run in runs]
    whole = [run[1] * 1000 for run in runs]
    print(
        f"8:00 max_login_time to host profile: median {statistics.median(to_logout):.0f} ms wall "
        f"(min {min(to_logout):.0f}, max {max(to_logout):.0f}) over {args.rounds} runs"
    )
    print(
        f"{args.hours:g} simulated hours: median {statistics.median(whole):.0f} ms wall, "
        f"{runs[0][2]} timed resyncs, ends {runs[0][3]!r}"
    )


if __name__ == "__main__":
    main()

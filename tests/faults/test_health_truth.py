"""Issue 15 item 4: /healthz describes the directory as it is now.

A bad file added and removed again brings the directory back to exactly the served configuration:
no reload is needed, and the refused reload's problems must go.  (A file broken and its exact
bytes and mtime restored is not exactly the served state: its change time moved, which the
fingerprint includes since the incremental tree, so that case is an ordinary reload; its test
only checks that health ends "ok".)  Before the fix the watcher compared the directory only with
the installed fingerprint, so nothing ran and /healthz said "degraded" until SIGHUP; and a refused
change was reloaded (and logged) again every watch interval.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.helpers.live_site import DEVICE_FILE, health, station, wait_for
from tests.helpers.site import ServerFactory

CYCLES = 4
WATCH = 0.05


async def status(server: TestServer) -> str:
    report = await health(server)
    problems = report["reload_problem_count"]
    return f"{report['status']}/{problems}"


async def settle(server: TestServer, wanted: str) -> None:
    async def reached() -> bool:
        return await status(server) == wanted

    await wait_for(reached)


async def test_a_bad_file_removed_again_leaves_health_ok(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site, watch_interval=WATCH)
    bad = site / "users" / "zz-bad.toml"
    caplog.set_level(logging.INFO)
    for _ in range(CYCLES):
        bad.write_text('em_profiles = ["nobody"]\n')
        await settle(server, "degraded/1")
        bad.unlink()
        await settle(server, "ok/0")
        assert await station(server) == "Conference Room 1"
    assert (await health(server))["generation"] == 1  # nothing was reloaded: nothing changed
    back = [r for r in caplog.records if "back to the served configuration" in r.getMessage()]
    assert len(back) == CYCLES


async def test_a_broken_file_restored_byte_for_byte_leaves_health_ok(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site, watch_interval=WATCH)
    path = site / DEVICE_FILE
    original, stat = path.read_bytes(), path.stat()
    for _ in range(CYCLES):
        path.write_bytes(original + b"model_typo = 1\n")
        await settle(server, "degraded/1")
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # exactly the installed state
        await settle(server, "ok/0")
    assert await station(server) == "Conference Room 1"


async def test_a_refused_change_is_logged_once(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site, watch_interval=WATCH)
    (site / "users" / "zz-bad.toml").write_text('em_profiles = ["nobody"]\n')
    await settle(server, "degraded/1")
    await asyncio.sleep(20 * WATCH)  # twenty more watch intervals: the same change, not retried
    refused = [r for r in caplog.records if "reload refused" in r.getMessage()]
    assert len(refused) == 1, [r.getMessage() for r in refused]

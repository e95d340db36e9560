"""Hot reload: a good edit is served, a bad edit is refused and the last good config keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from spaprov.auth.admins import AdminAccounts
from spaprov.live.reload import reload_now
from spaprov.mobility import SqliteStateStore
from spaprov.mobility.store import Transaction
from tests.helpers.live_site import edit, health, station, wait_for
from tests.helpers.site import SPA_AGENT, ServerFactory, holder_of


async def test_good_edit_is_picked_up_by_the_file_watcher(start: ServerFactory, site: Path) -> None:
    server = await start(site, watch_interval=0.05)
    assert await station(server) == "Conference Room 1"
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Board Room"')

    async def renamed() -> bool:
        return await station(server) == "Board Room"

    await wait_for(renamed)
    generation = (await health(server))["generation"]
    assert isinstance(generation, int) and generation >= 2  # a write seen mid-load reloads once more


async def test_bad_edit_is_refused_and_the_last_good_config_keeps_serving(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site, watch_interval=0.05)
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Board Room"\nmodel_typo = 1')
    (site / "users" / "carol.toml").write_text('em_profiles = ["nobody"]\n')

    async def degraded() -> bool:
        return (await health(server))["status"] == "degraded"

    await wait_for(degraded)
    AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
    report = await health(server, auth=("admin", "admin-secret"))  # problems: administrators only
    problems = report["reload_problems"]
    assert isinstance(problems, list)
    assert "devices/001122334455.toml: model_typo: unknown field (did you mean 'model'?)" in problems
    assert "users/carol.toml: em_profiles: no EM profile 'nobody' (em_profiles/nobody.toml)" in problems
    assert report["generation"] == 1
    assert await station(server) == "Conference Room 1"
    # Fixing the edit recovers.
    edit(site, "\nmodel_typo = 1", "")
    (site / "users" / "carol.toml").unlink()

    async def recovered() -> bool:
        return (await health(server))["status"] == "ok"

    await wait_for(recovered)
    assert await station(server) == "Board Room"


async def test_sighup_reloads(start: ServerFactory, site: Path) -> None:
    server = await start(site)  # no file watcher: only the signal can reload
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Lobby"')
    os.kill(os.getpid(), signal.SIGHUP)

    async def renamed() -> bool:
        return await station(server) == "Lobby"

    await wait_for(renamed)


async def test_broken_credentials_file_is_refused_on_reload(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    (site / "credentials.htdigest").write_text("garbage\n")
    assert await reload_now(holder_of(server)) is False
    assert holder_of(server).site.problems == (
        "credentials.htdigest: line 1: expected user:realm:HA1 (three fields)",
    )
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(
            str(server.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "1234")
        )
    assert response.status_code == 200


async def test_reload_can_change_routes(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    site_toml = site / "site.toml"
    site_toml.write_text(site_toml.read_text().replace("/default.cfg", "/cfg/$MA.xml"))
    assert await reload_now(holder_of(server))
    async with httpx.AsyncClient() as client:  # no User-Agent: the MAC comes from the path
        assert (await client.get(str(server.make_url("/cfg/001122334455.xml")))).status_code == 200
        assert (await client.get(str(server.make_url("/cfg/00112233445F.xml")))).status_code == 404
        assert (await client.get(str(server.make_url("/default.cfg")))).status_code == 404


class SlowStore(SqliteStateStore):
    """Every transaction takes a while, so a request is still awaiting it when a reload lands."""

    entered = threading.Event()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        self.entered.set()
        time.sleep(0.3)
        with super().transaction(write=write) as tx:
            yield tx


async def test_a_reload_during_a_request_never_caches_stale_content(start: ServerFactory, site: Path) -> None:
    store = SlowStore(site / "slow.sqlite3")
    server = await start(site, state=store)
    store.entered.clear()  # only the request's own transactions count from here
    # A host fetch: an unauthenticated default fetch no longer touches the state store at all.
    in_flight = asyncio.create_task(station(server, host=True))
    # The request has found its device and now waits on the state store.
    assert await asyncio.to_thread(store.entered.wait, 10)
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Lobby"')
    assert await reload_now(holder_of(server))
    assert await in_flight == "Conference Room 1"  # answered from the configuration it started with
    assert await station(server, host=True) == "Lobby"  # and that answer was not cached as the new one

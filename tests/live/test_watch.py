"""Following the profile directory: the kernel's change notification (watchfiles) picks an edit up
at once, whatever the polling interval; polling still works when asked for, and takes over when
watching fails; an edit that breaks a cross-reference is refused and the last good one serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from spaprov.live import watch as watch_module
from tests.helpers.live_site import edit, health, station, wait_for
from tests.helpers.site import ServerFactory

NEVER = 3600.0  # a polling interval no test waits for


async def renamed_to(server, name: str) -> None:  # type: ignore[no-untyped-def]
    async def served() -> bool:
        return await station(server) == name

    await wait_for(served, timeout=10)


async def test_an_edit_is_seen_by_change_notification(start: ServerFactory, site: Path) -> None:
    server = await start(site, watch_interval=NEVER)  # polling would take an hour
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Board Room"')
    await renamed_to(server, "Board Room")


async def test_polling_when_asked(start: ServerFactory, site: Path) -> None:
    server = await start(site, watch_interval=0.05, watch_notify=False)
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Lobby"')
    await renamed_to(server, "Lobby")


async def test_polling_takes_over_when_watching_fails(
    start: ServerFactory, site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse(_holder: object) -> None:
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watch_module, "_notified", refuse)
    server = await start(site, watch_interval=0.05)
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Hall"')
    await renamed_to(server, "Hall")
    assert "polling it every 0.05 s" in caplog.text


async def test_a_broken_reference_is_refused_and_the_last_good_one_serves(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site, watch_interval=NEVER)
    # Another device taking the conference room's host user: only the cross-check can see it.
    (site / "devices" / "00aabbccddee.toml").write_text('model = "SPA504G"\nhost_user = "conf-room-1"\n')

    async def degraded() -> bool:
        return (await health(server))["status"] == "degraded"

    await wait_for(degraded, timeout=10)
    assert (await health(server))["devices"] == 1
    (site / "devices" / "00aabbccddee.toml").write_text('model = "SPA504G"\nhost_user = "lobby"\n')

    async def two_devices() -> bool:
        report = await health(server)
        return report["status"] == "ok" and report["devices"] == 2

    await wait_for(two_devices, timeout=10)


async def test_a_change_no_event_reports_is_found_by_the_rescan(
    start: ServerFactory, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on NFS, where another machine's write raises no local event: the periodic stat of every
    file finds it."""

    class Deaf:
        def __init__(self, _root: Path) -> None:
            pass

        def __call__(self, _change: object, _path: str) -> bool:
            return False

    monkeypatch.setattr(watch_module, "_Interesting", Deaf)
    monkeypatch.setattr(watch_module, "JOURNAL_PATIENCE", 0.1)  # wake up often
    monkeypatch.setattr(watch_module, "RESCAN", 0.3)
    server = await start(site, watch_interval=NEVER)
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Annex"')
    await renamed_to(server, "Annex")


async def test_a_profile_directory_reached_through_a_symbolic_link(
    start: ServerFactory, site: Path, tmp_path: Path
) -> None:
    link = tmp_path / "link"
    link.symlink_to(site)
    server = await start(link, watch_interval=NEVER)
    edit(site, 'station_name = "Conference Room 1"', 'station_name = "Linked"')
    await renamed_to(server, "Linked")

"""Issue 15 item 5: under `serve --workers 2` a phone never sees an older configuration after a
newer one, and /healthz is the site's, not a worker's.

A real two-worker server on a private copy of the sample site; a client polls /default.cfg on a
new connection each time (the kernel spreads them over both workers) while the device's
station_name is edited several times.  Before the fix each worker's watcher reloaded on its own
up to a second apart, so the poller went back to the previous name; and during a refused edit
/healthz said "degraded" on one worker and "ok" on the other.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from spaprov.clock import ManualClock
from spaprov.live.holder import ConfigHolder
from spaprov.live.site_record import SharedSiteRecord
from tests.helpers.auth import ADMIN_NAME, ADMIN_PASSWORD, set_admin
from tests.helpers.cli import Served, serve, wait_for_listeners
from tests.helpers.site import SPA_AGENT, copy_sample, flat_profile

WORKERS, EDITS = 2, 4
FETCHES_AFTER_EDIT = 12
DEVICE = Path("devices") / "001122334455.toml"
NAMES = ["Conference Room 1", *(f"Room {n}" for n in range(1, EDITS + 1))]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "site")


def two_workers(site: Path, tmp_path: Path, *extra: str) -> Iterator[Served]:
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state, "--workers", str(WORKERS), *extra):
        # Drain the log as it comes: hundreds of access lines would fill the pipe and block the
        # workers' logging (and so their answers).
        assert served.process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(served.process.stdout,), daemon=True)
        reader.start()
        wait_for_listeners(served.url, WORKERS)
        yield served
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=20)
        reader.join(timeout=10)
        output = "".join(lines)
        assert len(set(re.findall(r"spaprov\.access\[(\d+)\]", output))) == WORKERS, output[-2000:]


@pytest.fixture
def workers(site: Path, tmp_path: Path) -> Iterator[Served]:
    yield from two_workers(site, tmp_path)


@pytest.fixture
def polling_workers(site: Path, tmp_path: Path) -> Iterator[Served]:
    """Each worker stats the directory once a second on its own: the worker that did not write an
    edit may notice it up to a second after the other one."""
    set_admin(site)
    yield from two_workers(site, tmp_path, "--watch", "poll")


def fetch(url: str) -> tuple[int, str]:
    """(status, station name) of one /default.cfg fetch on a connection of its own."""
    with httpx.Client(headers={"User-Agent": SPA_AGENT}) as client:
        answer = client.get(f"{url}/default.cfg")
    if answer.status_code != 200:
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1", answer.status_code
        return answer.status_code, ""
    return 200, flat_profile(answer.content)["Station_Name"]


def health(url: str) -> tuple[str, int]:
    with httpx.Client() as client:
        report = client.get(f"{url}/healthz").json()
    return report["status"], report["generation"]


def test_no_phone_sees_an_older_configuration_after_a_newer_one(workers: Served, site: Path) -> None:
    path = site / DEVICE
    newest, served, unavailable = 0, 0, 0
    for edit in range(1, EDITS + 1):
        path.write_text(path.read_text().replace(NAMES[edit - 1], NAMES[edit]))
        # Poll through both workers' reloads and well beyond: each now reloads within tens of ms
        # of the edit, so keep enough fetches per edit to catch a step back.
        seen_new_at: float | None = None
        deadline = time.monotonic() + 8
        while seen_new_at is None or time.monotonic() < seen_new_at + 2.5:
            assert time.monotonic() < deadline, f"edit {edit} never served"
            status, name = fetch(workers.url)
            if status == 503:
                unavailable += 1
                continue
            served += 1
            index = NAMES.index(name)
            assert index >= newest, f"{name!r} served after {NAMES[newest]!r} (edit {edit})"
            newest = index
            if index == edit and seen_new_at is None:
                seen_new_at = time.monotonic()
        answers = {health(workers.url) for _ in range(10)}
        assert len(answers) == 1 and next(iter(answers))[0] == "ok", answers  # the same on every worker
    assert served >= 100 and unavailable <= served // 10, (served, unavailable)


def test_health_is_the_sites_not_a_workers(workers: Served, site: Path) -> None:
    bad = site / "users" / "zz-bad.toml"
    for _ in range(2):
        for wanted, change in (
            ("degraded", lambda: bad.write_text('em_profiles = ["nobody"]\n')),
            ("ok", bad.unlink),
        ):
            change()
            reached: float | None = None
            deadline = time.monotonic() + 8
            while reached is None or time.monotonic() < reached + 1.5:
                assert time.monotonic() < deadline, f"/healthz never said {wanted}"
                status, _ = health(workers.url)
                if reached is not None:
                    assert status == wanted, f"{status} after {wanted} (another worker)"
                elif status == wanted:
                    reached = time.monotonic()


def put_station(admin: httpx.Client, name: str) -> None:
    """The device's station_name set through the API (GET, change, PUT), once the API takes it."""
    url = f"/api/v1/devices/{DEVICE.stem}"
    document = admin.get(url).json()
    document["station_name"] = name
    deadline = time.monotonic() + 30
    while True:
        answer = admin.put(url, json=document)
        if answer.status_code != 503:  # 503: admin logins shed on a loaded machine; try again
            break
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)
    assert answer.status_code == 200, answer.text


def test_an_acknowledged_edit_is_what_every_worker_serves(polling_workers: Served) -> None:
    """The edit comes through the API, so one worker writes it and the client knows when it is
    done: every fetch after the 200, on new connections spread over both workers, gets the new
    name.  The other worker's own watcher would see the file up to a second later; without the
    site's shared record it served the old name meanwhile (a phone going back a configuration),
    with it the worker catches up before answering (or says 503, Retry-After: 1)."""
    url, served, stale = polling_workers.url, 0, []
    with httpx.Client(base_url=url, auth=(ADMIN_NAME, ADMIN_PASSWORD), timeout=30) as admin:
        for edit in range(1, EDITS + 1):
            put_station(admin, NAMES[edit])
            for _ in range(FETCHES_AFTER_EDIT):
                status, name = fetch(url)
                if status == 200:
                    served += 1
                    if name != NAMES[edit]:
                        stale.append(f"{name!r} after {NAMES[edit]!r} was acknowledged")
    assert not stale, stale
    assert served >= EDITS * FETCHES_AFTER_EDIT // 2, served


def test_a_load_overtaken_by_a_newer_generation_is_not_installed(site: Path, tmp_path: Path) -> None:
    """The rule behind it, deterministically: two holders on one shared record (two workers)."""
    record = SharedSiteRecord(tmp_path)
    first, second = (ConfigHolder(site, ManualClock(), record=record) for _ in range(2))
    assert first.generation == second.generation == 1  # the second adopted the first's
    slow = second.prepare()  # loads "Conference Room 1" ...
    path = site / DEVICE
    path.write_text(path.read_text().replace(NAMES[0], NAMES[1]))
    assert first.commit(first.prepare())  # ... while the first publishes generation 2
    assert record.read().generation == 2 and second.behind()
    assert not second.commit(slow)  # the older load is stale: never installed as generation 3
    assert second.config.devices[next(iter(second.config.devices))].station_name == NAMES[0]
    assert second.commit(second.prepare()) and second.generation == 2 and not second.behind()
    assert record.read().generation == 2

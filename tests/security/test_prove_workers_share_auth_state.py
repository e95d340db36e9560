"""Issue 10, "Prove it": the replay table and the lockout counters are shared by every worker.

A real `spaprov serve --workers 2` on a private copy of the sample site; every request on a new
connection, so the kernel (SO_REUSEPORT) spreads them over both workers.  Before the fix each
worker had its own replay table and failure counters: a header replayed to the worker that had
not seen it was accepted, and an attacker got max_failures guesses per worker.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from spaprov.auth.admins import AdminAccounts
from tests.helpers.auth import ADMIN_NAME, ADMIN_PASSWORD
from tests.helpers.cli import Served, serve, wait_for_listeners
from tests.helpers.digest_client import authorization, parse_challenge
from tests.helpers.site import copy_sample

AGENT = "Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"
USER, PASSWORD, PATH = "alice@example.com", "1234", "/mobilephone.cfg"
MAX_FAILURES, WORKERS = 5, 2  # the sample site's [auth] max_failures; serve --workers
# A guesser gets max_failures answers checked over all workers (see spaprov.auth.shared_state):
# a failure counted after the shared lockout began is answered 429 by the worker that counted
# it, and a right password there is refused by its nonce claim, before that worker's next poll.
BOUND = MAX_FAILURES


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Served]:
    site = copy_sample(tmp_path / "site")
    AdminAccounts(site / "admins.toml").set(ADMIN_NAME, "admin", ADMIN_PASSWORD)
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state, "--workers", str(WORKERS)):
        wait_for_listeners(served.url, WORKERS)
        yield served
        served.process.send_signal(signal.SIGTERM)
        output, _ = served.process.communicate(timeout=20)
        # Both workers answered (else the test proves nothing about sharing).
        assert len(set(re.findall(r"spaprov\.access\[(\d+)\]", output))) == WORKERS, output[-2000:]


def challenge(url: str) -> dict[str, str]:
    with httpx.Client(headers={"User-Agent": AGENT}) as client:
        answer = client.get(f"{url}{PATH}")
    assert answer.status_code == 401
    return parse_challenge(answer.headers["WWW-Authenticate"])


def send(url: str, header: str) -> int:
    """One request with `header`, on a connection of its own."""
    with httpx.Client(headers={"User-Agent": AGENT, "Authorization": header}) as client:
        return client.get(f"{url}{PATH}").status_code


def test_a_header_accepted_once_is_never_accepted_again_by_any_worker(workers: Served) -> None:
    header = authorization(challenge(workers.url), USER, PASSWORD)
    first = send(workers.url, header)
    assert first == 200, first
    replays = [send(workers.url, header) for _ in range(30)]
    assert 200 not in replays, replays


def test_wrong_passwords_lock_the_name_out_on_every_worker(workers: Served) -> None:
    statuses = [send(workers.url, authorization(challenge(workers.url), USER, "wrong")) for _ in range(12)]
    checked = statuses.count(401)  # 401: the guess was checked; 429: refused unchecked
    assert checked <= BOUND, (statuses, workers.url)
    assert statuses[-1] == 429, statuses
    time.sleep(1.0)  # the other workers' poll of the lockouts (every 0.5 s)
    right = [send(workers.url, authorization(challenge(workers.url), USER, PASSWORD)) for _ in range(20)]
    assert right == [429] * 20, right


def test_the_right_password_just_after_a_lockout_passes_on_no_worker(workers: Served) -> None:
    """No sleep after the guesses: a worker that has not yet polled the lockouts must still
    refuse the right password (its nonce claim looks at the shared lockout), else the guesser's
    next guesses there are checked, and a right one logs in."""
    statuses = [send(workers.url, authorization(challenge(workers.url), USER, "wrong")) for _ in range(5)]
    assert statuses == [401] * 5, statuses
    right = [send(workers.url, authorization(challenge(workers.url), USER, PASSWORD)) for _ in range(20)]
    assert right == [429] * 20, right


def test_concurrent_guesses_get_max_failures_checked_over_all_workers(workers: Served) -> None:
    """64 guesses at once, spread over both workers: only max_failures of them are checked (401);
    the rest are refused as locked out (429), whichever worker counted them."""
    headers = [authorization(challenge(workers.url), USER, f"wrong-{n}") for n in range(64)]
    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(lambda header: send(workers.url, header), headers))
    assert statuses.count(401) <= MAX_FAILURES, statuses
    assert set(statuses) <= {401, 429}, statuses


def test_admin_basic_guesses_are_counted_over_all_workers(workers: Served) -> None:
    """Admin Basic failures share the count too: max_failures checked in all, not per worker;
    then the right password is refused by every worker."""
    site = workers.url
    guesses = []
    for n in range(12):
        with httpx.Client() as client:
            guesses.append(client.get(f"{site}/api/v1/devices", auth=(ADMIN_NAME, f"wrong-{n}")).status_code)
    assert guesses.count(401) <= MAX_FAILURES, guesses
    assert guesses[-1] == 429, guesses
    right = []
    for _ in range(10):
        with httpx.Client() as client:
            right.append(client.get(f"{site}/api/v1/devices", auth=(ADMIN_NAME, ADMIN_PASSWORD)).status_code)
    assert right == [429] * 10, right

"""kill -9 at random moments of each writer (`spaprov user passwd`, `spaprov import`, the API
writer in `spaprov serve`), 30 kills each; after every kill: the directory loads, or is refused
as interrupted and the recovery (any spaprov writer, or `serve` starting) finishes it; every
acknowledged change is there; nothing is half applied (the two credential files always hold the
same password; all of an import's users or none, each with its credentials; no temporaries left).

`spaprov import` is run with 100 rows (ROWS), not 2,000: a 2,000-row import takes ~8 s on the CI
machine, so 30 kills would take minutes; 100 rows take the same code path (one batch, one journal)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from spaprov.auth import CredentialStore, ha1
from spaprov.auth.admins import AdminAccounts
from spaprov.config import ConfigError, load_profile_directory
from tests.helpers.site import ROOT, free_port

REALM = "prov.example.com"
KILLS = 30
ROWS = 100
USER = "alice@example.com"


def start(*args: str, stdin: str = "") -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "spaprov", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None
    process.stdin.write(stdin)
    process.stdin.close()
    return process


def writing(folders: list[Path], journal_only: bool) -> bool:
    return any(
        name == ".spaprov.journal" or (name.endswith(".tmp") and not journal_only)
        for folder in folders
        for name in os.listdir(folder)
    )


def run_killed(
    args: list[str],
    delay: float,
    *,
    stdin: str = "",
    watch: list[Path] | None = None,
    journal_only: bool = False,
) -> bool:
    """Run `spaprov ARGS` and SIGKILL it `delay` s after it starts or, with `watch`, `delay` s
    after its write begins (a temporary file, or with `journal_only` the journal, appears in one
    of those folders): kills land inside the write, not only in Python's start-up.  Whether it
    finished (and said so) first."""
    process = start(*args, stdin=stdin)
    if watch:
        while process.poll() is None and not writing(watch, journal_only):
            pass
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode in (0, -signal.SIGKILL), process.communicate()
    return process.returncode == 0


def timed(args: list[str], stdin: str = "") -> float:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "spaprov", *args], input=stdin, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - began


def loads_or_is_refused_as_interrupted(site: Path) -> bool:
    """Whether a write was interrupted after its commit point (then it is refused, not served)."""
    try:
        load_profile_directory(site)
    except ConfigError as error:
        assert "interrupted" in str(error), error
        return True
    return False


def recover_with_a_writer(site: Path, kill: int) -> None:
    """What an operator runs (or `serve` does at start-up): any spaprov writer finishes it; every
    fifth time `spaprov user list`, else the same recovery in this process (faster)."""
    if kill % 5:
        from spaprov.transaction import recover

        recover(site)
        return
    done = subprocess.run(
        [sys.executable, "-m", "spaprov", "user", "list", "--profiles", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def pair(site: Path, user: str) -> tuple[str | None, str | None]:
    store = CredentialStore(site / "credentials.htdigest", REALM)
    return store.ha1(user, "MD5"), store.ha1(user, "SHA-256")


def hashes(user: str, password: str) -> tuple[str, str]:
    return ha1("MD5", user, REALM, password), ha1("SHA-256", user, REALM, password)


def temporaries(site: Path) -> list[Path]:
    return [p for p in site.rglob(".*") if p.name.endswith(".tmp") or p.name == ".spaprov.journal"]


@pytest.mark.slow
def test_user_passwd_killed_at_random(site: Path) -> None:
    rng = random.Random(15)
    command = ["user", "passwd", USER, "--password-stdin", "--profiles", str(site)]
    duration = timed(command, stdin="pw-start\n")
    acknowledged = "pw-start"
    interrupted = 0
    for kill in range(KILLS):
        attempted = f"pw-{kill}"
        # A third of the kills anywhere in the run, a third once the write has begun (it takes
        # milliseconds), a third once its journal is there (between the two files' renames).
        mode = kill % 3
        delay = rng.uniform(0, 1.1 * duration) if mode == 0 else rng.uniform(0, 0.01 if mode == 1 else 0.001)
        watch = None if mode == 0 else [site]
        if run_killed(command, delay, stdin=attempted + "\n", watch=watch, journal_only=mode == 2):
            acknowledged = attempted
        interrupted += bool(temporaries(site))
        loads_or_is_refused_as_interrupted(site)
        recover_with_a_writer(site, kill)
        now = pair(site, USER)
        # Both files hold the same password: the acknowledged one, or the one being set.
        assert now in (hashes(USER, acknowledged), hashes(USER, attempted)), f"kill {kill}: torn"
        if now == hashes(USER, attempted):
            acknowledged = attempted
        assert not temporaries(site), kill
    print(f"{KILLS} kills of user passwd ({duration:.2f} s a run), {interrupted} mid-write")


def users_csv(path: Path, generation: int) -> Path:
    lines = ["id,display_name,em_profiles,default_profile,password"]
    lines += [f"bulk{n:04d},Gen {generation} user {n},alice,,pin-{generation}-{n}" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def import_generation(site: Path) -> int | None:
    """The one generation every imported user and credential is at (None: no user imported);
    fails if the import is half applied."""
    config = load_profile_directory(site)
    store = CredentialStore(site / "credentials.htdigest", REALM)
    names = [
        config.users[f"bulk{n:04d}"].display_name if f"bulk{n:04d}" in config.users else None
        for n in range(ROWS)
    ]
    generations = {None if name is None else int(name.split()[1]) for name in names}
    assert len(generations) == 1, f"half applied: {sorted(map(str, generations))}"
    (generation,) = generations
    for n in range(ROWS):
        user = f"bulk{n:04d}@example.com"
        expected = (None, None) if generation is None else hashes(user, f"pin-{generation}-{n}")
        assert (store.ha1(user, "MD5"), store.ha1(user, "SHA-256")) == expected, user
    return generation


@pytest.mark.slow
def test_import_killed_at_random(site: Path, tmp_path: Path) -> None:
    rng = random.Random(15)
    duration = timed(["import", str(users_csv(tmp_path / "warm.csv", 0)), "--profiles", str(site)])
    acknowledged: int | None = 0
    interrupted = 0
    for kill in range(1, KILLS + 1):
        csv_file = users_csv(tmp_path / f"gen{kill}.csv", kill)
        command = ["import", str(csv_file), "--profiles", str(site)]
        mode = kill % 3
        delay = rng.uniform(0, 1.1 * duration) if mode == 0 else rng.uniform(0, 0.1 * duration)
        watch = None if mode == 0 else [site, site / "users"]
        if run_killed(command, delay, watch=watch, journal_only=mode == 2):
            acknowledged = kill
        interrupted += bool(temporaries(site))
        loads_or_is_refused_as_interrupted(site)
        recover_with_a_writer(site, kill)
        generation = import_generation(site)
        assert generation in (acknowledged, kill), f"kill {kill}: generation {generation}"
        assert not temporaries(site), kill
        if generation != kill and kill % 5 == 0:  # a re-run of the killed import repairs
            timed(command)
            generation = import_generation(site)
            assert generation == kill
        acknowledged = generation
    print(f"{KILLS} kills of import ({duration:.2f} s a run), {interrupted} mid-write")


DEVICE = "00aabbccddee"


def device_body(generation: int) -> bytes:
    return json.dumps(
        {"model": "SPA504G", "station_name": f"gen {generation}", "host_user": "lobby", "em_enabled": True}
    ).encode()


@pytest.mark.slow
def test_api_writer_killed_at_random(site: Path) -> None:
    AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
    rng = random.Random(15)
    (site / "devices" / f"{DEVICE}.toml").write_text(
        'model = "SPA504G"\nstation_name = "gen 0"\nhost_user = "lobby"\nem_enabled = true\n'
    )
    acknowledged = generation = interrupted = 0
    for kill in range(KILLS):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "spaprov", "serve", "--profiles", str(site), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}/api/v1/devices/{DEVICE}"
        deadline = time.monotonic() + 20
        with httpx.Client(auth=("admin", "admin-secret"), timeout=5) as client:
            while True:  # up (the start-up recovery has run)
                try:
                    client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, "serve did not start"
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            if kill:
                assert not temporaries(site), kill
                station = load_profile_directory(site).devices[DEVICE].station_name
                assert station in (f"gen {acknowledged}", f"gen {generation}"), (kill, station)
                acknowledged = int(station.split()[1])
            stop = threading.Event()
            acked: list[int] = []
            errors: list[str] = []

            def writer(
                client: httpx.Client = client,
                url: str = url,
                stop: threading.Event = stop,
                acked: list[int] = acked,
                errors: list[str] = errors,
            ) -> None:
                nonlocal generation
                while not stop.is_set():
                    generation += 1
                    try:
                        response = client.put(
                            url, content=device_body(generation), headers={"Content-Type": "application/json"}
                        )
                    except httpx.TransportError:
                        return
                    if response.status_code != 200:
                        errors.append(response.text)
                        return
                    acked.append(generation)

            thread = threading.Thread(target=writer)
            thread.start()
            time.sleep(rng.uniform(0.02, 0.3))
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
            stop.set()
            thread.join()
            assert not errors, errors
        if acked:
            acknowledged = acked[-1]
        interrupted += bool(temporaries(site))
        loads_or_is_refused_as_interrupted(site)
    recover_with_a_writer(site, 0)
    station = load_profile_directory(site).devices[DEVICE].station_name
    assert station in (f"gen {acknowledged}", f"gen {generation}")
    assert not temporaries(site)
    assert acknowledged > 0
    print(f"{KILLS} kills of serve, {interrupted} mid-write, {acknowledged} edits acknowledged")

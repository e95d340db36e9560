"""`spaprov phone --tftp`: a factory-reset phone bootstraps from a real `spaprov serve --tftp`
subprocess; `wait` lets simulated time pass, `push-wait` fails when no NOTIFY comes."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import Served, serve
from tests.helpers.mobility import make_site
from tests.helpers.site import free_port


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, int]]:
    port, tftp = free_port(), free_udp_port()
    site = make_site(tmp_path / "site", port)
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for running in serve("--profiles", str(site), "--state", state, "--tftp", f"127.0.0.1:{tftp}", port=port):
        yield running, tftp


def phone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", "phone", *args],
        capture_output=True,
        text=True,
        input="",
        timeout=60,
    )


def test_a_factory_reset_spa525g_bootstraps_over_tftp_and_its_timers_run(served: tuple[Served, int]) -> None:
    _, tftp = served
    done = phone("--tftp", f"127.0.0.1:{tftp}", "--mac", "001122334455", "--model", "SPA525G", "wait", "2h")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "phone Cisco/SPA525G-7.4.7 (CBT1234567)"  # no MAC: the server finds it in ?mac=
    assert lines[1] == "boot: ok"
    assert f"TFTP tftp://127.0.0.1:{tftp}/spa525G.cfg -> received" in lines[2]
    assert "default.cfg?mac=001122334455 -> 200" in lines[2]
    assert done.stdout.count("periodic resync: ok") == 2  # 3600 s apart, in simulated time


def test_push_wait_without_a_notify_fails_and_says_why(served: tuple[Served, int]) -> None:
    _, tftp = served
    done = phone(
        "--tftp", f"127.0.0.1:{tftp}", "--mac", "001122334455", "--sip", f"127.0.0.1:{free_udp_port()}",
        "push-wait", "0.5",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "push-wait: FAILED: no authenticated SIP NOTIFY resync within 0.5 s" in done.stdout


def test_a_wrong_tftp_server_fails_the_boot_with_the_reason() -> None:
    done = phone("--tftp", f"127.0.0.1:{free_udp_port()}", "--mac", "001122334455")
    assert done.returncode == 1
    assert "boot: FAILED" in done.stdout and "no answer from 127.0.0.1" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mac", "001122334455"), "give --server URL, or --tftp HOST[:PORT]"),
        (("--tftp", "127.0.0.1:69", "--mac", "001122334455", "push-wait", "1"), "push-wait needs --sip"),
        (("--tftp", "127.0.0.1:69", "--mac", "001122334455", "wait", "soon"), "'soon' is not a duration"),
        (("--tftp", "127.0.0.1:69", "--mac", "001122334455", "wait"), "wait needs a duration"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    done = phone(*args)
    assert done.returncode == 2 and message in done.stderr

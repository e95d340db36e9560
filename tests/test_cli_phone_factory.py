"""`spaprov phone --tftp`: a factory-reset phone bootstraps from a real `spaprov serve --tftp`
subprocess; `wait` lets simulated time pass, `push-wait` fails when no NOTIFY comes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import Served, serve
from tests.helpers.mobility import ROOM_2, make_site
from tests.helpers.phones import self_signed
from tests.helpers.site import copy_sample, free_port


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


def zero_touch_site(target: Path, port: int, sip_port: int) -> Path:
    """The sample site's documented secure path: everything over HTTPS, the host and mobile
    profiles encrypted with the phone's own key ([--key $SA]), and the phone taking SIP NOTIFY on
    `sip_port`."""
    site = make_site(target, port)
    toml = site / "site.toml"
    text = toml.read_text().replace("http://127.0.0.1:", "https://127.0.0.1:")
    text = text.replace("[--uid $MUID$PDOM", "[--key $SA --uid $MUID$PDOM")
    toml.write_text(text.replace("[--uid $PUID$PDOM", "[--key $SA --uid $PUID$PDOM"))
    for mac, top in (("001122334455", f"sip_port = {sip_port}\n"), (ROOM_2, "")):
        device = site / "devices" / f"{mac}.toml"
        device.write_text(f'{top}profile_key = "{mac[:8] * 4}"\n' + device.read_text())
    return site


@pytest.mark.slow
def test_zero_touch_journey_against_serve_subprocesses(tmp_path: Path) -> None:
    """Factory state -> TFTP bootstrap -> default -> host -> login -> `spaprov sessions logout` in
    another process -> pushed NOTIFY -> host, all through the command line."""
    port, tftp, sip_port = free_port(), free_udp_port(), free_udp_port()
    site = zero_touch_site(tmp_path / "site", port, sip_port)
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    _, ca_file = self_signed(tmp_path)
    tls = ("--tls-cert", ca_file, "--tls-key", str(tmp_path / "key.pem"))
    for _ in serve("--profiles", str(site), "--state", state, "--tftp", f"127.0.0.1:{tftp}", *tls, port=port):
        simulated = subprocess.Popen(
            [
                sys.executable, "-m", "spaprov", "phone", "--mac", "001122334455",
                "--tftp", f"127.0.0.1:{tftp}", "--ca-file", ca_file,
                "--sip", f"127.0.0.1:{sip_port}", "--password-stdin", "login", "alice", "push-wait", "20",
            ],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert simulated.stdin is not None and simulated.stdout is not None
        simulated.stdin.write("1234\n")
        simulated.stdin.close()
        seen = []
        for line in simulated.stdout:
            seen.append(line)
            if line.startswith("login alice:"):
                break
        assert seen[-1].strip() == "login alice: ok", "".join(seen)
        forced = subprocess.run(
            [sys.executable, "-m", "spaprov", "sessions", "logout", "alice", "--state", state],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert forced.returncode == 0, forced.stderr
        rest = simulated.stdout.read()
        assert simulated.wait(timeout=60) == 0, "".join(seen) + rest
        output = "".join(seen) + rest
        assert "boot: ok" in output and "spa525G2.cfg -> received" in output
        assert (
            "default.cfg?mac=001122334455 -> 200" in output
            and "hostphone.cfg?mac=001122334455 -> 200" in output
        )
        pushed = rest[rest.index("pushed resync (SIP NOTIFY): ok") :]
        assert 'state host, line 1 1000 "Conference Room 1"' in pushed
        assert "host-secret" not in output and not re.search(r"\b1234\b", output)


def test_host_credentials_given_on_the_phone_authenticate_after_a_tftp_bootstrap(tmp_path: Path) -> None:
    """The sample site (plain HTTP, host credentials not delivered): an administrator who puts the
    host user on the phone by hand reaches the host profile, because the TFTP bootstrap profile
    already carries EM_User_Domain (without it the phone sent `conf-room-1` and got 401)."""
    port, tftp = free_port(), free_udp_port()
    site = copy_sample(tmp_path / "site")
    site_toml = site / "site.toml"
    site_toml.write_text(site_toml.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for _ in serve("--profiles", str(site), "--state", state, "--tftp", f"127.0.0.1:{tftp}", port=port):
        done = subprocess.run(
            [
                *(sys.executable, "-m", "spaprov", "phone", "--tftp", f"127.0.0.1:{tftp}"),
                *("--mac", "001122334455", "--host-user", "conf-room-1", "--password-stdin"),
                *("login", "alice"),
            ],
            capture_output=True,
            text=True,
            input="host-secret\n1234\n",
            timeout=60,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hostphone.cfg?mac=001122334455 -> 200" in done.stdout
    assert "mobilephone.cfg?mac=001122334455 -> 200" in done.stdout

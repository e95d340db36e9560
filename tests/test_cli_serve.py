"""`spaprov serve` and `spaprov render` as an administrator runs them."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import Served, serve, spaprov
from tests.helpers.site import SAMPLE, copy_sample, free_port
from tests.helpers.site import SPA_AGENT as AGENT


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    # A copy: serve takes the directory's lock (.spaprov.lock), and tests never write into the tree.
    site = copy_sample(tmp_path / "site")
    yield from serve("--profiles", str(site), "--state", f"sqlite:///{tmp_path / 'state.sqlite3'}")


def curl(*args: str) -> tuple[int, str]:
    done = subprocess.run(
        ["curl", "--silent", "--write-out", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_readme_curl_returns_alices_profile(server: Served) -> None:
    status, body = curl(
        "--digest", "-u", "alice@example.com:1234", "-A", AGENT, f"{server.url}/mobilephone.cfg"
    )
    assert status == 200
    found = {child.tag: child.text for child in ET.fromstring(body)}
    assert found["User_ID_1_"] == "2001" and found["Display_Name_1_"] == "Alice Example"


def test_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve(
        "--profiles",
        str(copy_sample(tmp_path / "site")),
        "--state",
        state,
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
    ):
        status, body = curl(
            "--cacert",
            str(cert),
            "--digest",
            "-u",
            "conf-room-1@example.com:host-secret",
            "-A",
            AGENT,
            served.url.replace("127.0.0.1", "localhost") + "/hostphone.cfg",
            "--resolve",
            f"localhost:{served.url.rsplit(':', 1)[1]}:127.0.0.1",
        )
        assert status == 200 and "<User_ID_1_>1000</User_ID_1_>" in body


def test_refuses_to_start_on_a_rule_it_cannot_serve(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site, ignore=shutil.ignore_patterns(".spaprov-state*"))
    toml = site / "site.toml"
    toml.write_text(toml.read_text().replace("[--uid $PUID$PDOM --pwd $PPWD]", "[--uid $A --pwd $B]"))
    done = spaprov("serve", "--profiles", str(site), "--port", str(free_port()))
    assert done.returncode == 1
    assert "refusing to start" in done.stderr and "alternative 2 sends --uid $A" in done.stderr
    assert "Traceback" not in done.stderr


def test_render_prints_what_the_phone_receives(server: Served) -> None:
    rendered = spaprov(
        "render", "--profiles", str(SAMPLE), "--device", "00:11:22:33:44:55", "--user", "alice"
    )
    assert rendered.returncode == 0
    _, served = curl("--digest", "-u", "alice@example.com:1234", "-A", AGENT, f"{server.url}/mobilephone.cfg")
    assert served == rendered.stdout
    host = spaprov("render", "--profiles", str(SAMPLE), "--device", "001122334455")
    assert "<User_ID_1_>1000</User_ID_1_>" in host.stdout


@pytest.mark.slow
def test_render_errors_are_clear() -> None:
    unknown = spaprov("render", "--profiles", str(SAMPLE), "--device", "00aabbccddee")
    assert unknown.returncode == 1 and "no device 00aabbccddee" in unknown.stderr
    no_user = spaprov("render", "--profiles", str(SAMPLE), "--device", "001122334455", "--kind", "mobile")
    assert no_user.returncode == 1 and "needs --user (one of alice, bob)" in no_user.stderr

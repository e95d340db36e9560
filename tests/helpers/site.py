"""The sample site and servers on it: where it is, a private copy a test may edit, the
conference-room phone, and small readers of what a server answers."""

from __future__ import annotations

import shutil
import socket
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.server.app import HOLDER

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_profiles"
CONF_ROOM = "001122334455"
SPA_AGENT = f"Cisco/SPA525G2-7.5.5 ({CONF_ROOM.upper()})(CBT1234567)"

ServerFactory = Callable[..., Awaitable[TestServer]]


def copy_sample(target: Path) -> Path:
    """A private copy of the sample site (without its state database)."""
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".spaprov-state*"))
    return target


def add_credentials(site: Path, user: str, password: str, realm: str = "prov.example.com") -> None:
    CredentialStore(site / "credentials.htdigest", realm).set_password(user, password)


def holder_of(server: TestServer):  # type: ignore[no-untyped-def]
    return server.app[HOLDER]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def flat_profile(body: bytes) -> dict[str, str]:
    root = ET.fromstring(body)
    assert root.tag == "flat-profile"
    return {child.tag: (child.text or "") for child in root}

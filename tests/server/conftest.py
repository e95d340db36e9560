from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.clock import ManualClock
from spaprov.server.app import HOLDER, create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_profiles"
CONF_ROOM = "001122334455"
SPA_AGENT = f"Cisco/SPA525G2-7.5.5 ({CONF_ROOM.upper()})(CBT1234567)"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the sample site that a test may edit."""
    target = tmp_path / "site"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".spaprov-state*"))
    return target


def add_credentials(site: Path, user: str, password: str, realm: str = "prov.example.com") -> None:
    CredentialStore(site / "credentials.htdigest", realm).set_password(user, password)


ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def start(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> AsyncIterator[ServerFactory]:
    async def factory(site: Path, **kwargs: object) -> TestServer:
        kwargs.setdefault("watch_interval", None)
        kwargs.setdefault("clock", ManualClock())
        return await aiohttp_server(create_app(site, **kwargs))  # type: ignore[arg-type]

    yield factory


def holder_of(server: TestServer):  # type: ignore[no-untyped-def]
    return server.app[HOLDER]

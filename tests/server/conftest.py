"""Fixtures of the server's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from tests.helpers.api import ADMIN, VIEWER
from tests.helpers.site import ServerFactory


@pytest.fixture
async def api(start: ServerFactory, site: Path) -> TestServer:
    accounts = AdminAccounts(site / "admins.toml")
    accounts.set(*ADMIN[:1], "admin", ADMIN[1])
    accounts.set(VIEWER[0], "viewer", VIEWER[1])
    return await start(site)

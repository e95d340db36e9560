"""A live server on the sample site (second phone included) whose clock is the phones' clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from spaprov.clock import ManualClock
from spaprov.server.app import create_app
from tests.helpers.mobility import Live, Starter, make_site
from tests.helpers.site import free_port


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Starter]:
    servers: list[TestServer] = []

    async def start(*, clock: ManualClock | None = None, **mobility: str) -> Live:
        port = free_port()
        site = make_site(tmp_path / f"site{len(servers)}", port, **mobility)
        clock = clock or ManualClock()
        state = f"sqlite:///{tmp_path / f'state{len(servers)}.sqlite3'}"
        server = TestServer(
            create_app(site, clock=clock, watch_interval=None, state=state), host="127.0.0.1", port=port
        )
        await server.start_server()
        servers.append(server)
        return Live(server, site, port, clock, state)

    yield start
    for server in servers:
        await server.close()

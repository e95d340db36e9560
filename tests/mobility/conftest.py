from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from spaprov.clock import ManualClock
from spaprov.mobility import SqliteStateStore
from spaprov.server.app import create_app
from tests.helpers.mobility import Live, Starter, make_site
from tests.helpers.site import free_port


@pytest.fixture
async def live(tmp_path: Path, state_url: str) -> AsyncIterator[Starter]:
    """Servers on 127.0.0.1 whose state is on each backend in turn (state_url)."""
    servers: list[TestServer] = []

    async def start(
        *,
        site: Path | None = None,
        port: int | None = None,
        clock: ManualClock | None = None,
        store: SqliteStateStore | None = None,
        **mobility: str,
    ) -> Live:
        port = port or free_port()
        site = site or make_site(tmp_path / f"site{len(servers)}", port, **mobility)
        clock = clock or ManualClock()
        app = create_app(site, clock=clock, watch_interval=None, state=store or state_url)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        servers.append(server)
        return Live(server, site, port, clock, state_url)

    yield start
    for server in servers:
        await server.close()

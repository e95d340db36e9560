"""A served site as the reload tests watch it: the station name a phone is given, /healthz, a hand
edit of the conference-room phone's file, and waiting (bounded) for a condition to hold."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from aiohttp.test_utils import TestServer

from tests.helpers.site import SPA_AGENT, flat_profile

DEVICE_FILE = Path("devices") / "001122334455.toml"


async def station(server: TestServer, *, host: bool = False) -> str:
    """The station name served; `host` fetches the host profile (which consults the state store)."""
    auth = httpx.DigestAuth("conf-room-1@example.com", "host-secret") if host else None
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}, auth=auth) as client:
        response = await client.get(str(server.make_url("/hostphone.cfg" if host else "/default.cfg")))
    assert response.status_code == 200
    return flat_profile(response.content)["Station_Name"]


async def health(server: TestServer, auth: tuple[str, str] | None = None) -> dict[str, object]:
    async with httpx.AsyncClient(auth=auth) as client:
        response = await client.get(str(server.make_url("/healthz")))
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


def edit(site: Path, old: str, new: str) -> None:
    path = site / DEVICE_FILE
    path.write_text(path.read_text().replace(old, new))


async def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)

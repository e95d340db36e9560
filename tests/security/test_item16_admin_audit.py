"""Item 16: administrative writes must be attributable.

Every create, update and delete through /api/v1, every password an administrator sets and every
forced logout is audited with the administrator's name and client address (`by NAME@ADDRESS` in
the detail, the address in `client`), durably before the 2xx (no drain needed to see it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from tests.helpers.site import SPA_AGENT, ServerFactory

OPS = ("ops-carol", "carol-secret")
DEVICE = {"mac": "00:AA:BB:CC:DD:EE", "model": "SPA504G", "station_name": "Lobby", "host_user": "lobby"}


@pytest.fixture
async def api(start: ServerFactory, site: Path) -> TestServer:
    AdminAccounts(site / "admins.toml").set(OPS[0], "admin", OPS[1])
    return await start(site)


async def call(server: TestServer, method: str, path: str, body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(auth=OPS) as client:
        return await client.request(
            method,
            str(server.make_url(path)),
            content=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )


async def audit(server: TestServer, event: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await call(server, "GET", "/api/v1/audit")).json()["items"]
    return [e for e in items if e["event"] == event]


async def test_every_admin_write_names_the_admin_and_the_client(api: TestServer) -> None:
    mac, dave = "00aabbccddee", {"display_name": "Dave", "em_profiles": ["dave"]}
    on_device, on_dave, on_alice, on_nobody = (None, mac), ("dave", None), ("alice", None), (None, None)
    steps = [
        ("POST", "/api/v1/devices", DEVICE, 201, "admin_create", f"device {mac}", on_device),
        ("PUT", f"/api/v1/devices/{mac}", {**DEVICE, "station_name": "Front"}, 200, "admin_update",
         f"device {mac}", on_device),
        ("DELETE", f"/api/v1/devices/{mac}", None, 204, "admin_delete", f"device {mac}", on_device),
        ("POST", "/api/v1/em_profiles", {"name": "dave", "lines": [{"number": 1, "user_id": "2004"}]}, 201,
         "admin_create", "EM profile dave", on_nobody),
        ("POST", "/api/v1/users", {"id": "dave", **dave}, 201, "admin_create", "user dave", on_dave),
        ("PUT", "/api/v1/users/dave", {**dave, "display_name": "David"}, 200, "admin_update", "user dave",
         on_dave),
        ("PUT", "/api/v1/users/alice/password", {"password": "new-pin"}, 204, "admin_password",
         "password of user alice", on_alice),
        ("DELETE", "/api/v1/users/dave", None, 204, "admin_delete", "user dave", on_dave),
        ("DELETE", "/api/v1/em_profiles/dave", None, 204, "admin_delete", "EM profile dave", on_nobody),
    ]  # fmt: skip
    # Refused writes are not audited as done.
    assert (await call(api, "POST", "/api/v1/devices", {**DEVICE, "model": "SPA999"})).status_code == 422
    assert (await call(api, "DELETE", "/api/v1/users/nobody")).status_code == 404
    for done, (method, path, body, status, event, what, (user, device)) in enumerate(steps, 1):
        response = await call(api, method, path, body)
        assert response.status_code == status, (method, path, response.text)
        items = (await call(api, "GET", "/api/v1/audit")).json()["items"]
        entries = [e for e in items if e["event"].startswith("admin_")]
        assert len(entries) == done, (method, path, entries)
        entry = entries[0]  # newest first
        assert entry["event"] == event
        assert entry["detail"] == f"{what} by {OPS[0]}@127.0.0.1"
        assert entry["client"] == "127.0.0.1"
        assert (entry["user"], entry["device"]) == (user, device)
    # The password entry never carries the password.
    assert all(
        "new-pin" not in json.dumps(e) for e in (await call(api, "GET", "/api/v1/audit")).json()["items"]
    )


async def test_a_forced_logout_names_the_admin(api: TestServer) -> None:
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        login = await client.get(
            str(api.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("bob@example.com", "5678")
        )
    assert login.status_code == 200
    assert (await call(api, "DELETE", "/api/v1/sessions/bob")).status_code == 200
    (entry,) = await audit(api, "forced_logout")
    assert (entry["user"], entry["device"]) == ("bob", "001122334455")
    assert entry["detail"] == f"by {OPS[0]}@127.0.0.1" and entry["client"] == "127.0.0.1"

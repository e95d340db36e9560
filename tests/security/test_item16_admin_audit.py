"""Item 16: administrative writes must be attributable.

Every create, update and delete through /api/v1, every password an administrator sets and every
forced logout is audited with the administrator's name and client address (`by NAME@ADDRESS` in
the detail, the address in `client`), durably before the 2xx (no drain needed to see it); every
write from the command line names the account that ran it (`by ACCOUNT@HOST (command line)`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from spaprov.commands.cli_audit import operator
from spaprov.mobility import default_state_url, open_state
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


def test_every_command_line_write_names_the_account_that_ran_it(site: Path, tmp_path: Path) -> None:
    """The command line changes the same things as the API (passwords, administrators, whole
    imports and restores), so each write leaves a row saying who ran it: the account and host,
    client `local`, in the state store the server reads (here the default, in the directory)."""
    (tmp_path / "devices.csv").write_text(
        "mac,model,station_name,host_user,em_enabled\n00aabbccddee,SPA504G,Lobby,lobby,yes\n"
    )
    where = ("--profiles", str(site))
    steps = [
        (("user", "passwd", "alice@example.com", "--password-stdin"), "pin-1\n", "admin_password", "alice",
         "password of alice@example.com"),
        (("user", "add", "carol@example.com", "--password-stdin"), "pin-2\n", "admin_password", "carol",
         "password of carol@example.com set (a new user)"),
        (("user", "del", "carol@example.com"), "", "admin_delete", "carol",
         "credentials of carol@example.com"),
        (("admin", "add", OPS[0], "--password-stdin"), f"{OPS[1]}\n", "admin_account", None,
         f"administrator {OPS[0]} set (role admin)"),
        (("admin", "passwd", OPS[0], "--password-stdin"), "another-secret\n", "admin_account", None,
         f"password of administrator {OPS[0]}"),
        (("admin", "del", OPS[0]), "", "admin_account", None, f"administrator {OPS[0]} removed"),
        (("import", str(tmp_path / "devices.csv")), "", "admin_import", None,
         f"devices from {tmp_path / 'devices.csv'} (1 created, 0 updated, 0 unchanged)"),
        (("backup", str(tmp_path / "site.tar.gz")), "", None, None, None),  # a read: not audited
        (("restore", str(tmp_path / "site.tar.gz")), "", "admin_restore", None,
         f"{tmp_path / 'site.tar.gz'} (0 created, 0 replaced, 0 deleted, 10 unchanged)"),
    ]  # fmt: skip
    state = open_state(default_state_url(site))
    try:
        for args, stdin, event, user, what in steps:
            ran = subprocess.run(
                [sys.executable, "-m", "spaprov", *args, *where],
                input=stdin, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert ran.returncode == 0, (args, ran.stderr)
            assert "not audited" not in ran.stderr
            with state.transaction(write=False) as tx:
                entries = tx.audit_entries(limit=100)
            if event is None:
                continue
            assert entries[0].event == event, (args, entries[0])
            assert (entries[0].user_id, entries[0].client) == (user, "local")
            assert entries[0].detail == f"{what} by {operator()} (command line)"
        assert [e.event for e in entries][::-1] == [event for _, _, event, _, _ in steps if event]
    finally:
        state.close()

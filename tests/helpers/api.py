"""The JSON API as its tests call it: an administrator and a viewer, a request with their HTTP
Basic credentials, and the checks of the one error shape.  The `api` fixture (a server where both
accounts exist) is in tests/server/conftest.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
from aiohttp.test_utils import TestServer

ADMIN = ("admin", "admin-secret")
VIEWER = ("viewer", "viewer-secret")


async def call(
    server: TestServer,
    method: str,
    path: str,
    body: Any = None,
    *,
    auth: tuple[str, str] | None = ADMIN,
    raw: bytes | None = None,
) -> httpx.Response:
    async with httpx.AsyncClient(auth=auth) as client:
        content = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return await client.request(
            method, str(server.make_url(path)), content=content, headers={"Content-Type": "application/json"}
        )


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert (error["status"], error["code"]) == (status, code)
    assert isinstance(error["message"], str) and isinstance(error["details"], list)
    return error

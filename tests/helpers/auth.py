"""Digest and admin authentication against a test server: the auth tests' realm, secret and
users, the sample site's host and admin accounts, and Digest requests built by hand."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from tests.helpers.digest_client import authorization, parse_challenge
from tests.helpers.site import SPA_AGENT

# The realm, nonce secret and users of the authenticator tests (tests/auth).
REALM = "spaprov-test"
SECRET = b"0123456789abcdef0123456789abcdef"
USERS = {"alice@example.com": "1234", "bob@example.com": "5678", "conf-room-1@example.com": "host-secret"}
# The sample site.
HOST_USER, HOST_PASSWORD = "conf-room-1@example.com", "host-secret"
ADMIN_NAME, ADMIN_PASSWORD = "admin", "admin-secret"


def set_admin(site: Path) -> None:
    AdminAccounts(site / "admins.toml").set(ADMIN_NAME, "admin", ADMIN_PASSWORD)


async def get(
    server: TestServer, path: str, *, header: str | None = None, auth: tuple[str, str] | None = None
) -> httpx.Response:
    headers = {"User-Agent": SPA_AGENT}
    if header is not None:
        headers["Authorization"] = header
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        return await client.get(str(server.make_url(path)), auth=auth)


async def challenge(server: TestServer, path: str = "/hostphone.cfg") -> dict[str, str]:
    response = await get(server, path)
    assert response.status_code == 401
    return parse_challenge(response.headers["WWW-Authenticate"])


async def digest_header(
    server: TestServer,
    user: str = HOST_USER,
    password: str = HOST_PASSWORD,
    path: str = "/hostphone.cfg",
) -> str:
    return authorization(await challenge(server, path), user, password, uri=path)


async def raw_exchange(server: TestServer, request: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes as they are (no client library re-encoding the target or the headers) and read
    the whole answer, until the server closes the connection."""
    assert server.host is not None and server.port is not None
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        await writer.wait_closed()


async def raw_request(server: TestServer, request: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """`raw_exchange`, answered as the status and the body."""
    head, _, body = (await raw_exchange(server, request, timeout)).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def change_auth(site: Path, old: str, new: str) -> None:
    """Edit site.toml in place (the test then reloads): `old` must be there."""
    path = site / "site.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))

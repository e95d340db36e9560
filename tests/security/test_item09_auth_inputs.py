"""Item 9 (authentication parts): hostile bytes in Digest fields and an oversize Basic password
get a clear 4xx, never a 500 with a traceback, and each one counts towards the lockout."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from spaprov.server.app import MOBILITY
from tests.helpers.auth import (
    ADMIN_NAME,
    ADMIN_PASSWORD,
    HOST_USER,
    challenge,
    digest_header,
    get,
    raw_request,
    set_admin,
)
from tests.helpers.site import SPA_AGENT, ServerFactory

HOSTILE = [b"\xff" * 32, "é".encode() * 16, b"\x80abc"]


async def hostile_digest(server: TestServer, field: str, value: bytes) -> int:
    nonce = await challenge(server)
    fields = {
        "username": HOST_USER.encode(),
        "realm": nonce["realm"].encode(),
        "nonce": nonce["nonce"].encode(),
        "uri": b"/hostphone.cfg",
        "response": b"0" * 32,
        "opaque": nonce["opaque"].encode(),
        "cnonce": b"0a4f113b",
    }
    fields[field] = value
    header = b", ".join(b'%s="%s"' % (name.encode(), text) for name, text in fields.items())
    header += b", algorithm=MD5, qop=auth, nc=00000001"
    request = (
        b"GET /hostphone.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: "
        + SPA_AGENT.encode()
        + b"\r\nAuthorization: Digest "
        + header
        + b"\r\nConnection: close\r\n\r\n"
    )
    status, _ = await raw_request(server, request)
    return status


@pytest.mark.parametrize("field", ["response", "opaque", "cnonce"])
async def test_non_ascii_digest_fields_are_refused_and_counted(
    start: ServerFactory, site: Path, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site)
    with caplog.at_level(logging.WARNING):
        statuses = [await hostile_digest(server, field, value) for value in HOSTILE]
        statuses += [await hostile_digest(server, field, HOSTILE[0]) for _ in range(2)]
    assert all(status in (400, 401) for status in statuses[:5]), statuses
    assert "Traceback" not in caplog.text
    # Five hostile attempts were five failures: the right password is now locked out.
    right = await get(server, "/hostphone.cfg", header=await digest_header(server))
    assert right.status_code == 429


async def test_oversize_basic_password_is_a_counted_4xx(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    set_admin(site)
    server = await start(site)
    huge = base64.b64encode(f"{ADMIN_NAME}:{'x' * 5000}".encode()).decode()
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            response = await get(server, "/api/v1/devices", header=f"Basic {huge}")
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "bad_authorization"
    assert "Traceback" not in caplog.text
    locked = await get(server, "/api/v1/devices", auth=(ADMIN_NAME, ADMIN_PASSWORD))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


async def test_raw_latin1_basic_credentials_are_a_clear_4xx(start: ServerFactory, site: Path) -> None:
    set_admin(site)
    server = await start(site)
    for credentials in (b"Basic \xff\xfe", b"Basic " + base64.b64encode(b"\xffadmin:\xfe"), b"Basic ====="):
        request = (
            b"GET /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
            + credentials
            + b"\r\nConnection: close\r\n\r\n"
        )
        status, body = await raw_request(server, request)
        assert status in (400, 401), (credentials, status, body)


async def test_raw_bytes_in_the_digest_username_are_counted_and_audited(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site)
    with caplog.at_level(logging.WARNING):
        statuses = [await hostile_digest(server, "username", b"\xffmallory\xc3\xa9") for _ in range(6)]
        await server.app[MOBILITY].drain()  # the audit is written off the request path, batched
    assert statuses == [401] * 5 + [429]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
    entries = await server.app[MOBILITY].read(lambda tx: tx.audit_entries(limit=50, oldest_first=True))
    # Failures are coalesced per user, client and interval: one row says how many.
    rows = [(e.event, e.detail) for e in entries if e.user_id == "\ufffdmallory\u00e9"]
    assert rows == [("failed_auth", "4 failures"), ("lockout", None)], rows

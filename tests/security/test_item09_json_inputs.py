"""Item 9 (JSON and query parts): malformed request bodies and audit limits gave 500s.

Invalid JSON, arrays, lone surrogates, 30,000-deep nesting on /em/password and /api/v1, and
`audit?limit=1e20` must each be a clear 400, never a 500.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from tests.helpers.browser import ALICE
from tests.helpers.site import ServerFactory

ADMIN = ("admin", "admin-secret")
DEEP = b'{"rule": "/x", "state": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
BAD_BODIES = {
    "not JSON": b"{not json",
    "truncated": b'{"rule": "/x"',
    "empty": b"",
    "array": b"[1, 2]",
    "string": b'"a rule"',
    "number": b"5",
    "null": b"null",
    "lone surrogate": b'{"rule": "\\ud800", "id": "\\ud800", "display_name": "\\udfff", '
    b'"password": "\\ud800"}',
    "surrogate key": b'{"\\ud800": 1}',
    "30,000 deep": DEEP,
    "33 deep": b'{"a": ' + b"[" * 32 + b"]" * 32 + b"}",
    "not UTF-8": b'{"rule": "\xff\xfe"}',
    "NaN": b'{"rule": "/x", "state": {"A": NaN}}',
    "duplicate key": b'{"rule": "/x", "rule": "/y"}',
    "5,000-digit number": b'{"rule": "/x", "n": ' + b"9" * 5000 + b"}",
}
API_BODIES = [
    ("POST", "/api/v1/rules/eval"),
    ("POST", "/api/v1/users"),
    ("PUT", "/api/v1/users/alice"),
    ("PUT", "/api/v1/users/alice/password"),
    ("POST", "/api/v1/devices"),
]


@pytest.fixture
async def server(start: ServerFactory, site: Path) -> TestServer:
    AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
    return await start(site)


async def test_bad_json_is_a_clear_400_on_the_api(server: TestServer, site: Path) -> None:
    before = sorted(p.name for p in (site / "users").iterdir())
    wrong = []
    async with httpx.AsyncClient(auth=ADMIN) as client:
        for label, body in BAD_BODIES.items():
            for method, path in API_BODIES:
                response = await client.request(
                    method,
                    str(server.make_url(path)),
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                code = response.json()["error"]["code"] if response.status_code < 500 else ""
                if (response.status_code, code) != (400, "invalid_json"):
                    wrong.append((label, method, path, response.status_code, response.text[:80]))
    assert wrong == []
    assert sorted(p.name for p in (site / "users").iterdir()) == before


async def test_bad_json_is_a_clear_400_on_em_password(server: TestServer) -> None:
    wrong = []
    async with httpx.AsyncClient() as client:
        url = str(server.make_url("/em/password"))
        for label, body in BAD_BODIES.items():
            response = await client.post(
                url, content=body, headers={"Content-Type": "application/json"}, auth=ALICE
            )
            if response.status_code != 400 or not response.text.startswith("400: "):
                wrong.append((label, response.status_code, response.text[:80]))
        assert (await client.get(url, auth=ALICE)).status_code == 200  # 1234 still works
    assert wrong == []


async def test_bad_form_fields_are_a_clear_400_on_em_password(server: TestServer) -> None:
    async with httpx.AsyncClient() as client:
        for body in (
            b"current=1234&password=%ED%A0%80%ED%A0%80&confirm=%ED%A0%80%ED%A0%80",  # encoded surrogates
            b"current=1234&password=%FF%FE%FD%FC&confirm=%FF%FE%FD%FC",  # not UTF-8
            b"current=1234&password=ab%00cd&confirm=ab%00cd",  # a control character
        ):
            response = await client.post(
                str(server.make_url("/em/password")),
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                auth=ALICE,
            )
            assert response.status_code == 400, (body, response.status_code, response.text)


BAD_AUDIT_QUERIES = [
    "limit=1e20",
    "limit=-1",
    "limit=0",
    "limit=99999999999999999999",
    "limit=abc",
    "limit=",
    "limit=%D9%A1",  # an Arabic-Indic digit one: int() would take it
    "limit=10001",
    "since=" + "9" * 400 + "d",
    "since=someday",
]


async def test_bad_audit_queries_are_a_clear_400(server: TestServer) -> None:
    wrong = []
    async with httpx.AsyncClient(auth=ADMIN) as client:
        for query in BAD_AUDIT_QUERIES:
            response = await client.get(str(server.make_url(f"/api/v1/audit?{query}")))
            code = response.json()["error"]["code"] if response.status_code < 500 else ""
            if (response.status_code, code) != (400, "bad_request"):
                wrong.append((query, response.status_code, response.text[:80]))
        for limit in ("1", "10000"):  # and the good ones still work
            response = await client.get(str(server.make_url(f"/api/v1/audit?limit={limit}")))
            assert response.status_code == 200 and response.json()["items"] == []
    assert wrong == []

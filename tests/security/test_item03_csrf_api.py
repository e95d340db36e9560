"""Item 3: CSRF on /api/v1 through cached Basic credentials.

The API read text/plain bodies as JSON, so another site's `<form enctype="text/plain">` made a
browser holding the admin's Basic credentials create users and EM profiles.  Now bodies must be
application/json (415), and a state-changing request whose Origin (or Sec-Fetch-Site) is not
this server's is refused (403, the API's error shape); /admin cannot be framed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from spaprov.config import ConfigError, load_profile_directory
from tests.helpers.browser import (
    ServerMaker,
    attacker_site,
    auto_submit,
    chromium_context,
    needs_chromium,
    origin_of,
)
from tests.helpers.site import ServerFactory

ADMIN = ("admin", "admin-secret")
MALLORY = {"id": "mallory", "display_name": "Mallory", "em_profiles": ["bob"]}


@pytest.fixture
async def api(start: ServerFactory, site: Path) -> TestServer:
    AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
    return await start(site)


async def send(
    server: TestServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content_type: str | None = "application/json",
) -> httpx.Response:
    sent = {"Content-Type": content_type} if content_type else {}
    async with httpx.AsyncClient(auth=ADMIN) as client:
        return await client.request(
            method,
            str(server.make_url(path)),
            content=None if body is None else json.dumps(body).encode(),
            headers={**sent, **(headers or {})},
        )


def assert_api_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code) and error["message"]


# -- the reported attack, in a real browser ----------------------------------------------------------
@pytest.mark.browser
@needs_chromium
async def test_a_foreign_text_plain_form_cannot_create_a_user(
    api: TestServer, site: Path, aiohttp_server: ServerMaker
) -> None:
    target = str(api.make_url("/api/v1/users"))
    # enctype=text/plain sends `name=value`: split the JSON so that the '=' lands inside a string.
    name, value = '{"id":"mallory","display_name":"Mal', 'lory","em_profiles":["bob"]}'
    attacker = await attacker_site(aiohttp_server, auto_submit(target, {name: value}, enctype="text/plain"))
    credentials = {"username": ADMIN[0], "password": ADMIN[1], "origin": origin_of(api)}
    async with chromium_context(credentials) as context:
        page = await context.new_page()
        admin = await page.goto(str(api.make_url("/admin")))  # the admin at work: Basic cached
        assert admin is not None and admin.status == 200
        for url in (
            str(attacker.make_url("/")),
            str(attacker.make_url("/")).replace("127.0.0.1", "localhost"),
        ):
            async with page.expect_response(
                lambda r: r.url == target and r.request.method == "POST" and r.status != 401
            ) as seen:
                await page.goto(url)
            response = await seen.value
            assert not (site / "users" / "mallory.toml").exists(), f"{url} created a user ({response.status})"
            assert response.status == 403
            assert (await response.json())["error"]["code"] == "cross_origin"


# -- each defence on its own, with an HTTP client ----------------------------------------------------
async def test_only_application_json_bodies_are_read(api: TestServer, site: Path) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None):
        response = await send(api, "POST", "/api/v1/users", MALLORY, content_type=content_type)
        assert_api_error(response, 415, "unsupported_media_type")
    assert_api_error(
        await send(api, "POST", "/api/v1/rules/eval", {"rule": "/x"}, content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert_api_error(
        await send(api, "POST", "/api/v1/users", MALLORY, content_type="application/json; charset=latin-1"),
        415,
        "unsupported_media_type",
    )
    assert not (site / "users" / "mallory.toml").exists()
    created = await send(
        api, "POST", "/api/v1/users", MALLORY, content_type="application/json; charset=utf-8"
    )
    assert created.status_code == 201


async def test_foreign_origins_may_not_change_anything(api: TestServer, site: Path) -> None:
    own = origin_of(api)
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": own.replace("127.0.0.1", "localhost")},
        {"Origin": "https" + own[4:]},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": own, "Sec-Fetch-Site": "cross-site"},
    ):
        assert_api_error(await send(api, "POST", "/api/v1/users", MALLORY, headers), 403, "cross_origin")
        assert_api_error(await send(api, "DELETE", "/api/v1/users/bob", None, headers), 403, "cross_origin")
        assert_api_error(
            await send(api, "PUT", "/api/v1/users/alice/password", {"password": "pwned"}, headers),
            403,
            "cross_origin",
        )
        assert_api_error(
            await send(api, "DELETE", "/api/v1/sessions/alice", None, headers), 403, "cross_origin"
        )
        assert_api_error(
            await send(api, "POST", "/api/v1/rules/eval", {"rule": "/x"}, headers), 403, "cross_origin"
        )
    assert not (site / "users" / "mallory.toml").exists() and (site / "users" / "bob.toml").exists()
    # Reading stays possible from anywhere with credentials (browsers keep the answer from
    # other origins anyway: no CORS headers are sent).
    listed = await send(api, "GET", "/api/v1/users", None, {"Origin": "http://evil.example"})
    assert listed.status_code == 200
    # The server's own origin, and a client that sends neither header (curl), are served.
    same = {"Origin": own, "Sec-Fetch-Site": "same-origin"}
    assert (await send(api, "POST", "/api/v1/users", MALLORY, same)).status_code == 201
    assert (await send(api, "DELETE", "/api/v1/users/mallory")).status_code == 204


async def test_trusted_origins_for_a_tls_proxy(start: ServerFactory, site: Path) -> None:
    AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
    site_toml = site / "site.toml"
    text = site_toml.read_text()
    site_toml.write_text(
        text.replace("[site]\n", '[site]\ntrusted_origins = ["https://prov.example.com"]\n', 1)
    )
    server = await start(site)
    proxied = await send(server, "POST", "/api/v1/users", MALLORY, {"Origin": "https://prov.example.com"})
    assert proxied.status_code == 201, proxied.text
    other = await send(
        server, "DELETE", "/api/v1/users/mallory", None, {"Origin": "https://other.example.com"}
    )
    assert_api_error(other, 403, "cross_origin")
    site_toml.write_text(text.replace("[site]\n", '[site]\ntrusted_origins = ["https://x/path"]\n', 1))
    with pytest.raises(ConfigError, match="trusted_origins"):
        load_profile_directory(site)


async def test_the_admin_page_cannot_be_framed(api: TestServer) -> None:
    async with httpx.AsyncClient(auth=ADMIN) as client:
        page = await client.get(str(api.make_url("/admin")))
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

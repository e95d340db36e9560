"""Item 2: CSRF on /em/password.

A page on another origin auto-submitted a form to /em/password; Chromium, holding alice's Digest
credentials, answered the challenge and her password changed.  Now a change needs the same
origin (Origin, Sec-Fetch-Site), the current password, and (from a browser) the token of a form
the server issued; the pages cannot be framed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.auth.digest import ha1
from tests.helpers.browser import (
    ALICE,
    ServerMaker,
    attacker_site,
    auto_submit,
    chromium_context,
    hidden_token,
    needs_chromium,
    origin_of,
)
from tests.helpers.site import ServerFactory

REALM = "prov.example.com"


def alice_password_is(site: Path, password: str) -> bool:
    store = CredentialStore(site / "credentials.htdigest", REALM)
    return store.ha1("alice@example.com", "SHA-256") == ha1("SHA-256", "alice@example.com", REALM, password)


async def form_token(server: TestServer, auth: httpx.DigestAuth = ALICE) -> str:
    async with httpx.AsyncClient() as client:
        page = await client.get(str(server.make_url("/em/password")), auth=auth)
    assert page.status_code == 200, page.text
    return hidden_token(page.text)


async def post(
    server: TestServer,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
    auth: httpx.DigestAuth = ALICE,
) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            str(server.make_url("/em/password")), data=fields, headers=headers or {}, auth=auth
        )


# -- the reported attack, in a real browser ----------------------------------------------------------
@pytest.mark.browser
@needs_chromium
async def test_a_foreign_page_cannot_change_the_password_through_chromium(
    start: ServerFactory, site: Path, aiohttp_server: ServerMaker
) -> None:
    spaprov = await start(site)
    target = str(spaprov.make_url("/em/password"))
    attack = auto_submit(target, {"password": "pwned", "confirm": "pwned", "current": "guess"})
    same_site = await attacker_site(aiohttp_server, attack)  # 127.0.0.1, another port
    credentials = {"username": "alice@example.com", "password": "1234", "origin": origin_of(spaprov)}
    async with chromium_context(credentials) as context:
        page = await context.new_page()
        # Alice uses the service: the browser now holds her Digest credentials for spaprov.
        visited = await page.goto(target)
        assert visited is not None and visited.status == 200
        assert "Signed in as alice@example.com" in await page.content()
        # Then she opens the attacker's pages, on another port and on another site (localhost).
        for attacker in (
            str(same_site.make_url("/")),
            str(same_site.make_url("/")).replace("127.0.0.1", "localhost"),
        ):
            # (A 401 is the challenge, answered from the cached credentials: wait for the answer.)
            async with page.expect_response(
                lambda r: r.url == target and r.request.method == "POST" and r.status != 401
            ) as seen:
                await page.goto(attacker)
            response = await seen.value
            assert alice_password_is(site, "1234"), f"{attacker} changed the password ({response.status})"
            assert response.status == 403
            assert "403: Forbidden" in await page.content()
        # The real form, used the real way, still works.
        await page.goto(target)
        await page.fill("input[name=current]", "1234")
        await page.fill("input[name=password]", "2468")
        await page.fill("input[name=confirm]", "2468")
        await page.click("button[type=submit]")
        await page.get_by_text("Your password was changed").wait_for()
    assert alice_password_is(site, "2468")
    async with httpx.AsyncClient() as client:  # her old password no longer logs in, the new one does
        url = str(spaprov.make_url("/em/password"))
        assert (await client.get(url, auth=ALICE)).status_code == 401
        assert (await client.get(url, auth=httpx.DigestAuth("alice@example.com", "2468"))).status_code == 200


# -- each defence on its own, with an HTTP client ----------------------------------------------------
async def test_pages_cannot_be_framed(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    async with httpx.AsyncClient() as client:
        page = await client.get(str(server.make_url("/em/password")), auth=ALICE)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert 'name="current"' in page.text and 'autocomplete="current-password"' in page.text


async def test_foreign_origin_and_fetch_site_are_refused(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    own = origin_of(server)
    good = {"current": "1234", "password": "2468", "confirm": "2468"}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": own.replace("127.0.0.1", "localhost")},
        {"Origin": "null"},
        {"Origin": own + "/path"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": own, "Sec-Fetch-Site": "cross-site"},
    ):
        refused = await post(server, {**good, "token": await form_token(server)}, headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert alice_password_is(site, "1234")
    accepted = await post(
        server, {**good, "token": await form_token(server)}, {"Origin": own, "Sec-Fetch-Site": "same-origin"}
    )
    assert accepted.status_code == 200 and "was changed" in accepted.text
    assert alice_password_is(site, "2468")


async def test_a_browser_needs_a_token_this_server_issued(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    same = {"Origin": origin_of(server), "Sec-Fetch-Site": "same-origin"}
    good = {"current": "1234", "password": "2468", "confirm": "2468"}
    store = CredentialStore(site / "credentials.htdigest", REALM)
    key = (store.ha1("alice@example.com", "SHA-256") or "").encode()
    stale = int(time.time()) - 3600
    old = hmac.new(key, f"spaprov form v1\nalice@example.com\n{stale}".encode(), hashlib.sha256).hexdigest()
    bob_token = await form_token(server, httpx.DigestAuth("bob@example.com", "5678"))
    token = await form_token(server)
    altered = token[:-1] + ("1" if token.endswith("0") else "0")  # one hex digit changed, always
    for bad in (None, "", "garbage", f"{stale}.{old}", bob_token, altered, f"9{token}"):
        fields = good if bad is None else {**good, "token": bad}
        refused = await post(server, fields, same)
        assert refused.status_code == 403, (bad, refused.text)
    # A non-browser client (no Origin, no Sec-Fetch-Site) may omit the token, but a wrong one
    # is still refused.
    assert (await post(server, {**good, "token": "garbage"})).status_code == 403
    assert alice_password_is(site, "1234")
    assert (await post(server, {**good, "token": token}, same)).status_code == 200
    # Her change voided every form issued before it.
    back = {"current": "2468", "password": "1234", "confirm": "1234", "token": token}
    assert (await post(server, back, same, httpx.DigestAuth("alice@example.com", "2468"))).status_code == 403


async def test_the_current_password_is_required(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    new = {"password": "2468", "confirm": "2468"}
    assert (await post(server, new)).status_code == 400
    assert (await post(server, {**new, "current": "4321"})).status_code == 403
    assert (await post(server, {**new, "current": ""})).status_code == 403
    assert alice_password_is(site, "1234")
    async with httpx.AsyncClient() as client:  # curl-like JSON client: the current password suffices
        done = await client.post(
            str(server.make_url("/em/password")), json={"current": "1234", "password": "2468"}, auth=ALICE
        )
    assert done.status_code == 200
    assert alice_password_is(site, "2468")


async def test_only_forms_and_json_are_read(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    async with httpx.AsyncClient() as client:
        for content_type in ("text/plain", "application/octet-stream", None):
            response = await client.post(
                str(server.make_url("/em/password")),
                content=b"current=1234&password=2468&confirm=2468",
                headers={"Content-Type": content_type} if content_type else {},
                auth=ALICE,
            )
            assert response.status_code == 415, (content_type, response.text)
    assert alice_password_is(site, "1234")

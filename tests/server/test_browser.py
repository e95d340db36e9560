"""/admin in headless Chromium (Debian's, driven by Playwright): playground, sessions, overviews."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from tests.helpers.browser import CHROMIUM, needs_chromium
from tests.helpers.site import SPA_AGENT, ServerFactory

pytestmark = [needs_chromium, pytest.mark.browser]
SCREENSHOTS = Path(os.environ.get("SPAPROV_SCREENSHOTS", "build/screenshots"))


@pytest.fixture
async def admin_server(start: ServerFactory, site: Path) -> TestServer:
    AdminAccounts(site / "admins.toml").set("admin", "admin", "admin-secret")
    return await start(site)


async def test_admin_page_playground_sessions_and_overviews(admin_server: TestServer, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI must install Debian's chromium"
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:  # alice logs in on the phone
        login = await client.get(
            str(admin_server.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "1234")
        )
        assert login.status_code == 200
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = await browser.new_context(
            http_credentials={"username": "admin", "password": "admin-secret"},
            viewport={"width": 1200, "height": 900},
        )
        page = await context.new_page()
        await page.goto(str(admin_server.make_url("/admin")))
        result = page.locator("#rule-result")
        # The seed rule with the default state (mobile, alice/1234): the mobile alternative.
        await result.filter(has_text="chosen: alternative 1").wait_for()
        assert "--uid alice@example.com" in await result.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = await page.screenshot(path=str(SCREENSHOTS / "playground.png"), full_page=True)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
        # Change the phone state as you type: logged out with host credentials → host profile.
        await page.select_option("#EMS", "host")
        await page.fill("#PUID", "conf-room-1")
        await page.fill("#PPWD", "host-secret")
        await result.filter(has_text="chosen: alternative 2").wait_for()
        assert "--uid conf-room-1@example.com" in await result.inner_text()
        # A mistake is pointed at: line:col and a caret.
        await page.fill("#rule", '("$EMS" eq "mobile") http://x/m.cfg')
        error = page.locator("#rule-error")
        await error.filter(has_text='1:22: expected "?" after the condition').wait_for()
        assert (await error.inner_text()).rstrip().endswith("^")
        # Overviews, then the sessions table: log alice out with her button.
        assert "Conference Room 1" in await page.locator("#devices").inner_text()
        assert "Alice Example" in await page.locator("#users").inner_text()
        button = page.locator('#sessions button[data-user="alice"]')
        await button.click()
        await page.locator("#sessions tbody tr").first.wait_for(state="detached")
        await browser.close()
    async with httpx.AsyncClient(auth=("admin", "admin-secret")) as client:
        sessions = (await client.get(str(admin_server.make_url("/api/v1/sessions")))).json()["items"]
    assert sessions == []

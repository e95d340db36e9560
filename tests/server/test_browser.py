"""The console (/admin) in headless Chromium (Debian's, driven by Playwright): every action an
administrator takes, a viewer's read-only pages, credentials in the URL, labels and the keyboard.
Screenshots go to each test's tmp_path."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth.admins import AdminAccounts
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.helpers.site import CONF_ROOM, SPA_AGENT, ServerFactory, holder_of

pytestmark = [needs_chromium, pytest.mark.browser]
ADMIN = {"username": "admin", "password": "admin-secret"}
VIEWER = {"username": "viewer", "password": "viewer-secret"}
SCRIPT_ERRORS: list[str] = []


@pytest.fixture(autouse=True)
def no_script_errors() -> Any:
    """Any uncaught error in the console's script fails the test that caused it."""
    SCRIPT_ERRORS.clear()
    yield
    assert SCRIPT_ERRORS == []


@pytest.fixture
async def admin_server(start: ServerFactory, site: Path) -> TestServer:
    accounts = AdminAccounts(site / "admins.toml")
    accounts.set("admin", "admin", "admin-secret")
    accounts.set("viewer", "viewer", "viewer-secret")
    return await start(site)


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI must install Debian's chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(chromium: Any, credentials: dict[str, str] | None = ADMIN) -> Any:
    context = await chromium.new_context(
        http_credentials=credentials, viewport={"width": 1200, "height": 900}
    )
    page = await context.new_page()
    page.on("pageerror", lambda error: SCRIPT_ERRORS.append(str(error)))
    return page


async def shot(page: Any, tmp_path: Path, name: str) -> None:
    png = await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


async def alice_logs_in(server: TestServer) -> None:
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        login = await client.get(
            str(server.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "1234")
        )
    assert login.status_code == 200


async def test_create_edit_validation_error_and_delete_a_device(
    admin_server: TestServer, chromium: Any, tmp_path: Path
) -> None:
    page = await open_page(chromium)
    await page.goto(str(admin_server.make_url("/admin/devices")))
    await page.get_by_role("link", name="New").click()
    await page.get_by_label("MAC address").fill("0a:0b:0c:0d:0e:0f")
    await page.get_by_label("Model").select_option("SPA504G")
    await page.get_by_label("Station name").fill("Reception desk")
    await page.get_by_label("Host user", exact=True).fill("reception")
    await page.get_by_label("Lines, speed dials and line keys (JSON)").fill(
        '{"lines": [{"number": 1, "user_id": "1009"}]}'
    )
    await page.get_by_role("button", name="Create").click()
    await page.wait_for_url("**/admin/devices/0a0b0c0d0e0f?saved=1")
    await page.get_by_role("status").filter(has_text="Saved.").wait_for()
    device = holder_of(admin_server).config.devices["0a0b0c0d0e0f"]
    assert (device.station_name, device.model.name, device.content.lines[0].user_id) == (
        "Reception desk",
        "SPA504G",
        "1009",
    )
    await shot(page, tmp_path, "device-created")

    # Edit, with a mistake: the server's reason appears next to the field it names.
    await page.get_by_label("Host user", exact=True).fill("Not A User!")
    await page.get_by_role("button", name="Save").click()
    error = page.locator("#error-host_user")
    await error.wait_for(state="visible")
    assert "host_user" in await error.inner_text()
    assert await page.get_by_label("Host user", exact=True).get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("Host user", exact=True).evaluate("e => e === document.activeElement")
    await shot(page, tmp_path, "device-validation-error")
    assert holder_of(admin_server).config.devices["0a0b0c0d0e0f"].host_user == "reception"
    # A mistake in the nested lines goes next to the JSON field.
    await page.get_by_label("Host user", exact=True).fill("reception")
    await page.get_by_label("Lines, speed dials and line keys (JSON)").fill(
        '{"lines": [{"number": 99, "user_id": "1"}]}'
    )
    await page.get_by_role("button", name="Save").click()
    await page.locator("#error-content").filter(has_text="lines").wait_for()

    # Then a good edit.
    await page.get_by_label("Lines, speed dials and line keys (JSON)").fill(
        '{"lines": [{"number": 1, "user_id": "1009"}]}'
    )
    await page.get_by_label("Station name").fill("Front desk")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert holder_of(admin_server).config.devices["0a0b0c0d0e0f"].station_name == "Front desk"

    # Delete: the dialog first; Cancel keeps the device, Confirm deletes it.
    await page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    assert "Delete 0a0b0c0d0e0f?" in await dialog.inner_text()
    await shot(page, tmp_path, "device-delete-confirm")
    await dialog.get_by_role("button", name="Cancel").click()
    assert "0a0b0c0d0e0f" in holder_of(admin_server).config.devices
    await page.get_by_role("button", name="Delete").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await page.wait_for_url("**/admin/devices?deleted=0a0b0c0d0e0f")
    assert "0a0b0c0d0e0f" not in holder_of(admin_server).config.devices
    assert "Reception" not in await page.locator("#items").inner_text()


async def test_users_search_password_lock_and_unlock(
    admin_server: TestServer, chromium: Any, tmp_path: Path
) -> None:
    await alice_logs_in(admin_server)
    page = await open_page(chromium)
    await page.goto(str(admin_server.make_url("/admin/users")))
    await page.get_by_label("Search").fill("bob")
    await page.get_by_role("button", name="Search").click()
    await page.locator("#count").filter(has_text="1 found").wait_for()
    assert "alice" not in await page.locator("#items").inner_text()
    await page.get_by_role("link", name="bob").click()
    await page.get_by_label("New password").fill("")
    await page.get_by_role("button", name="Set password").click()
    await page.locator("#error-password").filter(has_text="must not be empty").wait_for()
    await page.get_by_label("New password").fill("9999")
    await page.get_by_role("button", name="Set password").click()
    await page.locator("#password-status").filter(has_text="Password set.").wait_for()
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        url = str(admin_server.make_url("/mobilephone.cfg"))
        assert (await client.get(url, auth=httpx.DigestAuth("bob@example.com", "9999"))).status_code == 200
    # Lock alice (confirmed): her session ends; unlock again.
    await page.goto(str(admin_server.make_url("/admin/users/alice")))
    await page.get_by_role("button", name="Lock").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await page.locator("#lock-state").filter(has_text=re.compile("^Locked")).wait_for()
    await shot(page, tmp_path, "user-locked")
    assert holder_of(admin_server).config.users["alice"].locked
    await page.get_by_role("button", name="Unlock").click()
    await page.locator("#lock-state").filter(has_text="Not locked").wait_for()
    assert not holder_of(admin_server).config.users["alice"].locked


async def test_rule_check_lint_impact_preview_and_save(
    admin_server: TestServer, chromium: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    await alice_logs_in(admin_server)
    page = await open_page(chromium)
    await page.goto(str(admin_server.make_url("/admin/rule")))
    result = page.locator("#rule-result")
    await result.filter(has_text="chosen: alternative 1").wait_for()  # the default state: alice on the phone
    assert "--uid alice@example.com" in await result.inner_text()
    # Checked as you type: logged out with host credentials, then a syntax error with a caret.
    await page.get_by_label("EMS (EM_Login_State)").select_option("host")
    await page.get_by_label("PUID").fill("conf-room-1")
    await page.get_by_label("PPWD").fill("host-secret")
    await result.filter(has_text="chosen: alternative 2").wait_for()
    rule_box = page.get_by_label("Profile_Rule (checked and linted as you type)")
    old_rule = await rule_box.input_value()
    await rule_box.fill('("$EMS" eq "mobile") http://x/m.cfg')
    error = page.locator("#rule-error")
    await error.filter(has_text='1:22: expected "?" after the condition').wait_for()
    assert (await error.inner_text()).rstrip().endswith("^")
    # Linted as you type: credentials over plain http are flagged (the sample's site ignores it).
    await rule_box.fill("[--uid $PUID$PDOM --pwd $PPWD] http://x/h.cfg")
    await page.locator("#rule-lint li").first.wait_for()
    # The impact preview: the mobile path moves, so alice's phone (the only one logged in) changes.
    new_rule = old_rule.replace("/mobilephone.cfg", "/em/mobile.cfg")
    await rule_box.fill(new_rule)
    save = page.get_by_role("button", name="Save the rule")
    assert await save.is_disabled()  # no preview of this text yet
    await page.get_by_role("button", name="Preview the impact").click()
    summary = page.locator("#impact-summary")
    await summary.filter(has_text="1 of 1 phones change").wait_for()
    devices = await page.locator("#impact-devices").inner_text()
    assert CONF_ROOM in devices and "mobile: http://127.0.0.1:8080/em/mobile.cfg" in devices
    await shot(page, tmp_path, "rule-impact")
    # Typing after the preview asks for a new one before saving.
    await rule_box.fill(new_rule + " ")
    await expect(save).to_be_disabled()
    await rule_box.fill(new_rule)
    await page.get_by_role("button", name="Preview the impact").click()
    await expect(save).to_be_enabled()
    await save.click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await page.locator("#rule-status").filter(has_text="Saved").wait_for()
    assert holder_of(admin_server).config.site.profile_rule == new_rule


async def test_forced_logout_after_confirming(
    admin_server: TestServer, chromium: Any, tmp_path: Path
) -> None:
    await alice_logs_in(admin_server)
    page = await open_page(chromium)
    await page.goto(str(admin_server.make_url("/admin/sessions")))
    button = page.get_by_role("button", name="Log out alice")
    await button.click()
    dialog = page.get_by_role("dialog")
    assert "Log alice out of 001122334455?" in await dialog.inner_text()
    await shot(page, tmp_path, "logout-confirm")
    await page.keyboard.press("Escape")  # cancels
    await dialog.wait_for(state="hidden")
    assert await page.locator("#sessions tbody tr").count() == 1
    await button.click()
    await dialog.get_by_role("button", name="Confirm").click()
    await page.locator("#sessions-status").filter(has_text="alice logged out.").wait_for()
    assert await page.locator("#sessions tbody tr").count() == 0
    async with httpx.AsyncClient(auth=("admin", "admin-secret")) as client:
        assert (await client.get(str(admin_server.make_url("/api/v1/sessions")))).json()["items"] == []


async def test_the_viewer_sees_everything_and_cannot_change_anything(
    admin_server: TestServer, chromium: Any, tmp_path: Path
) -> None:
    await alice_logs_in(admin_server)
    page = await open_page(chromium, VIEWER)
    await page.goto(str(admin_server.make_url("/admin")))
    assert "viewer (viewer: read only)" in await page.locator("#who").inner_text()
    await page.goto(str(admin_server.make_url(f"/admin/devices/{CONF_ROOM}")))
    assert await page.get_by_label("Station name").is_disabled()
    assert await page.get_by_role("button", name="Save").count() == 0
    assert await page.get_by_role("button", name="Delete").count() == 0
    assert await page.get_by_label("New password").count() == 0
    await shot(page, tmp_path, "viewer-device")
    await page.goto(str(admin_server.make_url("/admin/sessions")))
    assert "alice" in await page.locator("#sessions").inner_text()
    assert await page.get_by_role("button").count() == 0
    await page.goto(str(admin_server.make_url("/admin/rule")))
    assert await page.get_by_role("button", name="Save the rule").count() == 0
    await page.get_by_role("button", name="Preview the impact").click()  # reading is allowed
    await page.locator("#impact-summary").filter(has_text="0 of 1 phones change").wait_for()
    # And the API refuses a change made from the viewer's page anyway.
    status = await page.evaluate(
        """async () => (await fetch('/api/v1/sessions/alice', {method: 'DELETE',
             headers: {'Content-Type': 'application/json'}})).status"""
    )
    assert status == 403


async def test_credentials_in_the_url(admin_server: TestServer, chromium: Any, tmp_path: Path) -> None:
    page = await open_page(chromium, None)
    url = admin_server.make_url("/admin/rule").with_user("admin").with_password("admin-secret")
    await page.goto(str(url))
    await page.locator("#rule-result").filter(has_text="chosen: alternative 1").wait_for()
    await page.get_by_role("button", name="Preview the impact").click()
    await page.locator("#impact-summary").filter(has_text="phones change").wait_for()
    await shot(page, tmp_path, "credentials-in-url")


PAGES = [
    "/admin",
    "/admin/devices",
    "/admin/devices/new",
    f"/admin/devices/{CONF_ROOM}",
    "/admin/users",
    "/admin/users/alice",
    "/admin/em_profiles/alice",
    "/admin/rule",
    "/admin/sessions",
    "/admin/audit",
]
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((e) => e.type !== 'hidden')
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                   && !(e.tagName === 'BUTTON' && e.textContent.trim()))
    .map((e) => e.outerHTML)"""


async def test_every_control_has_a_label_and_every_page_has_a_landmark_and_heading(
    admin_server: TestServer, chromium: Any
) -> None:
    page = await open_page(chromium)
    for path in PAGES:
        await page.goto(str(admin_server.make_url(path)))
        assert await page.evaluate(UNLABELLED) == [], path
        tree = await page.locator("body").aria_snapshot()
        assert 'navigation "Console"' in tree and "- main" in tree, (path, tree)
        assert re.search(r"^  - '?heading .*\[level=1\]", tree, re.MULTILINE), (path, tree)


async def test_the_whole_flow_works_with_the_keyboard(
    admin_server: TestServer, chromium: Any, tmp_path: Path
) -> None:
    page = await open_page(chromium)
    await page.goto(str(admin_server.make_url("/admin/users")))

    async def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            await page.keyboard.press("Tab")
            if await page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        pytest.fail(f"Tab never reached {selector}")

    await tab_to("a.skip")  # the first stop: skip to the content
    await tab_to("#q")
    await page.keyboard.type("alice")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/admin/users?q=alice")
    await tab_to('#items a[href="/admin/users/alice"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/admin/users/alice")
    await tab_to("#field-display_name")
    await page.keyboard.press("Control+A")
    await page.keyboard.type("Alice Keyboard")
    await page.keyboard.press("Enter")  # submits the form
    await page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert holder_of(admin_server).config.users["alice"].display_name == "Alice Keyboard"
    # A dialog by keyboard: focus starts on Cancel; Tab, Enter confirms.
    await tab_to("#lock")
    await page.keyboard.press("Enter")
    await page.get_by_role("dialog").wait_for()
    assert await page.evaluate("document.activeElement.id") == "confirm-cancel"
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.locator("#lock-state").filter(has_text=re.compile("^Locked")).wait_for()
    await shot(page, tmp_path, "keyboard-flow")
    assert holder_of(admin_server).config.users["alice"].locked

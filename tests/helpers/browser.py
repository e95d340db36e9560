"""Shared by the CSRF regression tests (items 2 and 3): Debian's Chromium through Playwright, an
attacker's web server on another origin, and a few HTTP-client shortcuts."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (CI installs it)",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALICE = httpx.DigestAuth("alice@example.com", "1234")
ServerMaker = Callable[[web.Application], Awaitable[TestServer]]


def origin_of(server: TestServer) -> str:
    return str(server.make_url("/").origin())


async def attacker_site(aiohttp_server: ServerMaker, page: str) -> TestServer:
    """Another origin (same host, another port) serving one HTML page at /."""

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", serve)
    return await aiohttp_server(app)


def auto_submit(action: str, fields: dict[str, str], *, enctype: str | None = None) -> str:
    """An attacker's page: a hidden form posted to `action` as soon as it loads."""
    inputs = "".join(
        f"<input type='hidden' name='{_attr(name)}' value='{_attr(value)}'>" for name, value in fields.items()
    )
    encoding = f" enctype='{enctype}'" if enctype else ""
    return (
        "<!doctype html><html><body><h1>Win a prize</h1>"
        f"<form id='f' method='post' action='{_attr(action)}'{encoding}>{inputs}</form>"
        "<script>document.getElementById('f').submit();</script></body></html>"
    )


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;")


@asynccontextmanager
async def chromium_context(credentials: dict[str, str]) -> AsyncIterator[Any]:
    """A headless Chromium context that answers the server's auth challenges with
    `credentials` (restricted to their `origin`): a browser holding cached credentials."""
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "CI must install Debian's chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield await browser.new_context(http_credentials=credentials)  # type: ignore[arg-type]
        finally:
            await browser.close()


def hidden_token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)

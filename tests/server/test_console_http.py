"""The console's pages over plain HTTP: every page needs an administrator, the security headers,
no inline script, escaped output, the viewer's pages without change controls, `/` → `/admin`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from tests.helpers.api import ADMIN, VIEWER, call
from tests.helpers.site import CONF_ROOM

PAGES = [
    "/admin",
    "/admin/devices",
    f"/admin/devices/{CONF_ROOM}",
    "/admin/devices/new",
    "/admin/users",
    "/admin/users/alice",
    "/admin/em_profiles",
    "/admin/em_profiles/bob",
    "/admin/rule",
    "/admin/sessions",
    "/admin/audit",
    "/admin/static/console.js",
    "/admin/static/console.css",
]


async def get(server: TestServer, path: str, auth: tuple[str, str] | None = ADMIN) -> httpx.Response:
    async with httpx.AsyncClient(auth=auth) as client:
        return await client.get(str(server.make_url(path)))


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_needs_an_administrator_and_sends_the_security_headers(
    api: TestServer, path: str
) -> None:
    assert (await get(api, path, auth=None)).status_code == 401
    assert (await get(api, path, auth=("admin", "wrong"))).status_code == 401
    page = await get(api, path)
    assert page.status_code == 200, page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    policy = page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self';" in policy
        and "unsafe-inline" not in policy
        and "frame-ancestors 'none'" in policy
    )
    if page.headers["Content-Type"].startswith("text/html"):
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None  # no inline script at all
        assert not re.search(r"<[^>]+\son[a-z]+=", page.text)  # nor inline handlers
        assert not re.search(r"<[^>]+\sstyle=", page.text)  # style-src 'self' would drop them


async def test_the_root_redirects_to_the_console(api: TestServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(str(api.make_url("/")))
    assert response.status_code == 302 and response.headers["Location"] == "/admin"


async def test_unknown_static_files_and_documents_are_404(api: TestServer) -> None:
    for path in ("/admin/static/..%2f..%2fsite.toml", "/admin/static/x.js", "/admin/users/nobody"):
        assert (await get(api, path)).status_code == 404


async def test_output_is_escaped(api: TestServer) -> None:
    body = {"mac": "0a0b0c0d0e0f", "model": "SPA502G", "station_name": "<script>x</script>", "host_user": "h"}
    assert (await call(api, "POST", "/api/v1/devices", body)).status_code == 201
    for path in ("/admin/devices", "/admin/devices/0a0b0c0d0e0f"):
        text = (await get(api, path)).text
        assert "<script>x</script>" not in text and "&lt;script&gt;x&lt;/script&gt;" in text


async def test_the_viewer_sees_no_change_controls(api: TestServer) -> None:
    admin_page = (await get(api, "/admin/users/alice")).text
    assert 'id="save"' in admin_page and 'id="delete"' in admin_page and 'id="lock"' in admin_page
    for path in (
        "/admin/users/alice",
        f"/admin/devices/{CONF_ROOM}",
        "/admin/sessions",
        "/admin/users",
        "/admin/rule",
    ):
        text = (await get(api, path, auth=VIEWER)).text
        for control in (
            'id="save"',
            'id="delete"',
            'id="lock"',
            'id="new"',
            'class="logout',
            'id="save-rule"',
            "password-form",
        ):
            assert control not in text, (path, control)
    assert (
        "Signed in as <strong>viewer</strong> (viewer: read only)"
        in (await get(api, "/admin", auth=VIEWER)).text
    )


async def test_lists_search_and_page(api: TestServer) -> None:
    for n in range(60):
        body = {
            "mac": f"0a0b0c0d{n:04x}",
            "model": "SPA502G",
            "station_name": f"Desk {n}",
            "host_user": f"d{n}",
        }
        assert (await call(api, "POST", "/api/v1/devices", body)).status_code == 201
    first = (await get(api, "/admin/devices?q=desk")).text
    assert "60 found, showing 1\N{EN DASH}50" in first and 'rel="next" href="?q=desk&amp;offset=50"' in first
    second = (await get(api, "/admin/devices?q=desk&offset=50")).text
    assert "showing 51\N{EN DASH}60" in second and 'rel="next"' not in second and 'rel="prev"' in second
    assert (await get(api, "/admin/devices?limit=0")).status_code == 400


async def test_the_banner_shows_a_refused_reload(api: TestServer, site: Path) -> None:
    from spaprov.live.reload import reload_now
    from tests.helpers.site import holder_of

    (site / "users" / "alice.toml").write_text('display_name = "Alice"\nem_profiles = ["nobody"]\n')
    await reload_now(holder_of(api))
    text = (await get(api, "/admin")).text
    assert 'role="alert" id="banner"' in text and "nobody" in text and "<strong>degraded</strong>" in text


async def test_audit_filters(api: TestServer) -> None:
    assert (await call(api, "PUT", "/api/v1/users/bob/lock")).status_code == 200
    from spaprov.server.app import MOBILITY

    await api.app[MOBILITY].drain()
    text = (await get(api, "/admin/audit?event=admin_lock&user=bob&since=1h")).text
    assert "1 entry, newest first" in text and "user bob by admin@" in text
    assert "0 entries" in (await get(api, "/admin/audit?event=admin_lock&user=alice")).text
    assert 'id="audit-error"' in (await get(api, "/admin/audit?device=zz")).text


async def test_the_overview_counts_logins_failures_and_lockouts(api: TestServer) -> None:
    from spaprov.server.app import MOBILITY
    from tests.helpers.site import SPA_AGENT

    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        url = str(api.make_url("/mobilephone.cfg"))
        assert (await client.get(url, auth=httpx.DigestAuth("alice@example.com", "1234"))).status_code == 200
        for _ in range(5):  # the site's max_failures: the fifth starts a lockout
            await client.get(url, auth=httpx.DigestAuth("bob@example.com", "wrong"))
    await api.app[MOBILITY].drain()
    text = (await get(api, "/admin")).text
    figures = dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', text))
    assert figures["Logins"] == "1" and figures["Lockouts"] == "1"
    assert int(figures["Failed logins"]) >= 1  # repeats from one client fold into one audit row
    assert "<strong>ok</strong>" in text and 'Active sessions</dt><dd><a href="/admin/sessions">1</a>' in text

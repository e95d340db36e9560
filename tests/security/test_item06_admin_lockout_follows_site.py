"""Item 6, leftover: the admin Basic lockout used fixed limits (5 failures, 300 s, 300 s) whatever
the site's [auth] said; it now follows max_failures/failure_window/lockout, reloads included."""

from __future__ import annotations

from pathlib import Path

from spaprov.live.reload import reload_now
from tests.helpers.auth import ADMIN_NAME, ADMIN_PASSWORD, change_auth, get, set_admin
from tests.helpers.site import ServerFactory, holder_of


async def guesses(server: object, name: str, count: int) -> list[int]:
    return [
        (await get(server, "/api/v1/devices", auth=(name, f"guess-{i}"))).status_code  # type: ignore[arg-type]
        for i in range(count)
    ]


async def test_admin_lockout_uses_the_sites_auth_limits(start: ServerFactory, site: Path) -> None:
    set_admin(site)
    change_auth(site, "max_failures = 5", "max_failures = 3")
    server = await start(site)
    assert await guesses(server, ADMIN_NAME, 4) == [401, 401, 401, 429]
    assert (await get(server, "/api/v1/devices", auth=(ADMIN_NAME, ADMIN_PASSWORD))).status_code == 429


async def test_admin_lockout_follows_a_reload(start: ServerFactory, site: Path) -> None:
    set_admin(site)
    server = await start(site)
    change_auth(site, "max_failures = 5", "max_failures = 2")
    assert await reload_now(holder_of(server))
    assert await guesses(server, ADMIN_NAME, 3) == [401, 401, 429]

"""Item 2, leftover: a wrong *current* password on /em/password is a guess at the password, like a
wrong Digest response, but it was only audited.  It now counts toward the Digest lockout of that
(identity, client), even though every such request carries a valid Digest login (whose success
resets the Digest failure count)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers.browser import ALICE
from tests.helpers.site import SPA_AGENT, ServerFactory


async def test_wrong_current_passwords_lock_the_user_out(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    url = str(server.make_url("/em/password"))
    async with httpx.AsyncClient() as client:
        refused = [
            (
                await client.post(url, json={"current": f"guess-{i}", "password": "24682468"}, auth=ALICE)
            ).status_code
            for i in range(5)
        ]
        assert refused == [403] * 5
        after = await client.post(url, json={"current": "1234", "password": "24682468"}, auth=ALICE)
        assert after.status_code == 429
        phone = await client.get(
            str(server.make_url("/mobilephone.cfg")), auth=ALICE, headers={"User-Agent": SPA_AGENT}
        )
        assert phone.status_code == 429

"""Console and API list speed on a 10,000-device site: a page of 50, a search, the last page,
the console's list page, and the rule impact preview over every device.

Run from the repository root: `python bench/console_lists.py`.  Uses bench/storm.py's site
(built once under build/storm-site), serves it in this process on 127.0.0.1 and times each
request (median of 9, one keep-alive client).  Every request carries HTTP Basic credentials,
so the first line, a tiny authenticated answer, is the cost of the password check alone.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from aiohttp.test_utils import TestServer

from bench.storm import SITE, build_site
from spaprov.auth.admins import AdminAccounts
from spaprov.server.app import create_app

COUNT = 10_000
ROUNDS = 9


async def main() -> None:
    build_site(COUNT)
    AdminAccounts(SITE / "admins.toml").set("bench", "admin", "bench-secret")
    server = TestServer(
        create_app(SITE, watch_interval=None, state=f"sqlite:///{SITE / '.bench-state.sqlite3'}")
    )
    await server.start_server()
    try:
        async with httpx.AsyncClient(auth=("bench", "bench-secret"), timeout=60) as client:
            current = (await client.get(str(server.make_url("/api/v1/site/rule")))).json()["rule"]
            edited = current.replace("/mobilephone.cfg", "/em/mobile.cfg")
            cases = [
                ("password check alone (GET /api/v1/site/rule)", "GET", "/api/v1/site/rule", None),
                ("API: first page of 50 devices", "GET", "/api/v1/devices?limit=50", None),
                (
                    "API: search 'desk 99' (111 matches), 50",
                    "GET",
                    "/api/v1/devices?q=desk%2099&limit=50",
                    None,
                ),
                ("API: last page (offset 9950)", "GET", "/api/v1/devices?offset=9950&limit=50", None),
                ("API: every device, no paging", "GET", "/api/v1/devices", None),
                ("console: /admin/devices (first 50)", "GET", "/admin/devices", None),
                ("console: /admin/devices?q=desk 99", "GET", "/admin/devices?q=desk+99", None),
                ("impact preview over every device", "POST", "/api/v1/rules/impact", {"rule": edited}),
            ]
            print(f"python {sys.version.split()[0]}, {COUNT:,} devices, median of {ROUNDS} requests")
            for label, method, path, body in cases:
                times = []
                for _ in range(ROUNDS):
                    started = time.perf_counter()
                    response = await client.request(method, str(server.make_url(path)), json=body)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, (path, response.status_code, response.text[:200])
                size = len(response.content)
                print(f"  {label:<48} {statistics.median(times) * 1000:8.1f} ms  ({size:,} bytes)")
    finally:
        await server.close()


if __name__ == "__main__":
    asyncio.run(main())

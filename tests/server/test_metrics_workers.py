"""Issue 13 item 6: under `serve --workers 2` every scrape of /metrics adds up both workers.

Before, each worker counted only its own requests, so 20 requests spread over two workers
showed as about 10 on any one scrape.  A real two-worker server; every request and every scrape
on a new connection (the kernel spreads them over both workers, which the access log proves)."""

from __future__ import annotations

import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.cli import serve, wait_for_listeners
from tests.helpers.site import SPA_AGENT, copy_sample

WORKERS, REQUESTS, SCRAPES = 2, 20, 8
ADMIN = ("admin", "admin-secret")


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


@pytest.mark.slow
def test_every_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state, "--workers", str(WORKERS)):
        assert served.process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(served.process.stdout,), daemon=True)
        reader.start()
        wait_for_listeners(served.url, WORKERS)
        for _ in range(REQUESTS):
            with httpx.Client(headers={"User-Agent": SPA_AGENT}) as client:  # a new connection each
                assert client.get(f"{served.url}/default.cfg").status_code == 200
        time.sleep(1.5)  # the workers copy their render-cache counts once a second
        scrapes = []
        for _ in range(SCRAPES):
            with httpx.Client(auth=ADMIN) as client:
                scrapes.append(client.get(f"{served.url}/metrics").text)
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=20)
        reader.join(timeout=10)
    output = "".join(lines)
    served_by = set(re.findall(r"spaprov\.access\[(\d+)\]: GET /default\.cfg", output))
    scraped_by = set(re.findall(r"spaprov\.access\[(\d+)\]: GET /metrics", output))
    assert len(served_by) == WORKERS and len(scraped_by) == WORKERS, output[-3000:]
    for text in scrapes:
        assert metric(text, 'spaprov_requests_total{route="default",status="200"}') == REQUESTS
        assert metric(text, 'spaprov_request_duration_seconds_count{route="default"}') == REQUESTS
        rendered = metric(text, "spaprov_render_cache_hits_total") + metric(
            text, "spaprov_render_cache_misses_total"
        )
        assert rendered == REQUESTS
        assert metric(text, "spaprov_state_store_up") == 1

"""`spaprov serve --workers 2`: two processes on one port, one nonce secret, one state store."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.helpers.cli import serve
from tests.helpers.digest_client import authorization, parse_challenge
from tests.helpers.site import SPA_AGENT as AGENT
from tests.helpers.site import copy_sample


@pytest.mark.slow
def test_two_workers_share_the_port_and_the_nonce_secret(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state, "--workers", "2"):
        statuses = []
        for _ in range(30):  # a fresh connection each time: the kernel spreads them over workers
            with httpx.Client(headers={"User-Agent": AGENT}) as first:
                challenge = first.get(f"{served.url}/mobilephone.cfg").headers["WWW-Authenticate"]
            header = authorization(parse_challenge(challenge), "alice@example.com", "1234")
            with httpx.Client(headers={"User-Agent": AGENT, "Authorization": header}) as second:
                statuses.append(second.get(f"{served.url}/mobilephone.cfg").status_code)
        assert statuses == [200] * 30
        served.process.send_signal(signal.SIGTERM)
        output, _ = served.process.communicate(timeout=20)
        assert served.process.returncode == 0
        assert "with 2 workers" in output
        workers = set(re.findall(r"spaprov\.access\[(\d+)\]", output))
        assert len(workers) == 2, output[-2000:]

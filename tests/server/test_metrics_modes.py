"""One process counts requests in plain integers, `serve --workers` in prometheus_client's shared
files: the same requests give the same exposition either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.site import ROOT

OBSERVE = """
from spaprov.server.metrics import Metrics
metrics = Metrics()
for route, status, seconds in [("default", 200, 0.0004), ("mobile", 401, 0.003), ("mobile", 200, 0.0025),
                               ("mobile", 200, 3.0), ("host", 200, 0.001)]:
    metrics.observe_request(route, status, seconds)
metrics.auth_event("auth_failed"); metrics.auth_event("lockout"); metrics.auth_event("auth_failed")
gauges = [("spaprov_render_cache_hits_total", "hits", 7.0), ("spaprov_state_store_up", "up", 1.0)]
metrics.add_gauges(lambda: gauges)
print(metrics.exposition([("spaprov_active_sessions", "sessions", 2.0)]).decode())
"""


def samples(shared: Path | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if shared is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    done = subprocess.run(
        [sys.executable, "-c", OBSERVE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return sorted(line for line in done.stdout.splitlines() if line and not line.startswith("#"))


def test_one_process_and_workers_expose_the_same_counts(tmp_path: Path) -> None:
    local, shared = samples(None), samples(tmp_path)
    assert local == shared
    assert 'spaprov_requests_total{route="mobile",status="200"} 2.0' in local
    assert 'spaprov_request_duration_seconds_bucket{le="0.0025",route="mobile"} 1.0' in local
    assert 'spaprov_request_duration_seconds_bucket{le="+Inf",route="mobile"} 3.0' in local
    assert "spaprov_auth_failures_total 2.0" in local and "spaprov_lockouts_total 1.0" in local

"""What counting one request costs (Metrics.observe_request: the request counter and the latency
histogram), in one process and in prometheus_client's multiprocess mode (`serve --workers`).

Run from the repository root: `python bench/metrics_cost.py [--count 200000]`.  Each mode runs in
a fresh interpreter (prometheus_client chooses its mode when imported); prints microseconds per
request, the median of 5 rounds, in CPU time (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rounds(count: int) -> list[float]:
    from spaprov.server.metrics import Metrics

    metrics = Metrics()
    routes = [("default", 200), ("mobile", 200), ("mobile", 401), ("host", 200)]
    results = []
    for _ in range(5):
        started = time.process_time()
        for n in range(count):
            route, status = routes[n & 3]
            metrics.observe_request(route, status, 0.0004)
        results.append((time.process_time() - started) / count * 1e6)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(statistics.median(rounds(args.count)))
        return
    command = [sys.executable, __file__, "--child", "--count", str(args.count)]
    single_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    single = float(
        subprocess.run(command, env=single_env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    )
    with tempfile.TemporaryDirectory() as directory:
        shared_env = single_env | {"PROMETHEUS_MULTIPROC_DIR": directory}
        shared = float(
            subprocess.run(
                command, env=shared_env, cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
    print(f"observe_request, one process:          {single:.2f} us per request")
    print(f"observe_request, multiprocess (files): {shared:.2f} us per request")


if __name__ == "__main__":
    main()

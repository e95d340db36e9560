"""`make test` on a plain machine says loudly what it did not run and the one command that runs
everything (issue 12, "tests that run everywhere")."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers.services import RUN_EVERYTHING, skipped_for_missing_services
from tests.helpers.site import ROOT


def test_skip_reasons_are_counted_per_missing_service() -> None:
    reasons = [
        "set SPAPROV_TEST_POSTGRES=postgresql://… to run the PostgreSQL suite",
        "pg_ctlcluster is not installed: cannot stop and start PostgreSQL",
        "Debian's chromium is not installed (CI installs it)",
        "PostgreSQL only",  # a SQLite run of a PostgreSQL-only test: nothing is missing
    ]
    assert skipped_for_missing_services(reasons) == {"PostgreSQL": 2, "Chromium": 1}


def test_a_run_without_postgresql_ends_with_a_summary_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SPAPROV_TEST_POSTGRES", "CI")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/mobility/test_store.py",
            "-k",
            "fresh_store",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    summary = [line for line in done.stdout.splitlines() if "NOT RUN" in line]
    assert len(summary) == 1 and "1 that need PostgreSQL" in summary[0] and RUN_EVERYTHING in summary[0]

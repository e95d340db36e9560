"""admins.toml is written like the rest of the directory: read, changed and written under the
writer lock, through the journal.  Before, `spaprov admin add` read the file, hashed for a while
and wrote it back: two administrators added at once (or one added during a `restore`) lost
one of them."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from spaprov.auth.admins import AdminAccounts
from spaprov.transaction import LOCK, locked
from tests.helpers.site import copy_sample

WRITERS = 6


def options(site: Path) -> list[str]:
    return ["--profiles", str(site), "--password-stdin"]


def admin_add(site: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", "admin", "add", name, "--role", "viewer", *options(site)],
        input="viewer-secret-1\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_administrators_added_at_once_are_all_kept(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    before = AdminAccounts(site / "admins.toml").names()
    names = [f"desk{number}" for number in range(WRITERS)]
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda name: admin_add(site, name), names))
    assert all(result.returncode == 0 for result in results), [r.stderr for r in results]
    after = AdminAccounts(site / "admins.toml").names()
    assert after == before | {name: "viewer" for name in names}


def test_an_admin_write_waits_for_another_writer(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    with locked(site):  # another writer (an import, a restore) holds the directory
        waiting = subprocess.Popen(
            [sys.executable, "-m", "spaprov", "admin", "add", "late", *options(site)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert waiting.stdin is not None
        waiting.stdin.write("viewer-secret-1\n")
        waiting.stdin.close()
        try:
            waiting.wait(timeout=5)
            raise AssertionError(f"admin add did not wait for the lock: {waiting.communicate()[0]}")
        except subprocess.TimeoutExpired:
            pass  # still waiting: the lock is held here
        assert "late" not in AdminAccounts(site / "admins.toml").names()
    assert waiting.wait(timeout=60) == 0
    assert "late" in AdminAccounts(site / "admins.toml").names()
    assert (site / LOCK).exists()

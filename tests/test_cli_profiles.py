"""`--profiles`: a missing directory is an error, and the default is $SPAPROV_PROFILES or the
current directory's site.toml, never a silent new ./sample_profiles (issue 12, item 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.site import copy_sample

ROOT = Path(__file__).resolve().parents[1]


def spaprov(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SPAPROV_PROFILES", "SPAPROV_STATE")}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "spaprov", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**clean, **(env or {})},
    )


@pytest.mark.parametrize(
    "command",
    [("sessions", "list"), ("audit",), ("admin", "list"), ("user", "list"), ("export", "users")],
)
def test_a_mistyped_profiles_directory_is_an_error_and_is_not_created(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = spaprov(*command, "--profiles", "sample_profile", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "profile directory sample_profile (from --profiles) does not exist" in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_no_profiles_anywhere_is_an_error_not_a_new_sample_profiles(tmp_path: Path) -> None:
    done = spaprov("audit", cwd=tmp_path)
    assert done.returncode == 2
    assert "no profile directory" in done.stderr and "SPAPROV_PROFILES" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_default_is_spaprov_profiles_then_the_current_directory(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_env = spaprov("user", "list", cwd=elsewhere, env={"SPAPROV_PROFILES": str(site)})
    assert by_env.returncode == 0, by_env.stderr
    assert "alice@example.com" in by_env.stdout
    by_cwd = spaprov("user", "list", cwd=site)
    assert by_cwd.returncode == 0, by_cwd.stderr
    assert by_cwd.stdout == by_env.stdout
    assert list(elsewhere.iterdir()) == []
    missing = spaprov("audit", cwd=elsewhere, env={"SPAPROV_PROFILES": str(tmp_path / "nope")})
    assert missing.returncode == 2 and "from $SPAPROV_PROFILES" in missing.stderr

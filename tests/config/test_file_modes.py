"""A whole site copied in with a 0644 umask gets a few named warnings and one line for the rest,
not one log line per file (200,000 lines at 100,000 phones, seconds of start-up)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from spaprov.config import load_profile_directory
from spaprov.config.file_modes import WARN_AT_MOST
from tests.helpers.site import copy_sample

EXTRA = 30


def test_many_readable_secret_files_are_summed_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    site = copy_sample(tmp_path / "site")
    for n in range(EXTRA):
        path = site / "devices" / f"00aa{n:08x}.toml"
        path.write_text(f'model = "SPA504G"\nhost_user = "desk-{n}"\nhost_password = "secret-{n}"\n')
        os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="spaprov.config"):
        load_profile_directory(site)
    named = [r for r in caplog.records if "holds passwords and is readable" in r.getMessage()]
    summed = [r for r in caplog.records if "more files holding passwords" in r.getMessage()]
    assert len(named) == WARN_AT_MOST
    assert len(summed) == 1
    readable = EXTRA + sum(
        1
        for p in [site / "admins.toml", *site.glob("devices/*.toml"), *site.glob("em_profiles/*.toml")]
        if p.stat().st_mode & 0o077 and p.name[:4] != "00aa"
    )
    assert f"... and {readable - WARN_AT_MOST} more" in summed[0].getMessage()

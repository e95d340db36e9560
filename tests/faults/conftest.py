"""Fixtures of the crash-safety tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.crash import Killed


@pytest.fixture
def die_on_rename(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Die (raise Killed) at the n-th os.replace from now on: set `countdown[0] = n`; 0 disarms."""
    countdown = [0]
    real = os.replace

    def replace(source: str | Path, target: str | Path) -> None:
        countdown[0] -= 1
        if countdown[0] == 0:
            raise Killed
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    yield countdown

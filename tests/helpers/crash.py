"""A simulated kill -9 at the n-th rename: the `die_on_rename` fixture (tests/faults/conftest.py)
raises Killed, which no except/finally of spaprov's catches, so nothing after it runs."""

from __future__ import annotations


class Killed(BaseException):
    """Stands for kill -9."""

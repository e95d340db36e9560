"""Brute-force guard: too many failures for one (user, client address) locks it out for a while.

Unknown users are counted exactly like known ones, so a lockout reveals nothing to a client.
Memory is bounded, and a flood of made-up names can never make the guard forget a real user:

- known names (the site's accounts, via `known`) live in their own table.  Its keys are bounded
  by the site's size times the addresses that fail for it; entries past their window and cooldown
  are swept, and when it is still full a new failure is never admitted by evicting another key:
  the guard fails closed and answers "locked" for known names it cannot track until room frees.
- unknown names live in a bounded LRU table keyed by a digest of (name, client), so an attacker's
  4 KiB made-up names cost a few dozen bytes each; forgetting one loses nothing, as no password
  exists for it.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable

from spaprov.clock import Clock

Key = tuple[str, str] | bytes


class _Entry:
    __slots__ = ("failures", "locked_until")

    def __init__(self) -> None:
        self.failures: list[float] = []
        self.locked_until = 0.0


class FailureThrottle:
    def __init__(
        self,
        clock: Clock,
        *,
        max_failures: int = 5,
        window: float = 300.0,
        cooldown: float = 300.0,
        capacity: int = 100_000,
        known_capacity: int = 100_000,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.window = window
        self.cooldown = cooldown
        self._capacity = capacity
        self._known_capacity = known_capacity
        self._known = known or (lambda _user: False)
        self._known_table: dict[tuple[str, str], _Entry] = {}
        self._unknown_table: OrderedDict[bytes, _Entry] = OrderedDict()
        self._next_sweep = 0.0
        self.refused_full = 0  # failures of known names refused because the table was full

    def configure(self, *, max_failures: int, window: float, cooldown: float) -> None:
        """New limits (a reload); counters and lockouts in progress are kept."""
        self.max_failures, self.window, self.cooldown = max_failures, window, cooldown

    def __len__(self) -> int:
        return len(self._known_table) + len(self._unknown_table)

    def retry_after(self, user: str, client: str) -> int | None:
        """Seconds until (user, client) may try again, or None when it is not locked out."""
        now = self._clock()
        if self._known(user):
            entry = self._known_table.get((user, client))
            if entry is None:
                return self._full_wait(now)
        else:
            found = self._unknown_table.get(_digest(user, client))
            if found is None:
                return None
            entry = found
        remaining = entry.locked_until - now
        if remaining <= 0:
            return None
        return max(1, math.ceil(remaining))

    def failed(self, user: str, client: str) -> bool:
        """Count a failure; True when (user, client) is now locked out (a lockout starts, or the
        known-name table is full so the failure cannot be tracked: fail closed)."""
        now = self._clock()
        self._sweep(now)
        if self._known(user):
            key = (user, client)
            entry = self._known_table.get(key)
            if entry is None:
                if self._full_wait(now) is not None:
                    self.refused_full += 1
                    return True
                entry = self._known_table[key] = _Entry()
        else:
            digest = _digest(user, client)
            found = self._unknown_table.pop(digest, None)
            entry = found if found is not None else _Entry()
            self._unknown_table[digest] = entry  # most recent last
            while len(self._unknown_table) > self._capacity:
                self._unknown_table.popitem(last=False)
        if entry.locked_until > now:
            return False
        horizon = now - self.window
        entry.failures = [t for t in entry.failures if t > horizon]
        entry.failures.append(now)
        if len(entry.failures) >= self.max_failures:
            entry.failures.clear()
            entry.locked_until = now + self.cooldown
            return True
        return False

    def _full_wait(self, now: float) -> int | None:
        """None while a new known (user, client) can be tracked; else how long to wait (the
        table is full of live entries: refuse rather than evict a real user's counter)."""
        if len(self._known_table) < self._known_capacity:
            return None
        self._sweep(now)
        if len(self._known_table) < self._known_capacity:
            return None
        return max(1, math.ceil(min(self.window, self.cooldown)))

    def succeeded(self, user: str, client: str) -> None:
        if self._known(user):
            self._known_table.pop((user, client), None)
        else:
            self._unknown_table.pop(_digest(user, client), None)

    def _sweep(self, now: float) -> None:
        """Drop known-name entries with nothing left to remember (at most once a second)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        horizon = now - self.window
        stale = [
            key
            for key, entry in self._known_table.items()
            if entry.locked_until <= now and (not entry.failures or entry.failures[-1] <= horizon)
        ]
        for key in stale:
            del self._known_table[key]


def _digest(user: str, client: str) -> bytes:
    data = f"{user}\0{client}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()

"""Brute-force guard: too many failures for one (user, client address) locks it out for a while.

Unknown users are counted exactly like known ones, so a lockout reveals nothing to a client.
Memory is bounded, and no flood can make the guard forget a counter or a lockout of a real user:

- known names (the site's accounts, via `known`) live in their own table of (name, client)
  entries.  Made-up names never enter it.  Entries are swept once they hold nothing (failures
  past the window, lockout over) and are never evicted to make room.
- should that table be full of live entries (an attacker failing for real names from
  `known_capacity` different addresses), a failure for a (name, client) it does not hold is
  counted per name instead, across all such clients: after `max_failures` of them that name is
  locked for every client not in the table.  This overflow table is bounded by the site's size,
  and a client already in the table (a phone that got a password wrong once) keeps its own
  counter.  Fail closed, but only for the names under attack.
- unknown names live in a bounded LRU table keyed by a 16-byte digest of (name, client), so an
  attacker's 4 KiB made-up names cost a few dozen bytes each; forgetting one loses nothing, as
  there is no password to guess.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable

from spaprov.clock import Clock


class _Entry:
    __slots__ = ("failures", "locked_until")

    def __init__(self) -> None:
        self.failures: list[float] = []
        self.locked_until = 0.0

    def idle(self, now: float, horizon: float) -> bool:
        return self.locked_until <= now and (not self.failures or self.failures[-1] <= horizon)


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
        self._overflow: dict[str, _Entry] = {}  # known name -> failures of clients not in the table
        self._unknown_table: OrderedDict[bytes, _Entry] = OrderedDict()
        self._next_sweep = 0.0
        self.overflowed = 0  # failures counted per name because the known table was full

    def configure(self, *, max_failures: int, window: float, cooldown: float) -> None:
        """New limits (a reload); counters and lockouts in progress are kept."""
        self.max_failures, self.window, self.cooldown = max_failures, window, cooldown

    def __len__(self) -> int:
        return len(self._known_table) + len(self._overflow) + len(self._unknown_table)

    def retry_after(self, user: str, client: str) -> int | None:
        """Seconds until (user, client) may try again, or None when it is not locked out."""
        if self._known(user):
            entry = self._known_table.get((user, client)) or self._overflow.get(user)
        else:
            entry = self._unknown_table.get(_digest(user, client))
        if entry is None:
            return None
        remaining = entry.locked_until - self._clock()
        return max(1, math.ceil(remaining)) if remaining > 0 else None

    def failed(self, user: str, client: str) -> bool:
        """Count a failure; True when it starts a lockout."""
        now = self._clock()
        self._sweep(now)
        entry, overflow = self._entry(user, client)
        if overflow:
            self.overflowed += 1
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

    def lock(self, user: str, client: str, until: float) -> None:
        """Lock (user, client) until `until` (a lockout decided elsewhere: the shared store)."""
        if until <= self._clock():
            return
        entry, _ = self._entry(user, client)
        if until > entry.locked_until:
            entry.locked_until = until
            entry.failures.clear()

    def _entry(self, user: str, client: str) -> tuple[_Entry, bool]:
        """The entry counting (user, client), made when new, and whether it is the per-name
        overflow entry (the known-name table is full of live entries: count per name rather
        than forget anyone)."""
        if self._known(user):
            key = (user, client)
            entry = self._known_table.get(key)
            if entry is not None:
                return entry, False
            if len(self._known_table) < self._known_capacity:
                entry = self._known_table[key] = _Entry()
                return entry, False
            return self._overflow.setdefault(user, _Entry()), True
        digest = _digest(user, client)
        found = self._unknown_table.pop(digest, None)
        entry = found if found is not None else _Entry()
        self._unknown_table[digest] = entry  # most recent last
        while len(self._unknown_table) > self._capacity:
            self._unknown_table.popitem(last=False)
        return entry, False

    def succeeded(self, user: str, client: str) -> None:
        if self._known(user):
            self._known_table.pop((user, client), None)
        else:
            self._unknown_table.pop(_digest(user, client), None)

    def _sweep(self, now: float) -> None:
        """Drop known-name entries with nothing left to remember (at most once a second, and
        only when the table is at least half full: the scan is proportional to its size)."""
        if now < self._next_sweep or (
            len(self._known_table) < self._known_capacity // 2 and not self._overflow
        ):
            return
        self._next_sweep = now + 1.0
        horizon = now - self.window
        for key in [key for key, entry in self._known_table.items() if entry.idle(now, horizon)]:
            del self._known_table[key]
        for name in [name for name, entry in self._overflow.items() if entry.idle(now, horizon)]:
            del self._overflow[name]


def _digest(user: str, client: str) -> bytes:
    data = f"{user}\0{client}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()

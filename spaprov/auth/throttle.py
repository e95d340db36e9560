"""Brute-force guard: too many failures for one (user, client address) locks it out for a while.

Unknown users are counted exactly like known ones, so a lockout reveals nothing.  Memory is
bounded: at most `capacity` keys are tracked, the least recently failed dropped first.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque

from spaprov.clock import Clock


class FailureThrottle:
    def __init__(
        self,
        clock: Clock,
        *,
        max_failures: int = 5,
        window: float = 300.0,
        cooldown: float = 300.0,
        capacity: int = 100_000,
    ) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.window = window
        self.cooldown = cooldown
        self._capacity = capacity
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._locked_until: dict[tuple[str, str], float] = {}

    def retry_after(self, user: str, client: str) -> int | None:
        """Seconds until (user, client) may try again, or None when it is not locked out."""
        key = (user, client)
        until = self._locked_until.get(key)
        if until is None:
            return None
        remaining = until - self._clock()
        if remaining <= 0:
            del self._locked_until[key]
            self._failures.pop(key, None)
            return None
        return max(1, math.ceil(remaining))

    def failed(self, user: str, client: str) -> bool:
        """Count a failure; True when this failure starts a lockout."""
        key = (user, client)
        now = self._clock()
        times = self._failures.pop(key, None) or deque()
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        self._failures[key] = times
        while len(self._failures) > self._capacity:
            self._failures.popitem(last=False)
        if len(times) >= self.max_failures:
            self._locked_until[key] = now + self.cooldown
            times.clear()
            self._bound_lockouts(now)
            return True
        return False

    def _bound_lockouts(self, now: float) -> None:
        if len(self._locked_until) <= self._capacity:
            return
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        while len(self._locked_until) > self._capacity:  # oldest lockouts first (insertion order)
            del self._locked_until[next(iter(self._locked_until))]

    def succeeded(self, user: str, client: str) -> None:
        self._failures.pop((user, client), None)

"""Replay protection: per nonce, the request counter (nc) must increase.

Bounded in memory: the table holds at most `capacity` nonces and forgets those past their
lifetime.  When it must drop a live nonce to make room, it remembers the newest issue time it
dropped; a nonce issued at or before that time and no longer in the table is treated as stale,
so the client is asked to take a fresh nonce instead of being let through unchecked.

The table starts empty, so it knows nothing of nonces issued before it existed (by an earlier
run of the process sharing a configured nonce secret): those are treated as forgotten too.
The table outlives configuration reloads (the authenticator keeps it).

With several workers, a nonce's first use in this process must also be claimed in the
shared store (spaprov.auth.shared_state); a nonce another worker owns is marked foreign here, so
its later uses are answered stale without asking the store again.
"""

from __future__ import annotations

from collections import OrderedDict

from spaprov.clock import Clock


class ReplayVerdict:
    FRESH = "fresh"
    REPLAYED = "replayed"
    FORGOTTEN = "forgotten"


_FOREIGN = -1  # the "last nc" of a nonce another worker owns


class ReplayGuard:
    def __init__(
        self, clock: Clock, lifetime: float, capacity: int = 100_000, *, started: float | None = None
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._capacity = capacity
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()  # nonce -> (issued, last nc)
        self._dropped_up_to = float("-inf")
        # Nonces issued before this are unknown to the table.  Workers of one server pass the
        # server's start, so a nonce another worker issued before this one started is not stale.
        self._started = clock() if started is None else started
        self._next_sweep = 0.0  # expired nonces are swept at most once a second, not per request

    def admit(self, nonce: str, issued: float, nc: int) -> str:
        """Record a use of `nonce` with counter `nc`; FRESH if it may proceed."""
        seen = self._seen.get(nonce)
        if seen is None:
            if issued <= self._dropped_up_to or issued < self._started:
                return ReplayVerdict.FORGOTTEN
            self._make_room()
            self._seen[nonce] = (issued, nc)
            return ReplayVerdict.FRESH
        if seen[1] == _FOREIGN:
            return ReplayVerdict.FORGOTTEN
        if nc <= seen[1]:
            return ReplayVerdict.REPLAYED
        self._seen[nonce] = (issued, nc)
        return ReplayVerdict.FRESH

    def foreign(self, nonce: str) -> None:
        """`nonce` belongs to another worker: its uses here are stale from now on."""
        seen = self._seen.get(nonce)
        if seen is not None:
            self._seen[nonce] = (seen[0], _FOREIGN)

    def configure(self, lifetime: float) -> None:
        """A new nonce lifetime (a reload); the nonces seen so far are kept."""
        self._lifetime = lifetime

    def issued(self, nonce: str) -> float | None:
        """The issue time of a nonce already verified and admitted, or None."""
        seen = self._seen.get(nonce)
        return None if seen is None else seen[0]

    def __len__(self) -> int:
        return len(self._seen)

    def _make_room(self) -> None:
        now = self._clock()
        if len(self._seen) < self._capacity and now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        expired_before = now - self._lifetime
        while self._seen:
            oldest_nonce, (issued, _) = next(iter(self._seen.items()))
            if issued >= expired_before and len(self._seen) < self._capacity:
                break
            del self._seen[oldest_nonce]
            if issued >= expired_before:  # still live: dropped only for room
                self._dropped_up_to = max(self._dropped_up_to, issued)

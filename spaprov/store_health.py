"""Whether a backing store (the state database, the shared auth tables) answers right now, and the
errors that say it does not (StateStoreError, StateStoreUnavailable).

One job: remember the outage a store is in, so that it is logged once when it starts and once
when it ends (with its duration), never once per request, and so that /healthz and /metrics can
show it.  The stores call `failed()` on a connection-level error and `succeeded()` after a
transaction that went through; both are cheap when nothing changes.
"""

from __future__ import annotations

import logging
import threading
import time

RETRY_AFTER_UNAVAILABLE = 5  # seconds a phone is told to wait while a store is unreachable


class StateStoreError(RuntimeError):
    """The state database cannot be opened or is from a newer spaprov."""


class StateStoreUnavailable(StateStoreError):
    """The state store cannot be reached right now (connection lost, server down, disk full or
    read-only): transient, answered 503 with Retry-After, and recovered from without a restart."""


class StoreHealth:
    def __init__(self, label: str, logger: logging.Logger) -> None:
        self.label = label
        self._log = logger
        self._lock = threading.Lock()
        self.available = True
        self.outages = 0
        self.reason = ""
        self.write_failed = False  # the outage was seen on a write (a full or read-only disk)
        self._since = 0.0

    def failed(self, reason: str, *, write: bool = False) -> None:
        with self._lock:
            if not self.available:
                return
            self.available, self.reason, self.write_failed = False, reason, write
            self.outages += 1
            self._since = time.monotonic()
        self._log.error(
            "%s unavailable: %s (answering 503 with Retry-After until it is back)", self.label, reason
        )

    def succeeded(self, *, write: bool = True) -> None:
        if self.available:  # the fast path of every transaction
            return
        with self._lock:
            # A read that works says nothing about a disk that refused a write.
            if self.available or (self.write_failed and not write):
                return
            self.available = True
            seconds = time.monotonic() - self._since
        self._log.warning("%s recovered after %.1f s", self.label, seconds)

    def gauges(self, prefix: str = "spaprov_state_store") -> list[tuple[str, str, float]]:
        """(name, help, value) for /metrics."""
        return [
            (f"{prefix}_up", "1 when the store answers, 0 during an outage", float(self.available)),
            (f"{prefix}_outages_total", "Outages of the store since start", float(self.outages)),
        ]

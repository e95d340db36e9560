"""A rate-limited log call: a flood of identical-looking events must not become a flood of log
lines (each one costs the event loop time and the disk space)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class RateLimitedLog:
    """At most `burst` lines per `interval` seconds go to `logger`; the rest are counted, and the
    first line of the next interval says how many were suppressed."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 20,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._logged = 0
        self.suppressed = 0

    def warning(self, message: str, *args: object) -> None:
        now = self._clock()
        with self._lock:
            if now - self._started >= self._interval:
                if self.suppressed:
                    elapsed = now - self._started
                    self._logger.warning("%d similar messages suppressed in %.0f s", self.suppressed, elapsed)
                self._started, self._logged, self.suppressed = now, 0, 0
            if self._logged >= self._burst:
                self.suppressed += 1
                return
            self._logged += 1
        self._logger.warning(message, *args)

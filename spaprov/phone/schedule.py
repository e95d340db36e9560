"""When a simulated SPA5x5 resyncs next: the firmware's timers, in simulated seconds, pure.

Each rule cites its sources (the keys in brackets: docs/references.md):
- `Resync_On_Reset` = Yes: resync after power-up or reboot ([SIPURA]; [SPA1xxAG]), first waiting a
  random 0..`Resync_Random_Delay` units of 20 s ([LSPG301] p.4-2; the Sipura text says seconds:
  CONFLICT, 20-s units are the later firmware's), 0 = no delay.
- `Resync_Periodic` seconds after a *successful* resync, the timer starting only after the first
  one; `3600+600` adds a random 0..600; 0 disables ([LSPG301] p.4-2; [LSPG30] p.42-43).
- After a failure, `Resync_Error_Retry_Delay`: a list `1800,3600,7200` used in turn across
  consecutive failures, the last repeating, each item with an optional `+N` random part
  ([LSPG301]; [LSPG30] p.42).  0 is a CONFLICT ("retries immediately" in v3.01's table, "does not
  try to resync again" in [LSPG30] p.42 and [SIPURA]); we take the latter, which cannot loop.
- `Resync_Trigger_1/_2`: a bare condition; when true, a resync "as though the periodic resync
  timer had expired" ([LSPG30] p.42).  How often the firmware evaluates them is UNCONFIRMED: we
  evaluate them every TRIGGER_POLL seconds, only while one is set.
- `$PRVST`: 0 power-up, 1 periodic, 2 retry after failure, -1 explicit request ([LSPG301] p.4-8).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

RANDOM_DELAY_UNIT = 20  # seconds per unit of Resync_Random_Delay ([LSPG301] p.4-2)
TRIGGER_POLL = 60.0  # seconds between evaluations of Resync_Trigger_* (UNCONFIRMED)
# The rule's -1/0/1/2 ([LSPG301] p.4-8), keyed by why the phone resyncs.
Reason = Literal["reset", "periodic", "trigger", "retry", "request"]
PROVISIONING_STATE: dict[Reason, str] = {
    "request": "-1",
    "reset": "0",
    "periodic": "1",
    "trigger": "1",
    "retry": "2",
}


class TimerSyntaxError(ValueError):
    """A timer parameter the firmware could not read (the simulator refuses it loudly)."""


@dataclass(frozen=True)
class Due:
    at: float
    reason: Reason

    @property
    def provisioning_state(self) -> str:
        return PROVISIONING_STATE[self.reason]


def _seconds(text: str, name: str) -> int:
    if not text.isdigit():
        raise TimerSyntaxError(f"{name}: {text!r} is not a number of seconds")
    return int(text)


def delay_with_random(text: str, name: str, rng: random.Random) -> float:
    """`3600` or `3600+600` (a random 0..600 added) in seconds."""
    base, plus, extra = text.strip().partition("+")
    seconds = _seconds(base.strip(), name)
    if plus:
        seconds += rng.randint(0, _seconds(extra.strip(), name))
    return float(seconds)


def retry_delay(text: str, failures: int, rng: random.Random) -> float:
    """The delay after the `failures`-th consecutive failure (1-based): the list's items in turn,
    the last repeating ([LSPG30] p.42)."""
    items = [item for item in text.split(",") if item.strip()] or ["0"]
    return delay_with_random(items[min(failures, len(items)) - 1], "Resync_Error_Retry_Delay", rng)


def reset_delay(text: str, rng: random.Random) -> float:
    units = _seconds(text.strip() or "0", "Resync_Random_Delay")
    return float(rng.randint(0, units * RANDOM_DELAY_UNIT)) if units else 0.0


class Schedule:
    """The phone's pending resync.  Each method takes the parameters and the current simulated
    time; `due` is the next resync (or None), `next_trigger_poll` when the triggers are read."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.due: Due | None = None
        self.failures = 0
        self.synced_once = False
        self.last_attempt: float | None = None  # for $PRVTMR
        self.next_trigger_poll: float | None = None
        # A timer parameter the simulator could not read (no timer runs from it); None when fine.
        self.problem: str | None = None

    def powered_up(self, parameters: dict[str, str], now: float) -> None:
        """A power-up or reboot: timers restart.  Resync_On_Reset = Yes resyncs after the random
        delay; otherwise the periodic timer runs again, if a resync ever succeeded."""
        self.due = None
        if parameters.get("Resync_On_Reset", "Yes") == "Yes":
            delay = self._read(lambda: reset_delay(parameters.get("Resync_Random_Delay", "0"), self.rng))
            self.due = Due(now + (delay or 0.0), "reset")
        elif self.synced_once:
            self._periodic(parameters, now)
        self._arm_triggers(parameters, now)

    def requested(self, now: float) -> None:
        """An explicit request (SIP NOTIFY, the web page's resync, the Login softkey)."""
        self.due = Due(now, "request")

    def attempted(self, now: float) -> None:
        self.last_attempt = now
        self.due = None

    def succeeded(self, parameters: dict[str, str], now: float) -> None:
        self.failures = 0
        self.synced_once = True
        self._periodic(parameters, now)
        self._arm_triggers(parameters, now)

    def _periodic(self, parameters: dict[str, str], now: float) -> None:
        text = parameters.get("Resync_Periodic", "0") or "0"
        periodic = self._read(lambda: delay_with_random(text, "Resync_Periodic", self.rng))
        self.due = Due(now + periodic, "periodic") if periodic else None

    def _read(self, compute: Callable[[], float]) -> float | None:
        """A delay, or None (that timer does not run) with `problem` saying why; what real
        firmware does with an unreadable timer is UNCONFIRMED."""
        try:
            value = compute()
        except TimerSyntaxError as error:
            self.problem = str(error)
            return None
        return value

    def failed(self, parameters: dict[str, str], now: float) -> None:
        self.failures += 1
        text = parameters.get("Resync_Error_Retry_Delay", "0")
        delay = self._read(lambda: retry_delay(text, self.failures, self.rng))
        self.due = Due(now + delay, "retry") if delay else None
        self._arm_triggers(parameters, now)

    def prvtmr(self, now: float) -> str:
        """$PRVTMR: seconds since the last resync attempt (0 before the first)."""
        return str(int(now - self.last_attempt)) if self.last_attempt is not None else "0"

    def _arm_triggers(self, parameters: dict[str, str], now: float) -> None:
        armed = any(parameters.get(name, "").strip() for name in TRIGGERS)
        self.next_trigger_poll = now + TRIGGER_POLL if armed else None

    def polled_triggers(self, parameters: dict[str, str], now: float) -> None:
        self._arm_triggers(parameters, now)


TRIGGERS = ("Resync_Trigger_1", "Resync_Trigger_2")

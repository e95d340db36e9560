"""Telling a phone at once that its session ended: a sweep finds sessions that an administrator
(`sessions logout`, the API), `auto_logout` or `max_login_time` ended and whose phone has not been
told, and sends that phone a SIP NOTIFY `Event: resync` at the address it last fetched from.

Best effort and off the request path: a phone's fetch only records its address (a dict store);
the sweep runs on its own task every `interval` (at once when woken, e.g. by an API logout),
pushes run as tasks, at most `max_concurrent` at once, each bounded by `[push] timeout`. One log
line per push outcome, counted by `on_outcome`. The sweep reads the state store, so sessions
ended by another process (`spaprov sessions logout`) are pushed too. A session is pushed once per
process; with several workers, each worker that has seen the phone may push (a second resync
request is harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from spaprov.clock import Clock
from spaprov.config.schema import Config
from spaprov.logsafe import field, quoted
from spaprov.mobility import Mobility
from spaprov.mobility.store import Session, StateStoreError
from spaprov.push.accounts import sip_accounts
from spaprov.push.client import PushResult, push_resync

log = logging.getLogger("spaprov.push")
WINDOW = 600.0  # sessions ended longer ago than this are not pushed (after a restart, say)
MAX_ADDRESSES = 100_000


class ResyncPusher:
    def __init__(
        self,
        config: Callable[[], Config],
        mobility: Mobility,
        clock: Clock,
        *,
        on_outcome: Callable[[str], None] = lambda _outcome: None,
        interval: float = 2.0,
        max_concurrent: int = 16,
    ) -> None:
        self.config = config
        self.mobility = mobility
        self.clock = clock
        self.on_outcome = on_outcome
        self.interval = interval
        self.max_concurrent = max_concurrent
        self.addresses: dict[str, str] = {}  # device MAC -> the address it last fetched from
        self.pushed: dict[int, float] = {}  # session id -> when its push started
        self.pushes: set[asyncio.Task[PushResult | None]] = set()
        self._wake = asyncio.Event()

    def seen(self, mac: str, address: str) -> None:
        """A phone fetched from `address` (on the request path: a dict store, nothing more)."""
        if mac in self.addresses or len(self.addresses) < MAX_ADDRESSES:
            self.addresses[mac] = address

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.sweep()
            except StateStoreError as error:  # an outage: the store's own health reports it
                log.debug("push sweep skipped: %s", error)
            except Exception:  # a bug here must not end every later push (logged with its traceback)
                log.exception("push sweep failed; trying again in %g s", self.interval)

    async def sweep(self) -> list[asyncio.Task[PushResult | None]]:
        """End expired sessions, then start a push for each ended session not yet told."""
        config = self.config()
        await self.mobility.expire(config.site.mobility)
        now = self.clock()
        for session_id, started in list(self.pushed.items()):
            if now - started > 2 * WINDOW:
                del self.pushed[session_id]
        started_now = []
        for session in await self.mobility.untold_ends(WINDOW):
            if session.id in self.pushed:
                continue
            if len(self.pushes) >= self.max_concurrent:
                break  # the next sweep takes the rest
            self.pushed[session.id] = now
            task = asyncio.get_running_loop().create_task(self.push(config, session))
            self.pushes.add(task)
            task.add_done_callback(self.pushes.discard)
            started_now.append(task)
        return started_now

    async def push(self, config: Config, session: Session) -> PushResult | None:
        device = config.devices.get(session.device)
        if device is None:
            return self._outcome(session, None, PushResult("no_device", "device no longer configured"))
        if not config.site.push.enabled:
            return self._outcome(session, None, PushResult("disabled", "[push] enabled = false"))
        address = self.addresses.get(device.mac)
        if address is None:
            result = PushResult("no_address", "the phone has not fetched from this process")
            return self._outcome(session, None, result)
        target = (address, device.sip_port or config.site.push.sip_port)
        accounts = sip_accounts(config, device, session.user_id)
        result = await push_resync(target, accounts, timeout=config.site.push.timeout)
        return self._outcome(session, target, result)

    def _outcome(self, session: Session, target: tuple[str, int] | None, result: PushResult) -> PushResult:
        self.on_outcome(result.outcome)
        log.info(
            "push resync device=%s user=%s reason=%s to=%s: %s %s",
            session.device,
            field(session.user_id),
            field(session.end_reason),
            f"{target[0]}:{target[1]}" if target else "-",
            result.outcome,
            quoted(result.detail),
        )
        return result

    async def close(self) -> None:
        for task in list(self.pushes):
            task.cancel()
        await asyncio.gather(*self.pushes, return_exceptions=True)

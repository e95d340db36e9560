"""The runner of the extension-mobility policy: runs the pure decisions of
spaprov.mobility.policy on a single state thread, counts logins in progress and wires the
batched audit writer.  The decisions themselves live in policy.py (a Transaction and a time in,
a Decision out)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from spaprov.clock import Clock
from spaprov.config.schema import MobilityPolicy
from spaprov.mobility.audit_writer import AuditWriter
from spaprov.mobility.policy import (
    Action,
    Decision,
    expire_sessions,
    locked_out,
    logged_out,
    login,
    peek,
    resume,
)
from spaprov.mobility.store import Session, StateStore, Transaction

T = TypeVar("T")


class Mobility:
    """Runs policy decisions on a single state thread (SQLite connections are not shared)."""

    def __init__(self, store: StateStore, clock: Clock) -> None:
        self.store = store
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spaprov-state")
        self.logins_in_progress = 0
        # Entries strangers can cause (failed logins, refusals) go here, not to the executor.
        self.audit = AuditWriter(store, clock)
        # Told when sessions may have ended that a phone must hear of (spaprov.push wakes up).
        self.end_listeners: list[Callable[[], None]] = []

    def sessions_ended(self) -> None:
        for listener in self.end_listeners:
            listener()

    async def _run(self, work: Callable[[Transaction], T], *, write: bool = True) -> T:
        def job() -> T:
            with self.store.transaction(write=write) as tx:
                return work(tx)

        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    async def read(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in a read transaction on the state thread."""
        return await self._run(work, write=False)

    async def write(self, work: Callable[[Transaction], T]) -> T:
        return await self._run(work)

    async def mobile_fetch(
        self, policy: MobilityPolicy, user_id: str, device: str, client: str, *, locked: bool = False
    ) -> Decision:
        now = self._clock()
        if locked:  # rare: decided in a writing transaction every time
            return await self._run(lambda tx: locked_out(tx, user_id, device, client, now))
        # Most mobile fetches are a logged-in phone resyncing: decided by a read, no write lock.
        seen = await self._run(lambda tx: peek(tx, policy, user_id, device, now), write=False)
        if seen is not None:
            return seen
        resumed = await self._run(lambda tx: resume(tx, policy, user_id, device, client, now))
        if resumed is not None:
            return resumed
        if self.logins_in_progress >= policy.max_concurrent_logins:
            return Decision(Action.BUSY, f"{self.logins_in_progress} logins in progress")
        self.logins_in_progress += 1
        try:
            decision = await self._run(lambda tx: login(tx, policy, user_id, device, client, now))
        finally:
            self.logins_in_progress -= 1
        if decision.action is not Action.DENY:  # auto_logout or max_login_time may have ended others
            self.sessions_ended()
        return decision

    async def host_fetch(self, device: str, client: str) -> None:
        """The phone fetched its host profile, authenticated as its own host user: whoever was
        logged in on it has logged out, and it has heard of any logout policy decided."""
        now = self._clock()
        pending = await self._run(
            lambda tx: bool(tx.active_sessions_on_device(device)) or tx.unacknowledged_end_on_device(device),
            write=False,
        )
        if pending:
            await self._run(lambda tx: logged_out(tx, device, client, now))

    async def expire(self, policy: MobilityPolicy) -> list[Session]:
        """End the sessions past max_login_time (a read first: no write lock unless one is)."""
        if not policy.max_login_minutes:
            return []
        now = self._clock()
        limit = policy.max_login_minutes * 60
        if not await self._run(lambda tx: bool(tx.sessions_started_before(now - limit)), write=False):
            return []
        return await self._run(lambda tx: expire_sessions(tx, policy, now))

    async def untold_ends(self, window: float) -> list[Session]:
        """Sessions ended within `window` seconds whose phones have not been told yet."""
        since = self._clock() - window
        return await self._run(lambda tx: tx.untold_ends(since), write=False)

    def audit_soon(
        self,
        event: str,
        user_id: str | None,
        device: str | None,
        client: str | None,
        detail: str | None = None,
    ) -> None:
        """Record an audit entry without making anyone wait: it goes to the bounded, batched
        writer (coalesced, or dropped and counted under a flood), never to the state thread."""
        self.audit.submit(event, user_id, device, client, detail)

    async def probe(self) -> bool:
        """Does the state store answer now (on the state thread; quick during an outage)?"""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.store.probe)

    async def drain(self) -> None:
        """Write every pending audit entry now."""
        await asyncio.to_thread(self.audit.flush)

    async def close(self) -> None:
        await asyncio.to_thread(self.audit.close)
        self._executor.shutdown(wait=True)
        self.store.close()

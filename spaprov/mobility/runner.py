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
from spaprov.mobility.policy import Action, Decision, locked_out, logged_out, login, peek, resume
from spaprov.mobility.store import StateStore, Transaction

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
            return await self._run(lambda tx: login(tx, policy, user_id, device, client, now))
        finally:
            self.logins_in_progress -= 1

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

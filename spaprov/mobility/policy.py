"""Extension-mobility policy, as Cisco CUCM names it, decided against the state store.

- multiple_login: "allowed", "not_allowed" (the second phone is refused, audited "logged in
  elsewhere"), or "auto_logout" (the first phone's session ends; its next resync with the old
  credentials receives the logout profile).
- max_login_time: after it, the phone's next mobile resync receives the logout profile, and a
  login elsewhere no longer counts the session as live (even under not_allowed).
- max_concurrent_logins: at most that many logins in progress at once; beyond it, 503.

Only authenticated evidence ends or re-opens a session.  A session ends when its phone fetches
its host profile authenticated as that phone's own host user (the user logged out), when another
user logs in on the phone, when max_login_time or auto_logout ends it, or by a forced logout.  An
unauthenticated fetch of the default profile changes nothing: anyone can send one with any
phone's User-Agent.

A session ended by policy stays "unacknowledged" until the phone has been told: until then every
mobile fetch from that phone with those credentials gets the logout profile, so a phone still
holding the old credentials cannot simply log in again (and, under auto_logout, two phones cannot
keep logging each other out).  It is acknowledged by the phone's authenticated host fetch, or,
for phones without host credentials (they fall back to the unauthenticated default profile), by
the same user's authenticated mobile fetch at least LOGOUT_ACK_DELAY after the logout profile
was first served: by then the phone has dropped the credentials, so they were typed in again.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from spaprov.clock import Clock
from spaprov.config.schema import MobilityPolicy
from spaprov.mobility.audit_writer import AuditWriter
from spaprov.mobility.store import Session, StateStore, Transaction

T = TypeVar("T")
TOUCH_INTERVAL = 60.0  # last_seen is refreshed at most once a minute: no write per resync
RETRY_AFTER_BUSY = 5
# A mobile fetch this long after the logout profile was first served is a new login, not the
# phone retrying with credentials it still holds (a retry comes within seconds; resyncs hourly).
LOGOUT_ACK_DELAY = 300.0


class Action(enum.Enum):
    SERVE = "serve"  # the mobile profile
    LOGOUT = "logout"  # the logout profile: back to the host profile
    DENY = "deny"  # 403
    BUSY = "busy"  # 503 + Retry-After


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    session: Session | None = None


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

    async def mobile_fetch(self, policy: MobilityPolicy, user_id: str, device: str, client: str) -> Decision:
        now = self._clock()
        # Most mobile fetches are a logged-in phone resyncing: decided by a read, no write lock.
        seen = await self._run(lambda tx: _peek(tx, policy, user_id, device, now), write=False)
        if seen is not None:
            return seen
        resumed = await self._run(lambda tx: _resume(tx, policy, user_id, device, client, now))
        if resumed is not None:
            return resumed
        if self.logins_in_progress >= policy.max_concurrent_logins:
            return Decision(Action.BUSY, f"{self.logins_in_progress} logins in progress")
        self.logins_in_progress += 1
        try:
            return await self._run(lambda tx: _login(tx, policy, user_id, device, client, now))
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
            await self._run(lambda tx: _logged_out(tx, device, client, now))

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

    async def drain(self) -> None:
        """Write every pending audit entry now."""
        await asyncio.to_thread(self.audit.flush)

    async def close(self) -> None:
        await asyncio.to_thread(self.audit.close)
        self._executor.shutdown(wait=True)
        self.store.close()


def _session_here(tx: Transaction, user_id: str, device: str) -> Session | None:
    """The user's live session on this phone, if any."""
    return next((s for s in tx.active_sessions_of_user(user_id) if s.device == device), None)


def _expired(policy: MobilityPolicy, session: Session, now: float) -> bool:
    limit = policy.max_login_minutes * 60
    return bool(limit) and now - session.started >= limit


def _pending_logout(
    tx: Transaction, user_id: str, device: str, now: float, *, write: bool
) -> Decision | None:
    """The logout profile for a session that policy ended and the phone has not yet been told
    about; None when there is none (a new login).  Read-only (`write` False), it also returns
    None when the writing path must record the first serving or settle the pending logout."""
    ended = tx.unacknowledged_end(user_id, device)
    if ended is None:
        return None
    logout = Decision(Action.LOGOUT, ended.end_reason or "ended", ended)
    if ended.logout_served is not None and now - ended.logout_served < LOGOUT_ACK_DELAY:
        return logout
    if not write:
        return None
    if ended.logout_served is None:
        tx.logout_served(ended, now)
        return logout
    tx.acknowledge(user_id, device)  # told long ago: the credentials were typed in again
    return None


def _peek(tx: Transaction, policy: MobilityPolicy, user_id: str, device: str, now: float) -> Decision | None:
    """The decision when it needs no write (a live session not yet due a touch, or a pending
    logout); None when the writing path must decide."""
    session = _session_here(tx, user_id, device)
    if session is None:
        return _pending_logout(tx, user_id, device, now, write=False)
    if _expired(policy, session, now) or now - session.last_seen >= TOUCH_INTERVAL:
        return None
    return Decision(Action.SERVE, "resumed", session)


def _resume(
    tx: Transaction, policy: MobilityPolicy, user_id: str, device: str, client: str, now: float
) -> Decision | None:
    """The decision for a phone already logged in (or told to log out); None for a new login."""
    session = _session_here(tx, user_id, device)
    if session is None:
        return _pending_logout(tx, user_id, device, now, write=True)
    if _expired(policy, session, now):
        tx.end_session(session, now, "max_login_time", tell_phone=True)
        tx.audit(
            now,
            "auto_logout",
            user_id=user_id,
            device=device,
            client=client,
            detail=f"maximum login time {_hours_minutes(policy.max_login_minutes)} reached",
        )
        return Decision(Action.LOGOUT, "max_login_time", session)
    if now - session.last_seen >= TOUCH_INTERVAL:
        tx.touch(session, now)
    return Decision(Action.SERVE, "resumed", session)


def _login(
    tx: Transaction, policy: MobilityPolicy, user_id: str, device: str, client: str, now: float
) -> Decision:
    again = _resume(tx, policy, user_id, device, client, now)  # another request may have won the race
    if again is not None:
        return again
    elsewhere = []
    for other in tx.active_sessions_of_user(user_id):
        if other.device == device:
            continue
        if _expired(policy, other, now):  # that phone never came back to be told: it is over
            tx.end_session(other, now, "max_login_time", tell_phone=True)
            tx.audit(
                now,
                "auto_logout",
                user_id=user_id,
                device=other.device,
                detail=f"maximum login time {_hours_minutes(policy.max_login_minutes)} reached",
            )
        else:
            elsewhere.append(other)
    if elsewhere and policy.multiple_login == "not_allowed":
        where = ", ".join(s.device for s in elsewhere)
        tx.audit(
            now,
            "denied",
            user_id=user_id,
            device=device,
            client=client,
            detail=f"logged in elsewhere ({where})",
        )
        return Decision(Action.DENY, "logged in elsewhere")
    if policy.multiple_login == "auto_logout":
        for session in elsewhere:
            tx.end_session(session, now, "auto_logout", tell_phone=True)
            tx.audit(
                now, "auto_logout", user_id=user_id, device=session.device, detail=f"logged in on {device}"
            )
    for session in tx.active_sessions_on_device(device):  # someone else never logged out here
        tx.end_session(session, now, "replaced", tell_phone=False)
        tx.audit(now, "logout", user_id=session.user_id, device=device, detail=f"replaced by {user_id}")
    session = tx.start_session(user_id, device, now)
    tx.audit(now, "login", user_id=user_id, device=device, client=client)
    return Decision(Action.SERVE, "login", session)


def _logged_out(tx: Transaction, device: str, client: str, now: float) -> None:
    for session in tx.active_sessions_on_device(device):
        tx.end_session(session, now, "logout", tell_phone=False)
        tx.audit(now, "logout", user_id=session.user_id, device=device, client=client)
    tx.acknowledge_device(device)


def forced_logout(
    tx: Transaction, target: str, now: float, *, client: str | None = None, detail: str | None = None
) -> list[Session]:
    """End the sessions of a user id or a device (MAC); their phones get the logout profile.
    `client` and `detail` say who asked (audited with each ended session)."""
    mac = target.replace(":", "").lower()
    sessions = tx.sessions(user_id=target) + tx.sessions(device=mac)
    for session in sessions:
        tx.end_session(session, now, "forced_logout", tell_phone=True)
        tx.audit(
            now, "forced_logout", user_id=session.user_id, device=session.device, client=client, detail=detail
        )
    return sessions


def _hours_minutes(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"

"""An in-memory view of live sessions, so that the resync of a phone already logged in is decided
on the event loop, without a hop to the state thread.

It holds only what `policy.peek` would answer SERVE: (user, device) -> the live session a
decision on the state thread saw, and until when that answer stands (the next `last_seen`
refresh or `max_login_time`, whichever comes first).  An entry is trusted only while the state
store is exactly as it was when the entry was read, which the store tells by a change token
(spaprov.mobility.store.StateStore.change_token): SQLite's `PRAGMA data_version`, which moves
whenever another connection commits (another worker, `spaprov sessions logout`, another node
on the same file), together with a count of this process's own write transactions.  Any change
anywhere empties the view: a session ended by anyone is never answered from it.  Writes stay
where they were (durable, on the state thread); the view is filled from a decision only after
its transaction committed.

Stores without a change token (PostgreSQL: several nodes, no cheap way to see their commits)
keep no view, and neither does a store busy at the moment of the lookup: those resyncs go to the
state thread as before.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from spaprov.config.schema import MobilityPolicy
from spaprov.mobility.policy import TOUCH_INTERVAL, Action, Decision
from spaprov.mobility.store import ChangeToken, StateStore

MAX_ENTRIES = 200_000  # sessions remembered at most (a bound, not a working size: one per phone)


class _Entry(NamedTuple):
    policy: MobilityPolicy
    valid_until: float
    decision: Decision


class SessionView:
    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._token: ChangeToken | None = None  # the store's state every entry was read at
        self._now: ChangeToken | None = None  # the store's token read in this loop iteration
        self.hits = 0

    def lookup(self, policy: MobilityPolicy, user_id: str, device: str, now: float) -> Decision | None:
        """The decision `peek` would return now, when the view knows it; else None."""
        entry = self._entries.get((user_id, device))
        if entry is None or now >= entry.valid_until:
            return None
        if entry.policy is not policy and entry.policy != policy:
            return None
        seen = self._now or self._current_token()
        if seen is None:  # busy, or no token: ask the store
            return None
        token = (seen[0], self._store.local_writes)  # this process's own writes: at once, always
        if token != self._token:
            self.clear()
            return None
        self.hits += 1
        return entry.decision

    def _current_token(self) -> ChangeToken | None:
        """The store's token, read once per event-loop iteration: the requests that one iteration
        handles all arrived before it started (their bytes were read before), and the token is
        read after that, so each of them sees every commit of another process that came before
        it.  (This process's writes are counted in `local_writes`, read on every lookup.)"""
        token = self._store.change_token()
        if token is not None:
            try:
                asyncio.get_running_loop().call_soon(self._forget_token)
            except RuntimeError:  # no loop: read it each time
                return token
            self._now = token
        return token

    def _forget_token(self) -> None:
        self._now = None

    def remember(
        self, policy: MobilityPolicy, user_id: str, device: str, decision: Decision, token: ChangeToken | None
    ) -> None:
        """Keep a committed SERVE decision, read when the store's token was `token`."""
        session = decision.session
        if token is None or decision.action is not Action.SERVE or session is None:
            return
        if token != self._token:
            self._entries.clear()
            self._token = token
        limit = policy.max_login_minutes * 60
        valid_until = session.last_seen + TOUCH_INTERVAL
        if limit:
            valid_until = min(valid_until, session.started + limit)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[(user_id, device)] = _Entry(
            policy, valid_until, Decision(Action.SERVE, "resumed", session)
        )

    def clear(self) -> None:
        self._entries.clear()
        self._token = self._now = None

    def __len__(self) -> int:
        return len(self._entries)

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

Pure decisions: each function here takes a Transaction and the time and returns a Decision;
spaprov.mobility.runner runs them on the state thread.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from spaprov.config.schema import MobilityPolicy
from spaprov.mac import normalize_mac
from spaprov.mobility.store import Session, Transaction

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


def peek(tx: Transaction, policy: MobilityPolicy, user_id: str, device: str, now: float) -> Decision | None:
    """The decision when it needs no write (a live session not yet due a touch, or a pending
    logout); None when the writing path must decide."""
    session = _session_here(tx, user_id, device)
    if session is None:
        return _pending_logout(tx, user_id, device, now, write=False)
    if _expired(policy, session, now) or now - session.last_seen >= TOUCH_INTERVAL:
        return None
    return Decision(Action.SERVE, "resumed", session)


def resume(
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


def login(
    tx: Transaction, policy: MobilityPolicy, user_id: str, device: str, client: str, now: float
) -> Decision:
    again = resume(tx, policy, user_id, device, client, now)  # another request may have won the race
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


def expire_sessions(tx: Transaction, policy: MobilityPolicy, now: float) -> list[Session]:
    """End every session past max_login_time now, rather than at its phone's next resync, so the
    phone can be told at once (spaprov.push)."""
    limit = policy.max_login_minutes * 60
    if not limit:
        return []
    expired = tx.sessions_started_before(now - limit)
    for session in expired:
        tx.end_session(session, now, "max_login_time", tell_phone=True)
        tx.audit(
            now,
            "auto_logout",
            user_id=session.user_id,
            device=session.device,
            detail=f"maximum login time {_hours_minutes(policy.max_login_minutes)} reached",
        )
    return expired


def locked_out(tx: Transaction, user_id: str, device: str, client: str, now: float) -> Decision:
    """A locked user's phone: told to log out while it still holds the user's session here (so
    it goes back to its host profile rather than keep the last mobile one), else refused."""
    session = _session_here(tx, user_id, device)
    if session is not None:  # locked by editing the file: the lock call ends sessions itself
        tx.end_session(session, now, "locked", tell_phone=True)
        detail = "the account is locked"
        tx.audit(now, "forced_logout", user_id=user_id, device=device, client=client, detail=detail)
    pending = _pending_logout(tx, user_id, device, now, write=True)
    if pending is not None:
        return pending
    tx.audit(now, "denied", user_id=user_id, device=device, client=client, detail="the account is locked")
    return Decision(Action.DENY, "the account is locked")


def logged_out(tx: Transaction, device: str, client: str, now: float) -> None:
    for session in tx.active_sessions_on_device(device):
        tx.end_session(session, now, "logout", tell_phone=False)
        tx.audit(now, "logout", user_id=session.user_id, device=device, client=client)
    tx.acknowledge_device(device)


def forced_logout(
    tx: Transaction, target: str, now: float, *, client: str | None = None, detail: str | None = None
) -> list[Session]:
    """End the sessions of a user id or a device (MAC); their phones get the logout profile.
    `client` and `detail` say who asked (audited with each ended session)."""
    mac = normalize_mac(target)
    sessions = tx.sessions(user_id=target) + (tx.sessions(device=mac) if mac else [])
    for session in sessions:
        tx.end_session(session, now, "forced_logout", tell_phone=True)
        tx.audit(
            now, "forced_logout", user_id=session.user_id, device=session.device, client=client, detail=detail
        )
    return sessions


def _hours_minutes(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"

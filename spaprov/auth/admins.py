"""Administrator accounts for the JSON API and /admin: `admins.toml` in the profile directory.

    [admins.admin]
    role = "admin"            # "admin": everything; "viewer": read-only
    hash = "$pbkdf2-sha256$…"  # passlib pbkdf2_sha256; never a plaintext password

The API uses HTTP Basic: every client (curl, scripts, a browser for /admin) speaks it with no
login page or token store, and it is only as exposed as the transport — serve it over TLS in
production.  A hash costs tens of milliseconds by design, so a successful check is remembered
for a few minutes, keyed by an HMAC of the credentials under a per-process key (never the password
itself), and forgotten when admins.toml changes.  The hash runs in a small thread pool, never on
the event loop, at most `max_hashing` at once: when they are all busy the caller is told so at
once (AdminBusy) instead of queueing without limit.  Failures are counted per (name, client) by a
FailureThrottle, like Digest logins, unknown names included; with several workers or nodes
(`attach_shared`) they are counted in the shared auth store too, under BASIC_PREFIX + name, and a
right password is refused while the shared store holds a lockout (spaprov.auth.shared_state).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from passlib.context import CryptContext
from passlib.utils import MAX_PASSWORD_SIZE

from spaprov.auth.shared_state import Lockout, PendingFailure, SharedAuth
from spaprov.auth.throttle import FailureThrottle
from spaprov.clock import Clock, system_clock
from spaprov.config.toml_writer import dumps
from spaprov.store_health import StateStoreUnavailable
from spaprov.transaction import locked

log = logging.getLogger("spaprov.auth")
ROLES = ("admin", "viewer")
MAX_PASSWORD = MAX_PASSWORD_SIZE  # passlib's own limit; longer is refused before any hashing
_CONTEXT = CryptContext(schemes=["pbkdf2_sha256"])
_REMEMBER_SECONDS = 300.0
_REMEMBER_MAX = 1000
# Admin names in the shared auth store, apart from Digest user names (which can be anything, but
# a Digest lockout of this form only ever locks out the client that caused it).
BASIC_PREFIX = "basic\x1f"


@dataclass(frozen=True)
class Admin:
    name: str
    role: str


class AdminAccountsError(ValueError):
    pass


class AdminBusy(RuntimeError):
    """Every hashing slot is taken: try again shortly (answered 503 with Retry-After)."""


class AdminLocked(RuntimeError):
    """A right password for a (name, client) that another worker has locked out (answered 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("locked out")
        self.retry_after = retry_after


class AdminAccounts:
    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = system_clock,
        on_event: Callable[[str, str, str], None] | None = None,
        max_failures: int = 5,
        failure_window: float = 300.0,
        lockout: float = 300.0,
        max_hashing: int = 2,
    ) -> None:
        self.path = path
        self.throttle = FailureThrottle(
            clock, max_failures=max_failures, window=failure_window, cooldown=lockout, known=self._known
        )
        self._on_event = on_event
        self._max_hashing = max_hashing
        self._hashing = 0
        self._pool: ThreadPoolExecutor | None = None
        self._mtime: int | None = None
        self._accounts: dict[str, tuple[str, str]] = {}  # name -> (role, hash)
        self._remembered: dict[bytes, tuple[Admin, float]] = {}
        self._pepper = secrets.token_bytes(16)
        self._decoy = _CONTEXT.hash(secrets.token_hex(16))
        self._clock = clock
        self.shared: SharedAuth | None = None

    def attach_shared(self, shared: SharedAuth | None) -> None:
        """Count failures and honour lockouts in the store every worker shares (None: this
        process only)."""
        self.shared = shared

    def apply_lockouts(self, lockouts: list[Lockout]) -> None:
        """The admin lockouts among those read from the shared store (every worker polls them)."""
        for name, client, until in lockouts:
            if name.startswith(BASIC_PREFIX):
                self.throttle.lock(name.removeprefix(BASIC_PREFIX), client, until)

    def _load(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._accounts, self._mtime = {}, None
            return
        if mtime == self._mtime:
            return
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise AdminAccountsError(f"{self.path}: {error}") from None
        accounts = {}
        for name, entry in data.get("admins", {}).items():
            if (
                not isinstance(entry, dict)
                or entry.get("role") not in ROLES
                or not isinstance(entry.get("hash"), str)
            ):
                raise AdminAccountsError(f"{self.path}: admins.{name}: needs role (admin|viewer) and hash")
            accounts[name] = (entry["role"], entry["hash"])
        self._accounts, self._mtime = accounts, mtime
        self._remembered.clear()

    def _known(self, name: str) -> bool:
        return name in self._accounts

    def retry_after(self, name: str, client: str) -> int | None:
        """Seconds (name, client) must wait after too many failures, or None."""
        self._load()
        return self.throttle.retry_after(name, client)

    async def failed_async(self, name: str, client: str, reason: str) -> int | None:
        """`failed`, then, with a shared store, wait until the failure is in the shared count:
        the seconds to wait when (name, client) was already locked out there (a guess past
        max_failures, which must be answered as locked out on every worker), else None."""
        pending = self.failed(name, client, reason)
        if pending is None:
            return None
        place, until = await asyncio.wrap_future(pending.future)
        if until is None:
            return None
        self.throttle.lock(name, client, until)
        if place <= self.throttle.max_failures:
            return None
        return self.throttle.retry_after(name, client) or 1

    def failed(self, name: str, client: str, reason: str) -> PendingFailure | None:
        """Count a failed attempt; log it, and report it (audit, metrics) through on_event.  With
        a shared store: the failure on its way to the shared count (None: this process only, or
        the shared counter is swamped and the pair was locked here, failing closed)."""
        locked = self.throttle.failed(name, client)
        pending = None
        if self.shared is not None:
            pending = self.shared.failed(BASIC_PREFIX + name, client)
            if pending is None:
                self.throttle.lock(name, client, self._clock() + self.throttle.cooldown)
        log.warning(
            "admin auth failed: name=%r client=%s reason=%s%s",
            name[:64],
            client,
            reason,
            " (now locked out)" if locked else "",
        )
        if self._on_event is not None:
            self._on_event("lockout" if locked else "auth_failed", f"admin:{name[:64]}", client)
        return pending

    def succeeded(self, name: str, client: str) -> None:
        self.throttle.succeeded(name, client)

    def verify(self, name: str, password: str) -> Admin | None:
        """Synchronous check (CLI, tests): hashes on the calling thread."""
        self._load()
        key = self._key(name, password)
        admin = self._remembered_admin(key)
        if admin is not None:
            return admin
        role, stored = self._accounts.get(name, ("", self._decoy))
        return self._verified(key, name, role, _CONTEXT.verify(password, stored), self._mtime)

    async def verify_async(self, name: str, password: str, client: str = "?") -> Admin | None:
        """The check for the server: a remembered success costs one HMAC; otherwise the hash runs
        in the pool.  Raises AdminBusy at once when every hashing slot is taken, and AdminLocked
        for a right password when the shared store holds a lockout of (name, client) that this
        worker has not polled yet."""
        self._load()
        key = self._key(name, password)
        admin = self._remembered_admin(key)
        if admin is not None:
            return admin
        if self._hashing >= self._max_hashing:
            raise AdminBusy("every password-hashing slot is busy")
        role, stored = self._accounts.get(name, ("", self._decoy))  # unknown names cost the same
        mtime = self._mtime
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._max_hashing, thread_name_prefix="spaprov-pbkdf2")
        self._hashing += 1
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._pool, _CONTEXT.verify, password, stored)
        finally:
            self._hashing -= 1
        if ok and role and self.shared is not None:
            try:
                until = await self.shared.locked_until(BASIC_PREFIX + name, client)
            except StateStoreUnavailable:
                # An outage (logged once by the store's health): the local lockouts still hold,
                # and every failure meanwhile locks its pair here at once (SharedAuth fails
                # closed), so /metrics and the console stay reachable to the right password.
                until = None
            if until is not None:
                self.throttle.lock(name, client, until)
                raise AdminLocked(self.throttle.retry_after(name, client) or 1)
        return self._verified(key, name, role, ok, mtime)

    def _key(self, name: str, password: str) -> bytes:
        data = f"{name}\0{password}".encode("utf-8", "surrogatepass")
        return hmac.new(self._pepper, data, hashlib.sha256).digest()

    def _remembered_admin(self, key: bytes) -> Admin | None:
        remembered = self._remembered.get(key)
        return remembered[0] if remembered and remembered[1] > time.monotonic() else None

    def _verified(self, key: bytes, name: str, role: str, ok: bool, mtime: int | None) -> Admin | None:
        if not ok or not role:
            return None
        admin = Admin(name, role)
        if mtime == self._mtime:  # not if admins.toml changed while the hash ran
            if len(self._remembered) >= _REMEMBER_MAX:
                self._remembered.clear()
            self._remembered[key] = (admin, time.monotonic() + _REMEMBER_SECONDS)
        return admin

    def set(self, name: str, role: str, password: str) -> None:
        if role not in ROLES:
            raise AdminAccountsError(f"role must be one of {', '.join(ROLES)}")
        if not name or not all(c.isalnum() or c in "._-" for c in name):
            raise AdminAccountsError("an admin name is letters, digits, . _ -")
        hashed = _hashed(password)
        self._update(lambda accounts: {**accounts, name: (role, hashed)})

    def set_password(self, name: str, password: str) -> None:
        """A new password for an existing administrator, keeping the role."""
        self._load()
        if name not in self._accounts:
            raise AdminAccountsError(f"no administrator {name!r} (add one with `spaprov admin add`)")
        hashed = _hashed(password)

        def change(accounts: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
            if name not in accounts:  # deleted by another writer since
                raise AdminAccountsError(f"no administrator {name!r}")
            return {**accounts, name: (accounts[name][0], hashed)}

        self._update(change)

    def delete(self, name: str) -> None:
        """Remove an administrator; never the last one with the admin role (nobody could then
        change the site through /api/v1)."""

        def change(accounts: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
            if name not in accounts:
                raise AdminAccountsError(f"no administrator {name!r}")
            admins = [n for n, (role, _) in accounts.items() if role == "admin"]
            if admins == [name]:
                raise AdminAccountsError(
                    f"{name!r} is the last administrator with the admin role: add another first"
                )
            return {n: entry for n, entry in accounts.items() if n != name}

        self._update(change)

    def _update(self, change: Callable[[dict[str, tuple[str, str]]], dict[str, tuple[str, str]]]) -> None:
        """Read, change and write admins.toml under the directory's writer lock, through its
        journal: two writers (`spaprov admin add` during a `restore`, say) cannot lose either's
        change, and a crash leaves the old file or the new one."""
        with locked(self.path.parent, who="spaprov admin", create=True) as transaction:
            self._mtime = None  # read what is there now, under the lock
            self._load()
            accounts = change(dict(self._accounts))
            document = {"admins": {n: {"role": r, "hash": h} for n, (r, h) in sorted(accounts.items())}}
            transaction.commit({self.path.name: _nested(document).encode()})
        self._mtime = None

    def names(self) -> dict[str, str]:
        self._load()
        return {name: role for name, (role, _) in self._accounts.items()}


def _hashed(password: str) -> str:
    """The stored form of a new admin password; hashed before any writer lock is taken (pbkdf2 is
    slow on purpose)."""
    if len(password) < 8:
        raise AdminAccountsError("an admin password has at least 8 characters")
    hashed: str = _CONTEXT.hash(password)
    return hashed


def _nested(document: dict[str, dict[str, dict[str, str]]]) -> str:
    parts = []
    for name, entry in document["admins"].items():
        parts.append(f"[admins.{name}]\n" + dumps(entry))
    return "\n".join(parts)

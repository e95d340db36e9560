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
FailureThrottle, like Digest logins, unknown names included.
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

from spaprov.auth.throttle import FailureThrottle
from spaprov.clock import Clock, system_clock
from spaprov.config.toml_writer import dumps
from spaprov.fileio import atomic_write

log = logging.getLogger("spaprov.auth")
ROLES = ("admin", "viewer")
MAX_PASSWORD = 4096  # passlib's own limit; longer is refused before any hashing
_CONTEXT = CryptContext(schemes=["pbkdf2_sha256"])
_REMEMBER_SECONDS = 300.0
_REMEMBER_MAX = 1000


@dataclass(frozen=True)
class Admin:
    name: str
    role: str


class AdminAccountsError(ValueError):
    pass


class AdminBusy(RuntimeError):
    """Every hashing slot is taken: try again shortly (answered 503 with Retry-After)."""


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

    def failed(self, name: str, client: str, reason: str) -> None:
        """Count a failed attempt; log it, and report it (audit, metrics) through on_event."""
        locked = self.throttle.failed(name, client)
        log.warning(
            "admin auth failed: name=%r client=%s reason=%s%s",
            name[:64],
            client,
            reason,
            " (now locked out)" if locked else "",
        )
        if self._on_event is not None:
            self._on_event("lockout" if locked else "auth_failed", f"admin:{name[:64]}", client)

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

    async def verify_async(self, name: str, password: str) -> Admin | None:
        """The check for the server: a remembered success costs one HMAC; otherwise the hash runs
        in the pool.  Raises AdminBusy at once when every hashing slot is taken."""
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
        if len(password) < 8:
            raise AdminAccountsError("an admin password has at least 8 characters")
        self._load()
        accounts = dict(self._accounts)
        accounts[name] = (role, _CONTEXT.hash(password))
        self._write(accounts)

    def set_password(self, name: str, password: str) -> None:
        """A new password for an existing administrator, keeping the role."""
        self._load()
        if name not in self._accounts:
            raise AdminAccountsError(f"no administrator {name!r} (add one with `spaprov admin add`)")
        self.set(name, self._accounts[name][0], password)

    def delete(self, name: str) -> None:
        """Remove an administrator; never the last one with the admin role (nobody could then
        change the site through /api/v1)."""
        self._load()
        if name not in self._accounts:
            raise AdminAccountsError(f"no administrator {name!r}")
        admins = [n for n, (role, _) in self._accounts.items() if role == "admin"]
        if admins == [name]:
            raise AdminAccountsError(
                f"{name!r} is the last administrator with the admin role: add another first"
            )
        self._write({n: entry for n, entry in self._accounts.items() if n != name})

    def _write(self, accounts: dict[str, tuple[str, str]]) -> None:
        document = {"admins": {n: {"role": r, "hash": h} for n, (r, h) in sorted(accounts.items())}}
        atomic_write(self.path, _nested(document).encode())
        self._mtime = None

    def names(self) -> dict[str, str]:
        self._load()
        return {name: role for name, (role, _) in self._accounts.items()}


def _nested(document: dict[str, dict[str, dict[str, str]]]) -> str:
    parts = []
    for name, entry in document["admins"].items():
        parts.append(f"[admins.{name}]\n" + dumps(entry))
    return "\n".join(parts)

"""Administrator accounts for the JSON API and /admin: `admins.toml` in the profile directory.

    [admins.admin]
    role = "admin"            # "admin": everything; "viewer": read-only
    hash = "$pbkdf2-sha256$…"  # passlib pbkdf2_sha256; never a plaintext password

The API uses HTTP Basic: every client (curl, scripts, a browser for /admin) speaks it with no
login page or token store, and it is only as exposed as the transport — serve it over TLS in
production.  A hash costs tens of milliseconds by design, so a successful check is remembered
for a few minutes, keyed by a hash of the credentials (never the password itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from passlib.context import CryptContext

from spaprov.config.toml_writer import dumps
from spaprov.fileio import atomic_write

ROLES = ("admin", "viewer")
_CONTEXT = CryptContext(schemes=["pbkdf2_sha256"])
_REMEMBER_SECONDS = 300.0
_REMEMBER_MAX = 1000


@dataclass(frozen=True)
class Admin:
    name: str
    role: str


class AdminAccountsError(ValueError):
    pass


class AdminAccounts:
    def __init__(self, path: Path) -> None:
        self.path = path
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

    def verify(self, name: str, password: str) -> Admin | None:
        self._load()
        key = hmac.new(self._pepper, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        remembered = self._remembered.get(key)
        now = time.monotonic()
        if remembered and remembered[1] > now:
            return remembered[0]
        role, stored = self._accounts.get(name, ("", self._decoy))
        if not _CONTEXT.verify(password, stored) or not role:  # unknown names cost the same
            return None
        admin = Admin(name, role)
        if len(self._remembered) >= _REMEMBER_MAX:
            self._remembered.clear()
        self._remembered[key] = (admin, now + _REMEMBER_SECONDS)
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

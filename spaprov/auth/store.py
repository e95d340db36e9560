"""The credential store: realm-bound HA1 values, never a plaintext password.

Two files in the same layout, `user:realm:HA1-hex`, read and written with passlib's HtdigestFile:
  credentials.htdigest          MD5 HA1: Apache's format, so `htdigest` and passlib tools still
                                work on it (SPA5x5 firmware only speaks MD5).
  credentials.htdigest.sha256   SHA-256 HA1 (RFC 7616 §3.4.2) for clients that prefer it.
A change is one spaprov.transaction batch holding both files (under the directory's writer lock,
so that concurrent writers cannot lose each other's changes): after a crash both files are the
old ones or, once `recover` has rolled the journal forward, both the new ones.  While a journal is
pending the pair may be torn (MD5 old, SHA-256 new), so `load` refuses it instead of serving it.
A user present only in the MD5 file (added with Apache's tool) authenticates with MD5 only; a file
edited by Apache's tool leaves no journal and loads as it is.
"""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

from passlib.apache import HtdigestFile
from passlib.utils import MAX_PASSWORD_SIZE

from spaprov.auth.digest import ha1
from spaprov.transaction import Transaction, interrupted_message, locked, pending_journal

log = logging.getLogger("spaprov.auth")

SHA256_SUFFIX = ".sha256"
_HEX_LENGTH = {"MD5": 32, "SHA-256": 64}
_HEX = re.compile(r"[0-9a-f]+")
_USERNAME = re.compile(r"[^\x00-\x1f\x7f:]{1,128}")
MAX_PASSWORD = MAX_PASSWORD_SIZE  # passlib's limit: a longer one raises PasswordSizeError while hashing


def password_problem(password: str) -> str | None:
    """Why `password` cannot be a login password, or None."""
    if not password:
        return "the password must not be empty"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD:,} characters, not {len(password):,}"
    return None


class CredentialFileError(ValueError):
    """A credential file that cannot be used, with the file, the line and the reason."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.reason = path, line, reason


class CredentialStore:
    def __init__(self, path: Path | str, realm: str) -> None:
        self.path = Path(path)
        self.sha256_path = self.path.with_name(self.path.name + SHA256_SUFFIX)
        self.realm = realm
        self._ha1: dict[str, dict[str, str]] = {"MD5": {}, "SHA-256": {}}
        self.load()

    # -- reading --------------------------------------------------------------------------------
    def load(self) -> None:
        """(Re)read both files; raises CredentialFileError and keeps the old contents on error,
        also while an interrupted write (a journal) may have left the two files torn."""
        if journal := pending_journal(self.path.parent):
            raise CredentialFileError(journal, None, interrupted_message(self.path.parent))
        loaded = {
            "MD5": _read(self.path, "MD5", self.realm),
            "SHA-256": _read(self.sha256_path, "SHA-256", self.realm),
        }
        self._ha1 = loaded

    def ha1(self, username: str, algorithm: str) -> str | None:
        return self._ha1[algorithm].get(username)

    def users(self) -> list[str]:
        return sorted(self._ha1["MD5"].keys() | self._ha1["SHA-256"].keys())

    def __contains__(self, username: object) -> bool:
        return username in self._ha1["MD5"] or username in self._ha1["SHA-256"]

    # -- writing --------------------------------------------------------------------------------
    def set_password(self, username: str, password: str) -> None:
        self.set_passwords({username: password})

    def set_passwords(self, passwords: dict[str, str]) -> None:
        """Set several passwords in one locked write (a bulk import: not one rewrite per user)."""
        with locked(self.path.parent, who="spaprov user", create=True) as transaction:
            self.load()  # see changes made by others since we last read
            transaction.commit(self.password_files(passwords))
        self.load()

    def password_files(self, passwords: dict[str, str]) -> dict[str, bytes]:
        """Both files with `passwords` set, as a spaprov.transaction batch (labels relative to the
        files' directory) for a caller that commits them with other files; call it under the lock."""
        for username, password in passwords.items():
            if not _USERNAME.fullmatch(username):
                raise ValueError("a user name is 1-128 characters, without ':' or control characters")
            if problem := password_problem(password):
                raise ValueError(problem)
        md5_file, sha_file = _htdigest(self.path), _htdigest(self.sha256_path)
        for username, password in passwords.items():
            md5_file.set_password(username, self.realm, password)
            sha_file.set_hash(username, self.realm, ha1("SHA-256", username, self.realm, password))
        return self._files(md5_file, sha_file)

    def delete(self, username: str) -> bool:
        with locked(self.path.parent, who="spaprov user") as transaction:
            self.load()
            md5_file, sha_file = _htdigest(self.path), _htdigest(self.sha256_path)
            removed = md5_file.delete(username, self.realm)
            removed = sha_file.delete(username, self.realm) or removed
            if removed:
                self._commit(transaction, md5_file, sha_file)
            return bool(removed)

    def _files(self, md5_file: HtdigestFile, sha_file: HtdigestFile) -> dict[str, bytes]:
        return {self.sha256_path.name: sha_file.to_string(), self.path.name: md5_file.to_string()}

    def _commit(self, transaction: Transaction, md5_file: HtdigestFile, sha_file: HtdigestFile) -> None:
        transaction.commit(self._files(md5_file, sha_file))
        self.load()


def _htdigest(path: Path) -> HtdigestFile:
    return HtdigestFile.from_path(str(path)) if path.exists() else HtdigestFile()


def _read(path: Path, algorithm: str, realm: str) -> dict[str, str]:
    """Validate line by line (for errors that name the line), then read with HtdigestFile."""
    if not path.exists():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by group or others (mode %o); it should be 0600", path, mode & 0o777)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise CredentialFileError(path, None, f"not UTF-8 text ({error.reason})") from None
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) != 3:
            raise CredentialFileError(path, number, "expected user:realm:HA1 (three fields)")
        user, line_realm, digest = fields
        if not user:
            raise CredentialFileError(path, number, "empty user name")
        if len(digest) != _HEX_LENGTH[algorithm] or not _HEX.fullmatch(digest):
            raise CredentialFileError(
                path, number, f"the {algorithm} HA1 must be {_HEX_LENGTH[algorithm]} lower-case hex digits"
            )
        if (user, line_realm) in seen:
            raise CredentialFileError(
                path, number, f"user {user!r} already defined on line {seen[user, line_realm]}"
            )
        seen[user, line_realm] = number
    try:
        parsed = HtdigestFile.from_string(text.encode("utf-8"))
    except ValueError as error:
        raise CredentialFileError(path, None, str(error)) from None
    return {user: parsed.get_hash(user, realm) for user in parsed.users(realm)}

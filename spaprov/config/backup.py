"""A lossless backup of a profile directory: one tar.gz of its documents, byte for byte, and its
restore, all or nothing through spaprov.transaction.

What a backup holds: every regular file of the directory and its sub-directories whose path has
no hidden part (site.toml, devices/, users/, em_profiles/, credentials.htdigest*, admins.toml, a
nonce secret file, …) — everything needed to stand up the same site — and a manifest
(`.spaprov-backup.json`: format, version, each file's size and SHA-256).  Hidden files are never
part of a site (the state database, `.spaprov.lock`, `.spaprov.journal`, temporaries), so they are
neither backed up nor touched by a restore.  Members are stored with mode 0600: the files hold
SIP passwords and password hashes.

A restore makes the directory's documents exactly the archive's: files it carries are written
(when different), documents it lacks are deleted.  The archive is read into memory and checked
whole before anything is written: only relative names without `..`, hidden parts or duplicates,
only regular files (no links, devices, FIFOs), sizes bounded, every file matching the manifest,
and the result must load as a site (with its credential files and admins.toml readable).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from spaprov.auth.admins import AdminAccounts, AdminAccountsError
from spaprov.auth.store import CredentialFileError, CredentialStore
from spaprov.config.errors import ConfigError
from spaprov.config.loader import load_profile_directory
from spaprov.fileio import atomic_write
from spaprov.transaction import locked

MANIFEST = ".spaprov-backup.json"
FORMAT = "spaprov-backup"
VERSION = 1
MAX_FILES = 200_000
MAX_FILE_BYTES = 16 << 20  # a site's biggest document is a few KiB
MAX_TOTAL_BYTES = 1 << 30
MAX_MANIFEST_BYTES = 64 << 20  # about 100 bytes per file listed


class BackupError(ValueError):
    """A backup that cannot be made, or an archive that cannot be restored: the message says why."""


@dataclass(frozen=True)
class Backup:
    files: dict[str, bytes]  # "devices/001122334455.toml" -> content
    skipped: list[str] = field(default_factory=list)  # symbolic links, with the reason


@dataclass
class Plan:
    """What a restore does to each document: created, replaced, deleted or unchanged."""

    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def changes(self) -> Iterator[tuple[str, str]]:
        for action, names in (("create", self.created), ("replace", self.replaced), ("delete", self.deleted)):
            for name in names:
                yield action, name

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.replaced)} replaced, "
            f"{len(self.deleted)} deleted, {len(self.unchanged)} unchanged"
        )


# -- the site's documents ---------------------------------------------------------------------------
def site_files(root: Path) -> Backup:
    """Every document of the directory (relative POSIX name -> bytes); symbolic links are
    skipped and reported (their target is outside what a restore may write)."""
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    for folder, directories, names in os.walk(root):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        relative = PurePosixPath(Path(folder).relative_to(root).as_posix())
        for directory in directories:
            if (Path(folder) / directory).is_symlink():
                skipped.append(f"{relative / directory}: a symbolic link to a directory")
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            label = str(relative / name) if str(relative) != "." else name
            status = path.lstat()
            if stat.S_ISLNK(status.st_mode):
                skipped.append(f"{label}: a symbolic link (back up its target yourself)")
            elif stat.S_ISREG(status.st_mode):
                files[label] = path.read_bytes()
    return Backup(files, skipped)


# -- writing an archive -----------------------------------------------------------------------------
def archive_bytes(files: dict[str, bytes], *, created: float | None = None) -> bytes:
    """The tar.gz of `files` with the manifest first; every member 0600, owned by 0:0."""
    when = int(created if created is not None else time.time())
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
        "files": {name: {"size": len(data), "sha256": _sha256(data)} for name, data in sorted(files.items())},
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        _add(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n", when)
        for name, data in sorted(files.items()):
            _add(archive, name, data, when)
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes, when: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, when
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    archive.addfile(info, io.BytesIO(data))


def back_up(root: Path, target: Path) -> Backup:
    """Write the backup of `root` to `target` (mode 0600, atomically), taken under the
    directory's writer lock so that no spaprov writer is half way through."""
    if _inside(target, root):
        raise BackupError(f"{target} is inside the profile directory {root}: write the backup elsewhere")
    with locked(root, who="spaprov backup"):
        backup = site_files(root)
    if "site.toml" not in backup.files:
        raise BackupError(f"{root} has no site.toml: not a profile directory")
    atomic_write(target, archive_bytes(backup.files), 0o600)
    return backup


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


# -- reading an archive -----------------------------------------------------------------------------
def read_archive(path: Path, *, max_file_bytes: int = MAX_FILE_BYTES) -> dict[str, bytes]:
    """The archive's documents, checked member by member and against its manifest; BackupError
    naming the member and the reason for anything else.  Nothing is extracted to disk."""
    files: dict[str, bytes] = {}
    manifest: dict[str, object] | None = None
    total = 0
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_FILES:
                    raise BackupError(f"{path}: more than {MAX_FILES} members")
                name = _checked_name(path, member)
                if member.isdir():
                    continue
                if not member.isreg():
                    raise BackupError(f"{path}: {member.name!r} is {_kind(member)}, not a regular file")
                limit = MAX_MANIFEST_BYTES if name == MANIFEST else max_file_bytes
                if member.size > limit:
                    raise BackupError(f"{path}: {name} is {member.size} bytes (at most {limit})")
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise BackupError(f"{path}: more than {MAX_TOTAL_BYTES} bytes in all")
                if name in files or (name == MANIFEST and manifest is not None):
                    raise BackupError(f"{path}: {name} appears twice")
                stream = archive.extractfile(member)
                data = stream.read() if stream is not None else b""
                if name == MANIFEST:
                    manifest = _manifest(path, data)
                else:
                    files[name] = data
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        if isinstance(error, BackupError):
            raise
        raise BackupError(f"{path}: not a readable tar.gz backup ({error})") from None
    if manifest is None:
        raise BackupError(f"{path}: no {MANIFEST}: not a spaprov backup")
    _match_manifest(path, manifest, files)
    return files


def _checked_name(path: Path, member: tarfile.TarInfo) -> str:
    raw = member.name
    posix = PurePosixPath(raw)
    parts = raw.split("/")
    if member.isdir():
        parts = [part for part in parts if part] or [""]
    if (
        not raw
        or posix.is_absolute()
        or "\\" in raw
        or "\0" in raw
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise BackupError(f"{path}: {raw!r} is not a relative name inside the directory")
    if raw != MANIFEST and any(part.startswith(".") for part in parts):
        raise BackupError(f"{path}: {raw!r} is a hidden file; a backup holds none (state, locks, journal)")
    return "/".join(parts)


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link (to {member.linkname!r})"
    if member.islnk():
        return f"a hard link (to {member.linkname!r})"
    if member.isfifo():  # before isdev(), which counts FIFOs as devices
        return "a FIFO"
    if member.isdev():
        return "a device file"
    return "a special member"


def _manifest(path: Path, data: bytes) -> dict[str, object]:
    try:
        manifest = json.loads(data)
    except ValueError:
        raise BackupError(f"{path}: {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: {MANIFEST} is not a spaprov backup manifest")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"{path}: backup format version {manifest.get('version')!r}; this spaprov reads {VERSION}"
        )
    if not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{path}: {MANIFEST} lists no files")
    return manifest


def _match_manifest(path: Path, manifest: dict[str, object], files: dict[str, bytes]) -> None:
    listed = manifest["files"]
    assert isinstance(listed, dict)
    missing = sorted(set(listed) - set(files))
    extra = sorted(set(files) - set(listed))
    if missing or extra:
        raise BackupError(
            f"{path}: the archive does not match its manifest (missing: {', '.join(missing) or 'none'};"
            f" not listed: {', '.join(extra) or 'none'}): truncated or altered"
        )
    for name, data in files.items():
        entry = listed[name]
        if not isinstance(entry, dict) or entry.get("sha256") != _sha256(data):
            raise BackupError(f"{path}: {name} does not match its checksum in the manifest: altered")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- restoring --------------------------------------------------------------------------------------
def check_site(files: dict[str, bytes]) -> None:
    """The archive's documents must make a site spaprov serves: BackupError listing what is wrong."""
    with tempfile.TemporaryDirectory(prefix="spaprov-restore-") as scratch:
        empty = Path(scratch) / "site"
        empty.mkdir()
        try:
            config = load_profile_directory(empty, overrides=files)
        except ConfigError as error:
            raise BackupError(f"the archive is not a site spaprov can serve:\n{error}") from None
        secrets = Path(scratch) / "secrets"  # hashes only; the directory is 0700, removed on return
        secrets.mkdir(mode=0o700)
        for name in ("credentials.htdigest", "credentials.htdigest.sha256", "admins.toml"):
            if name in files:
                (secrets / name).write_bytes(files[name])
                os.chmod(secrets / name, 0o600)
        try:
            CredentialStore(secrets / "credentials.htdigest", config.site.realm)
            AdminAccounts(secrets / "admins.toml").names()
        except (CredentialFileError, AdminAccountsError) as error:
            raise BackupError(f"the archive is not a site spaprov can serve: {error}") from None


def check_target(root: Path) -> None:
    """A restore deletes what the archive lacks, so it goes only into a profile directory (one
    with site.toml), an empty directory or a new one: never, by a slip, into a home directory."""
    if root.exists() and not root.is_dir():
        raise BackupError(f"{root} is not a directory")
    strangers = root.is_dir() and any(not entry.name.startswith(".") for entry in root.iterdir())
    if strangers and not (root / "site.toml").exists():
        raise BackupError(
            f"{root} is not empty and holds no site.toml, so it is not a profile directory: "
            "restore into a profile directory, an empty directory or a new one"
        )


def plan(root: Path, files: dict[str, bytes]) -> Plan:
    """What restoring `files` into `root` would do; BackupError when `root` is not a fit target."""
    check_target(root)
    current = site_files(root).files if root.is_dir() else {}
    result = Plan()
    for name, data in sorted(files.items()):
        if name not in current:
            result.created.append(name)
        elif current[name] != data:
            result.replaced.append(name)
        else:
            result.unchanged.append(name)
    result.deleted = sorted(set(current) - set(files))
    return result


def _refuse_links_on_the_way(root: Path, name: str) -> None:
    """A folder of the target that is a symbolic link would carry the write out of `root`."""
    folder = root
    for part in PurePosixPath(name).parts[:-1]:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise BackupError(
                f"{folder} is a symbolic link or not a directory: refusing to write {name} through it"
            )


def restore(root: Path, files: dict[str, bytes]) -> Plan:
    """Make `root`'s documents exactly `files`, in one journaled batch (created if need be)."""
    check_site(files)
    check_target(root)
    if not root.exists():  # a new site: only the server's user may look inside
        root.mkdir(mode=0o700, parents=True)
    with locked(root, who="spaprov restore") as transaction:
        result = plan(root, files)  # under the lock: what is there now
        for name in result.created + result.replaced:
            _refuse_links_on_the_way(root, name)
        batch: dict[str, bytes | None] = {name: files[name] for name in result.created + result.replaced}
        batch.update(dict.fromkeys(result.deleted))
        transaction.commit(batch)
    return result


__all__ = [
    "MANIFEST",
    "Backup",
    "BackupError",
    "Plan",
    "archive_bytes",
    "back_up",
    "check_site",
    "plan",
    "read_archive",
    "restore",
    "site_files",
]

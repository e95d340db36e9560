"""Secrets at rest: profile files holding SIP or host passwords should be readable by the
server's own user only.  spaprov writes its files 0600; files an administrator copied in with a
0644 umask are served anyway (refusing would take a site down over a chmod) but named in a
warning, with the fix."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from spaprov.config.schema import Config
from spaprov.fileio import open_to_others

log = logging.getLogger("spaprov.config")
WARN_AT_MOST = 20


def readable_secret_files(root: Path, config: Config) -> list[tuple[Path, int]]:
    """(file, mode) of every file holding a secret that group or others may read."""
    devices = {
        mac
        for mac, device in config.devices.items()
        if device.host_password or device.profile_key or any(line.password for line in device.content.lines)
    }
    profiles = {
        name
        for name, profile in config.em_profiles.items()
        if any(line.password for line in profile.content.lines)
    }
    found = []
    if mode := open_to_others(root / "admins.toml"):  # password hashes: worth guessing offline
        found.append((root / "admins.toml", mode))
    # os.scandir, no Path per file: at 100,000 phones this runs over 200,000 files at start-up.
    for folder, holders, key in (("devices", devices, str.lower), ("em_profiles", profiles, str)):
        try:
            entries = sorted(os.scandir(root / folder), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            stem, dot, suffix = entry.name.rpartition(".")
            if not dot or suffix != "toml" or key(stem) not in holders:
                continue
            try:
                mode = stat.S_IMODE(entry.stat().st_mode)
            except OSError:  # gone since the load
                continue
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                found.append((Path(entry.path), mode))
    return found


def readable_nonce_secret(root: Path, config: Config) -> tuple[Path, int] | None:
    """(file, mode) of `[auth] nonce_secret = "file:PATH"` when group or others may read it: with
    the secret, anyone can mint nonces the server takes for its own."""
    kind, _, name = config.site.auth.nonce_secret.partition(":")
    if kind != "file":
        return None
    path = (root / name).resolve()  # as spaprov.live.holder reads it
    mode = open_to_others(path)
    return (path, mode) if mode else None


def warn_readable_secrets(root: Path, config: Config) -> None:
    if (nonce := readable_nonce_secret(root, config)) is not None:
        log.warning(
            "%s holds the nonce secret and is readable by group or others (mode %04o): run chmod 600 %s",
            nonce[0],
            nonce[1],
            nonce[0],
        )
    found = readable_secret_files(root, config)
    for path, mode in found[:WARN_AT_MOST]:
        log.warning(
            "%s holds passwords and is readable by group or others (mode %04o): run chmod 600 %s",
            path,
            mode,
            path,
        )
    if len(found) > WARN_AT_MOST:  # a whole site copied in with a 0644 umask: one line, not 100,000
        log.warning(
            "... and %d more files holding passwords are readable by group or others: run chmod -R go-rwx %s",
            len(found) - WARN_AT_MOST,
            root,
        )

"""The profile directory kept in memory file by file, so that an edit costs what it changes.

A SiteTree reads the whole directory once (the same parsing and checks as
load_profile_directory), then follows changes: `refresh(labels)` re-reads only the files named,
and re-checks only the cross-references those files take part in (a device's host user against
the other devices and the users; a user's EM profiles; an EM profile's name against the devices).
`refresh(None)` finds the changed files itself by stat (one scandir of the directory, no file
read); `site.toml` re-reads the site and its routes, not the devices.

`config()` is the Config a full load of the directory would give, or the ConfigError with the
same problems in the same order: tests/config/test_tree_matches_full_load.py checks that over
random edit sequences.  Not thread-safe: one caller at a time (spaprov.live.holder serialises).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from spaprov.config.errors import ConfigError, Problem
from spaprov.config.fingerprint import combine, file_hash, scan
from spaprov.config.loader import (
    SourceDirectory,
    document_stem,
    load_site,
    missing_profile_keys,
    profile_name_problems,
    read_document,
    site_routes,
    user_reference_problems,
)
from spaprov.config.schema import Config, Device, EmProfile, Route, Site, User
from spaprov.transaction import JOURNAL, interrupted_message, pending_journal

log = logging.getLogger("spaprov.config")
FOLDERS = ("devices", "em_profiles", "users")  # the order a full load reports problems in
CREDENTIAL_FILES = ("credentials.htdigest", "credentials.htdigest.sha256")
Document = Device | User | EmProfile


class SiteTree:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._site: Site | None = None
        self._site_problems: tuple[Problem, ...] = ()
        self._routes: tuple[Route, ...] = ()
        self._route_problems: tuple[Problem, ...] = ()
        self._hashes: dict[str, int] = {}  # every file (spaprov.config.fingerprint.file_hash)
        self._total = 0
        # Per folder: file name -> (the document or None, its own problems); the names with problems.
        self._docs: dict[str, dict[str, tuple[Document | None, tuple[Problem, ...]]]] = {}
        self._failed: dict[str, set[str]] = {}
        # The documents as a full load's dicts hold them, and the indexes of their references.
        self._devices: dict[str, Device] = {}
        self._device_names = _Index()  # MAC -> file names (any case) that parse
        self._users: dict[str, User] = {}
        self._profiles: dict[str, EmProfile] = {}
        self._hosted = _Index()  # host user -> MACs of the devices naming it
        self._referrers = _Index()  # EM profile -> users listing it
        self._keyless: set[str] = set()  # MACs of the devices without a profile_key
        # Cross-reference problems, by the document they are reported on (only non-empty).
        self._cross: dict[str, dict[str, tuple[Problem, ...]]] = {}
        # What changed since the last Config was built from the dicts.
        self._config: Config | None = None
        self._keys_added = True
        self._dirty: dict[str, set[str]] = {}
        self._overrides: Mapping[str, bytes | None] = {}  # an edit being checked (check())
        self.rebuild()

    # -- reading --------------------------------------------------------------------------------------
    def rebuild(self) -> set[str]:
        """Read everything again (SIGHUP; the first load); the labels of the files seen."""
        self.__dict__.update(_empty_state(self.root))
        hashes = scan(self.root) if self.root.is_dir() else {}
        self._hashes, self._total = hashes, sum(hashes.values())
        self._read_site()
        for folder in FOLDERS:
            for name in sorted(self._folder_names(folder)):
                self._read_document(folder, name)
        self._check_all()
        return set(hashes)

    def reread_all(self) -> set[str]:
        """Read every file again (SIGHUP) in place: an unchanged document keeps its object, so the
        memory does not double while the served configuration still holds the old ones."""
        current = scan(self.root) if self.root.is_dir() else {}
        labels = set(current) | set(self._hashes)
        self._hashes, self._total = current, sum(current.values())
        self._apply(labels | {"site.toml"})
        return labels

    def refresh(
        self, labels: Iterable[str] | None = None, *, scanned: dict[str, int] | None = None
    ) -> set[str]:
        """Follow changes: re-read the files `labels` names ("devices/x.toml", "site.toml"; None:
        whatever a stat of every file finds changed: `scanned`, spaprov.config.fingerprint.scan's
        result, taken by the caller without holding up others, or a scan made now).  Returns the
        labels that did change."""
        if labels is None or not self.root.is_dir():
            changed = self._scan_changes(scanned)
        else:
            changed = set()
            for label in labels:
                if any(part.startswith(".") for part in label.split("/")):
                    continue  # temporaries, locks, the state database (the journal: see config())
                if self._is_directory(label):  # a folder came or went: look at everything
                    changed |= self._scan_changes()
                    continue
                # Re-read even when stat shows no change: the watcher saw a write, and a same-sized
                # rewrite within one tick of the file system's clock looks unchanged to stat.
                self._restat(label)
                changed.add(label)
        self._apply(changed)
        return changed

    def _apply(self, changed: set[str]) -> None:
        if not changed:
            return
        if "site.toml" in changed:
            self._read_site()
        touched: dict[str, set[str]] = {f: set() for f in FOLDERS}
        hosts: set[str] = set()
        for label in sorted(changed):
            folder, _, name = label.partition("/")
            if folder in touched and name and "/" not in name:
                self._reread(folder, name, touched, hosts)
        self._recheck(touched, hosts)

    def check(self, overrides: Mapping[str, bytes | None]) -> list[Problem]:
        """The problems the directory would have with `overrides` (label -> new content, None:
        deleted) laid over it, checked like a change of those files; the tree is left as it was."""
        labels = {label for label in overrides if not label.startswith(".")}
        self._overrides = overrides
        try:
            self._apply(labels)
            problems = self.problems()
            if not problems and self._site is None:
                problems = [Problem("site.toml", "", "could not be read")]
        finally:
            self._overrides = {}
            self._apply(labels)  # back to the files on disk
        return problems

    def _exists(self, label: str) -> bool:
        if label in self._overrides:
            return self._overrides[label] is not None
        return label in self._hashes

    @property
    def fingerprint(self) -> str:
        return combine(self._total, (self.root / JOURNAL).exists())

    def _scan_changes(self, scanned: dict[str, int] | None = None) -> set[str]:
        if scanned is None:
            scanned = scan(self.root) if self.root.is_dir() else {}
        changed = {label for label, value in scanned.items() if self._hashes.get(label) != value}
        changed |= self._hashes.keys() - scanned.keys()
        for label in changed:  # stat again: the scan may be older than an event followed since
            self._restat(label)
        return changed

    def _restat(self, label: str) -> bool:
        """Update one file's hash; whether it changed."""
        try:
            status = (self.root / label).stat()
        except OSError:
            status = None
        value = file_hash(label, status) if status is not None and stat.S_ISREG(status.st_mode) else None
        old = self._hashes.pop(label, None)
        if value is not None:
            self._hashes[label] = value
        self._total += (value or 0) - (old or 0)
        return value != old

    def _is_directory(self, label: str) -> bool:
        if label in self._hashes or ("/" in label and label.partition("/")[0] in FOLDERS):
            return (self.root / label).is_dir()  # a document's name: no need to look further
        prefix = label.rstrip("/") + "/"
        return (self.root / label).is_dir() or any(key.startswith(prefix) for key in self._hashes)

    def _folder_names(self, folder: str) -> set[str]:
        prefix = f"{folder}/"
        return {
            label[len(prefix) :]
            for label in self._hashes
            if label.startswith(prefix) and "/" not in label[len(prefix) :]
        }

    def _read_site(self) -> None:
        problems: list[Problem] = []
        self._site = load_site(SourceDirectory(self.root, self._overrides), problems)
        self._site_problems = tuple(problems)
        route_problems: list[Problem] = []
        self._routes = site_routes(self._site, route_problems) if self._site else ()
        self._route_problems = tuple(route_problems)

    def _read_document(self, folder: str, name: str, previous: Document | None = None) -> Document | None:
        problems: list[Problem] = []
        source = SourceDirectory(self.root, self._overrides)
        item: Document | None = read_document(source, folder, name, problems)
        if item is not None and item == previous:
            item = previous  # unchanged: one copy in memory, shared with the served Config
        self._docs[folder][name] = (item, tuple(problems))
        if problems:
            self._failed[folder].add(name)
        if item is None:
            return None
        if isinstance(item, Device):
            self._device_names.add(item.mac, name)
            if name == max(self._device_names.get(item.mac)):
                self._devices[item.mac] = item
        elif isinstance(item, User):
            self._users[item.user_id] = item
            for profile in item.em_profiles:
                self._referrers.add(profile, item.user_id)
        else:
            self._profiles[item.name] = item
        return item

    def _forget(self, folder: str, name: str) -> None:
        item, _ = self._docs[folder].pop(name, (None, ()))
        self._failed[folder].discard(name)
        if isinstance(item, Device):
            self._device_names.discard(item.mac, name)
            names = self._device_names.get(item.mac)
            if not names:
                del self._devices[item.mac]
            else:  # a file of the same MAC in another case is the one a full load keeps
                keep = max(names)
                kept = self._docs[folder][keep][0]
                assert isinstance(kept, Device)
                self._devices[item.mac] = kept
        elif isinstance(item, User):
            del self._users[item.user_id]
            for profile in item.em_profiles:
                self._referrers.discard(profile, item.user_id)
        elif isinstance(item, EmProfile):
            del self._profiles[item.name]

    def _reread(self, folder: str, name: str, touched: dict[str, set[str]], hosts: set[str]) -> None:
        """Re-read one document; note what its change may affect."""
        key = _key(folder, name)
        if key is None:  # a bad file name: its own problem only, no cross-reference
            self._docs[folder].pop(name, None)
            self._failed[folder].discard(name)
            if self._exists(f"{folder}/{name}"):
                self._read_document(folder, name)
            return
        before = self._current(folder, key)
        previous = self._docs[folder].get(name, (None, ()))[0]
        self._forget(folder, name)
        if self._exists(f"{folder}/{name}"):
            self._read_document(folder, name, previous)
        after = self._current(folder, key)
        if before is None and after is not None:
            self._keys_added = True
        touched[folder].add(key)
        self._dirty[folder].add(key)
        for item in (before, after):
            if isinstance(item, Device):
                hosts.add(item.host_user)
        if folder == "devices":  # the index of devices by host user follows the one a load keeps
            if isinstance(before, Device):
                self._hosted.discard(before.host_user, key)
            self._keyless.discard(key)
            if isinstance(after, Device):
                self._hosted.add(after.host_user, key)
                if not after.profile_key:
                    self._keyless.add(key)
        if folder == "users":
            hosts.add(key)  # devices whose host user is (or was) a mobility user
        if folder == "devices":
            touched["em_profiles"].add(key)  # an EM profile may not have a device's name
        if folder == "em_profiles":
            touched["users"] |= self._referrers.get(key)

    def _current(self, folder: str, key: str) -> Document | None:
        table: Mapping[str, Any] = (
            self._devices if folder == "devices" else self._users if folder == "users" else self._profiles
        )
        item: Document | None = table.get(key)
        return item

    # -- cross-references ---------------------------------------------------------------------------
    def _check_all(self) -> None:
        self._keyless = {mac for mac, device in self._devices.items() if not device.profile_key}
        for mac, device in self._devices.items():
            self._hosted.add(device.host_user, mac)
        self._recheck(
            {"devices": set(), "em_profiles": set(self._profiles), "users": set(self._users)},
            set(self._hosted.keys()),
        )

    def _recheck(self, touched: dict[str, set[str]], hosts: set[str]) -> None:
        for mac in touched["devices"]:  # (set again below, by host user: `hosts` has theirs)
            self._cross["devices"].pop(mac, None)
        for name in touched["em_profiles"]:
            self._set_cross("em_profiles", name, profile_name_problems(name, self._profiles, self._devices))
        for user_id in touched["users"]:
            problems = user_reference_problems(self._users.get(user_id), self._profiles)
            self._set_cross("users", user_id, problems)
        for host in hosts:
            for mac, problems in self._host_problems(host).items():
                self._set_cross("devices", mac, problems)

    def _set_cross(self, folder: str, key: str, problems: tuple[Problem, ...]) -> None:
        if problems:
            self._cross[folder][key] = problems
        else:
            self._cross[folder].pop(key, None)

    def _host_problems(self, host: str) -> dict[str, tuple[Problem, ...]]:
        """The cross-reference problems of every device naming `host` as its host user."""
        macs = sorted(self._hosted.get(host), key=self._position)
        found: dict[str, tuple[Problem, ...]] = {}
        for index, mac in enumerate(macs):
            problems = []
            label = f"devices/{mac}.toml"
            if index:
                problems.append(
                    Problem(label, "host_user", f"{host!r} is already the host user of {macs[0]}")
                )
            if host in self._users:
                problems.append(
                    Problem(
                        label,
                        "host_user",
                        f"{host!r} is also a mobility user; host users are the phone's own",
                    )
                )
            found[mac] = tuple(problems)
        return found

    def _position(self, mac: str) -> str:
        """Where a full load puts a device: the first of its files in name order."""
        return self._device_names.first(mac)

    # -- the result -----------------------------------------------------------------------------------
    def problems(self) -> list[Problem]:
        """Every problem of the directory, in the order a full load reports them."""
        found = list(self._site_problems)
        for folder in FOLDERS:
            for name in sorted(self._failed[folder]):
                found += self._docs[folder][name][1]
        found += self._route_problems
        for name in sorted(self._cross["em_profiles"], key=_file_name):
            found += self._cross["em_profiles"][name]
        for user_id in sorted(self._cross["users"], key=_file_name):
            found += self._cross["users"][user_id]
        for mac in sorted(self._cross["devices"], key=self._position):
            found += self._cross["devices"][mac]
        if self._keyless and any(route.encrypted for route in self._routes):
            keyless = [self._devices[mac] for mac in sorted(self._keyless, key=self._position)]
            found += missing_profile_keys(self._routes, keyless)
        return found

    def config(self) -> Config:
        """The configuration of the directory as last read; ConfigError as a full load raises it."""
        if not self.root.is_dir():
            raise ConfigError([Problem(str(self.root), "", "is not a directory")])
        if pending_journal(self.root):
            raise ConfigError([Problem(JOURNAL, "", interrupted_message(self.root))])
        problems = self.problems()
        if problems or self._site is None:
            raise ConfigError(problems or [Problem("site.toml", "", "could not be read")])
        last = self._config
        if last is None or self._keys_added:
            devices = _sorted(self._devices, self._position)
            users, profiles = _sorted(self._users, _file_name), _sorted(self._profiles, _file_name)
        else:  # the last configuration's dicts (in a full load's order), patched where changed
            devices = _patched(last.devices, self._devices, self._dirty["devices"])
            users = _patched(last.users, self._users, self._dirty["users"])
            profiles = _patched(last.em_profiles, self._profiles, self._dirty["em_profiles"])
        self._config = Config(
            self._site,
            MappingProxyType(devices),
            MappingProxyType(users),
            MappingProxyType(profiles),
            self._routes,
            self.fingerprint,
        )
        self._keys_added = False
        self._dirty = {f: set() for f in FOLDERS}
        return self._config


def _key(folder: str, name: str) -> str | None:
    """The dict key a document file gives (a device's canonical MAC), or None for a bad name."""
    stem = document_stem(folder, name, [])
    if stem is None:
        return None
    return stem.lower() if folder == "devices" else stem


def _file_name(key: str) -> str:
    return key + ".toml"


def _sorted(table: dict[str, Any], key: Any) -> dict[str, Any]:
    return {k: table[k] for k in sorted(table, key=key)}


def _patched(last: Mapping[str, Any], current: dict[str, Any], dirty: set[str]) -> dict[str, Any]:
    """A copy of `last` with the `dirty` keys taken from `current` (none of them new)."""
    table = dict(last)
    for key in dirty:
        if key in current:
            table[key] = current[key]
        else:
            table.pop(key, None)
    return table


def _empty_state(root: Path) -> dict[str, Any]:
    return {
        "_hashes": {},
        "_total": 0,
        "_docs": {f: {} for f in FOLDERS},
        "_failed": {f: set() for f in FOLDERS},
        "_devices": {},
        "_device_names": _Index(),
        "_users": {},
        "_profiles": {},
        "_hosted": _Index(),
        "_referrers": _Index(),
        "_keyless": set(),
        "_cross": {f: {} for f in FOLDERS},
        "_config": None,
        "_keys_added": True,
        "_dirty": {f: set() for f in FOLDERS},
    }


def changed_labels(root: Path, paths: Collection[str]) -> set[str]:
    """Paths a watcher reported, as labels of files of `root` (others dropped)."""
    base = os.path.realpath(root)
    labels = set()
    for path in paths:
        relative = os.path.relpath(os.path.realpath(path), base)
        if relative != "." and not relative.startswith(".."):
            labels.add(relative.replace(os.sep, "/"))
    return labels


class _Index:
    """key -> a set of strings, lean on memory: a single value (the usual case: one device per
    host user, one user per EM profile) is kept as the bare string, not in a set of its own."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        self._map: dict[str, str | set[str]] = {}

    def add(self, key: str, value: str) -> None:
        old = self._map.get(key)
        if old is None:
            self._map[key] = value
        elif isinstance(old, str):
            if old != value:
                self._map[key] = {old, value}
        else:
            old.add(value)

    def discard(self, key: str, value: str) -> None:
        old = self._map.get(key)
        if old is None:
            return
        if isinstance(old, str):
            if old == value:
                del self._map[key]
            return
        old.discard(value)
        if len(old) == 1:
            self._map[key] = next(iter(old))

    def get(self, key: str) -> set[str]:
        old = self._map.get(key)
        if old is None:
            return set()
        return {old} if isinstance(old, str) else set(old)

    def first(self, key: str) -> str:
        old = self._map[key]
        return old if isinstance(old, str) else min(old)

    def keys(self) -> Iterable[str]:
        return self._map.keys()

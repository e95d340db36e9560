"""The live configuration: swapped whole on a good reload, kept on a refused one (the reload
itself is spaprov.live.reload.reload_now).  Its generation and the problems of refused reloads
are the site's (spaprov.live.site_record): shared by every worker of `serve --workers`."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from spaprov.auth import CredentialFileError, CredentialStore, DigestAuthenticator
from spaprov.clock import Clock
from spaprov.config import Config, ConfigError, Problem
from spaprov.config.file_modes import warn_readable_secrets
from spaprov.config.fingerprint import scan
from spaprov.config.routes import RouteMatcher
from spaprov.config.schema import Route
from spaprov.config.tree import CREDENTIAL_FILES, SiteTree
from spaprov.live.site_record import Record, SiteRecord, open_site_record

log = logging.getLogger("spaprov.config")
WORKER_NONCE_SECRET_ENV = "SPAPROV_WORKER_NONCE_SECRET"
# With --workers the parent's start time: nonces issued before it are stale on every worker.
SERVER_STARTED_ENV = "SPAPROV_SERVER_STARTED"
FIRST_LOAD_ATTEMPTS = 5


class Prepared(NamedTuple):
    """A loaded, validated directory, and the site generation current when its loading began."""

    config: Config
    store: CredentialStore
    seen: int


class ConfigHolder:
    def __init__(
        self,
        root: Path,
        clock: Clock,
        on_swap: Callable[[], None] | None = None,
        on_auth_event: Callable[[str, str, str], None] | None = None,
        record: SiteRecord | None = None,
    ) -> None:
        self.root = root
        self._record = record if record is not None else open_site_record()
        self._clock = clock
        self._on_swap = on_swap
        self._on_auth_event = on_auth_event
        # "random": one per server, kept across reloads; with --workers the parent draws it and
        # hands it to every worker, so a nonce from one worker is good on another.
        shared = os.environ.get(WORKER_NONCE_SECRET_ENV, "")
        self._random_secret = bytes.fromhex(shared) if shared else secrets.token_bytes(32)
        self.generation = 0  # the site generation this process serves (0: none yet published)
        self.reloads = 0
        self.reload_failures = 0
        # The fingerprint of the last load tried, installed or refused: the watcher reloads when
        # the directory differs from it (a refused change is tried, and logged, once).
        self._attempted = ""
        self._attempting = ""
        self._seen = self._published = 0
        # The directory as last read, file by file: a reload re-reads only the changed files.
        # One reader at a time (reloads run in worker threads; an API edit checks against it).
        self._tree: SiteTree | None = None
        self._tree_lock = threading.Lock()
        self._latest_store: CredentialStore | None = None  # the last one read, installed or not
        self._credentials_changed = True
        # The first load must succeed (raise ConfigError otherwise).  If other workers keep
        # publishing newer generations meanwhile, serve it unpublished as generation 0: behind(),
        # so the first phone request catches up.
        for _ in range(FIRST_LOAD_ATTEMPTS):
            seen = self._record.read().generation
            config, store = self._load()
            if self._publish(config, seen):
                break
        else:
            log.warning("other workers kept publishing while this one started; catching up")
        self._install(config, store)

    # -- reading the current state ------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self._config

    @property
    def credentials(self) -> CredentialStore:
        return self._store

    @property
    def authenticator(self) -> DigestAuthenticator:
        return self._authenticator

    def match(self, path: str, query: str = "") -> tuple[Route, str | None] | None:
        """The route serving `path` and the MAC it (or its `query`) carries, if any."""
        return self._routes.match(path, query)

    @property
    def site(self) -> Record:
        """The site's record: its generation and the problems of the directory as it is now."""
        return self._record.read()

    def behind(self) -> bool:
        """Whether a newer generation has been published (by another worker) than this one serves."""
        return self._record.read().generation > self.generation

    # -- reloading ----------------------------------------------------------------------------------
    def settle(self, current: str) -> bool:
        """On the event loop, with the directory's `current` fingerprint: True when a reload must
        run.  A directory back to exactly the served configuration needs none, and the problems
        of the refused reloads in between no longer describe it: they are cleared."""
        if current == self._attempted:
            return False
        if current != self._config.fingerprint:
            return True
        if self.behind():
            return True
        self._attempted = current

        cleared = False

        def clear(record: Record) -> Record | None:
            nonlocal cleared
            cleared = record.fingerprint == current and bool(record.problems)
            return replace(record, problems=()) if cleared else None

        if self._record.read().problems:
            self._record.change(clear)
            if cleared:  # one line for the site, from the worker that cleared them
                log.info("directory is back to the served configuration (generation %d)", self.generation)
        return False

    def observe(self, changed: Iterable[str] | None) -> str:
        """Follow the files `changed` names (None: find them by stat) without installing anything;
        the directory's fingerprint now (for settle).  Blocking: run it in a worker thread."""
        # The stat of every file (a second or more at 100,000 phones) without the lock, so that
        # an edit followed meanwhile does not wait for it.
        scanned = scan(self.root) if changed is None and self.root.is_dir() else None
        with self._tree_lock:
            tree = self._current_tree()
            self._note(tree.refresh(changed, scanned=scanned))
            return tree.fingerprint

    def tree_matches_site(self) -> bool:
        """Whether the files this process has read are those the site's newest generation was
        loaded from (then catching up with it needs no look at the directory)."""
        tree = self._tree  # no lock: called on the event loop, and reading one number is safe
        return tree is not None and tree.fingerprint == self._record.read().fingerprint

    def check_edit(self, overrides: Mapping[str, bytes | None]) -> list[Problem]:
        """The problems the directory would have with `overrides` laid over it: the changed
        documents and the cross-references they take part in, against the files as last read."""
        with self._tree_lock:
            return self._current_tree().check(overrides)

    def prepare(self, changed: Iterable[str] | None = None, *, full: bool = False) -> Prepared:
        """Load and validate (no shared state touched: may run in a worker thread).  `changed`:
        the files to re-read (None: those stat finds changed); `full`: read everything again."""
        self.reloads += 1
        seen = self._seen = self._record.read().generation
        config, store = self._load(changed, full=full)
        return Prepared(config, store, seen)

    def refuse(self, error: ConfigError) -> None:
        self._refuse([str(problem) for problem in error.problems])

    def commit(self, prepared: Prepared) -> bool:
        """Install `prepared` unless another worker published a newer generation while it loaded
        (False: load again; a phone must never get an older configuration after a newer one)."""
        config, store, seen = prepared
        if not self._publish(config, seen):
            return False
        self._install(config, store)
        log.info(
            "configuration reloaded: generation %d, %d devices, %d users",
            self.generation,
            len(config.devices),
            len(config.users),
        )
        return True

    def _publish(self, config: Config, seen: int) -> bool:
        """Give `config` its site generation: the record's if another worker already published
        the same directory, the next one if nobody published since `seen`; else it is stale."""

        def publish(record: Record) -> Record | None:
            if record.fingerprint == config.fingerprint:
                return replace(record, problems=()) if record.problems else None
            if record.generation != seen:
                return None
            return Record(record.generation + 1, config.fingerprint, ())

        record = self._record.change(publish)
        if record.fingerprint != config.fingerprint:
            return False
        self._published = record.generation
        return True

    def _refuse(self, problems: list[str]) -> None:
        self._attempted = self._attempting
        self.reload_failures += 1
        seen, attempted = self._seen, self._attempting

        def describe(record: Record) -> Record | None:
            # Only if these problems still describe the directory as this process last read it
            # (a fix another worker saw meanwhile is cleared by settle() once this one sees it
            # too) and no newer generation came meanwhile.
            current = record.generation == seen and self._fingerprint() == attempted
            return replace(record, problems=tuple(problems)) if current else None

        self._record.change(describe)
        log.error(
            "configuration reload refused; still serving generation %d:\n  %s",
            self.generation,
            "\n  ".join(problems),
        )

    def _load(
        self, changed: Iterable[str] | None = None, *, full: bool = False
    ) -> tuple[Config, CredentialStore]:
        with self._tree_lock:
            first = self._tree is None
            if first:
                tree = self._tree = SiteTree(self.root)
                self._credentials_changed = True
            elif full:
                tree = self._current_tree()
                tree.reread_all()
                self._credentials_changed = True
            else:
                tree = self._current_tree()
                self._note(tree.refresh(changed))
            self._attempting = tree.fingerprint  # each file is stat'ed before it is read
            config = tree.config()
            if first or full:
                warn_readable_secrets(self.root, config)
            store = self._latest_store
            if store is None or self._credentials_changed or store.realm != config.site.realm:
                try:
                    store = CredentialStore(self.root / "credentials.htdigest", config.site.realm)
                except CredentialFileError as error:
                    raise ConfigError(
                        [Problem(error.path.name, f"line {error.line}" if error.line else "", error.reason)]
                    ) from None
                self._latest_store, self._credentials_changed = store, False
        self._nonce_secret(config)  # validate the secret source before installing anything
        return config, store

    def _current_tree(self) -> SiteTree:
        if self._tree is None:
            self._tree = SiteTree(self.root)
        return self._tree

    def _note(self, changed: set[str]) -> None:
        """Credentials are re-read when their files change (the site's realm: see _load)."""
        if not changed.isdisjoint(CREDENTIAL_FILES):
            self._credentials_changed = True

    def _fingerprint(self) -> str:
        """On the event loop: no lock (a reload may hold it for long), reading one number is safe."""
        tree = self._tree
        return tree.fingerprint if tree is not None else ""

    def _install(self, config: Config, store: CredentialStore) -> None:
        previous = getattr(self, "_config", None)
        self._config = config
        self._store = store
        self._routes = RouteMatcher(config.routes)
        if previous is None or (previous.site.realm, previous.site.auth) != (
            config.site.realm,
            config.site.auth,
        ):
            auth, secret = config.site.auth, self._nonce_secret(config)
            if previous is None:
                self._authenticator = DigestAuthenticator(
                    config.site.realm,
                    _CurrentCredentials(self),
                    secret,
                    clock=self._clock,
                    on_event=self._on_auth_event,
                    replay_since=_server_started(),
                )
            # In place, also on a reload: the replay table and the lockouts must survive it.
            self._authenticator.reconfigure(
                config.site.realm,
                secret,
                nonce_lifetime=auth.nonce_lifetime,
                allow_rfc2069=auth.allow_rfc2069,
                max_failures=auth.max_failures,
                failure_window=auth.failure_window,
                lockout=auth.lockout,
            )
        self.generation = self._published
        self._attempted = config.fingerprint
        if self._on_swap is not None:
            self._on_swap()

    def _nonce_secret(self, config: Config) -> bytes:
        source = config.site.auth.nonce_secret
        if source == "random":
            return self._random_secret
        kind, _, name = source.partition(":")
        if kind == "env":
            value = os.environ.get(name, "").encode()
            where = f"environment variable {name}"
        else:
            path = (self.root / name).resolve()
            try:
                value = path.read_bytes().strip()
            except OSError as error:
                raise ConfigError(
                    [Problem("site.toml", "auth.nonce_secret", f"cannot read {path}: {error}")]
                ) from None
            where = str(path)
        if len(value) < 16:
            raise ConfigError(
                [Problem("site.toml", "auth.nonce_secret", f"{where} must hold at least 16 bytes")]
            )
        return value


class _CurrentCredentials:
    """Lets a long-lived authenticator see the credential store of the current generation."""

    def __init__(self, holder: ConfigHolder) -> None:
        self._holder = holder

    def ha1(self, username: str, algorithm: str) -> str | None:
        return self._holder.credentials.ha1(username, algorithm)


def _server_started() -> float | None:
    """The --workers parent's start time (None for a single process: it uses its own)."""
    value = os.environ.get(SERVER_STARTED_ENV, "")
    try:
        return float(value) if value else None
    except ValueError:
        return None

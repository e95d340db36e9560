"""The live configuration: swapped whole on a good reload, kept on a refused one (the reload
itself is spaprov.live.reload.reload_now)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from spaprov.auth import CredentialFileError, CredentialStore, DigestAuthenticator
from spaprov.clock import Clock
from spaprov.config import Config, ConfigError, Problem, fingerprint, load_profile_directory
from spaprov.config.routes import RouteMatcher
from spaprov.config.schema import Route

log = logging.getLogger("spaprov.config")
WORKER_NONCE_SECRET_ENV = "SPAPROV_WORKER_NONCE_SECRET"


class ConfigHolder:
    def __init__(
        self,
        root: Path,
        clock: Clock,
        on_swap: Callable[[], None] | None = None,
        on_auth_event: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.root = root
        self._clock = clock
        self._on_swap = on_swap
        self._on_auth_event = on_auth_event
        # "random": one per server, kept across reloads; with --workers the parent draws it and
        # hands it to every worker, so a nonce from one worker is good on another.
        shared = os.environ.get(WORKER_NONCE_SECRET_ENV, "")
        self._random_secret = bytes.fromhex(shared) if shared else secrets.token_bytes(32)
        self.generation = 0
        self.reload_problems: tuple[str, ...] = ()
        self.reloads = 0
        self.reload_failures = 0
        # The fingerprint of the last load tried, installed or refused: the watcher reloads when
        # the directory differs from it (a refused change is tried, and logged, once).
        self._attempted = ""
        self._attempting = ""
        config, store = self._load()  # the first load must succeed: raise ConfigError otherwise
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

    def match(self, path: str) -> tuple[Route, str | None] | None:
        """The route serving `path` and the MAC it carries, if any."""
        return self._routes.match(path)

    # -- reloading ----------------------------------------------------------------------------------
    def settle(self, current: str) -> bool:
        """On the event loop, with the directory's `current` fingerprint: True when a reload must
        run.  A directory back to exactly the served configuration needs none, and the problems
        of the refused reloads in between no longer describe it: they are cleared."""
        if current == self._attempted:
            return False
        if current != self._config.fingerprint:
            return True
        self._attempted = current
        if self.reload_problems:
            self.reload_problems = ()
            log.info("directory is back to the served configuration (generation %d)", self.generation)
        return False

    def prepare(self) -> tuple[Config, CredentialStore]:
        """Load and validate (slow, no shared state touched: may run in a worker thread)."""
        self.reloads += 1
        self._attempting = fingerprint(self.root)  # before reading: a write during it reloads again
        return self._load()

    def refuse(self, error: ConfigError) -> None:
        self._refuse([str(problem) for problem in error.problems])

    def commit(self, prepared: tuple[Config, CredentialStore]) -> None:
        config, store = prepared
        self._install(config, store)
        log.info(
            "configuration reloaded: generation %d, %d devices, %d users",
            self.generation,
            len(config.devices),
            len(config.users),
        )

    def _refuse(self, problems: list[str]) -> None:
        self._attempted = self._attempting
        self.reload_failures += 1
        self.reload_problems = tuple(problems)
        log.error(
            "configuration reload refused; still serving generation %d:\n  %s",
            self.generation,
            "\n  ".join(problems),
        )

    def _load(self) -> tuple[Config, CredentialStore]:
        config = load_profile_directory(self.root)
        try:
            store = CredentialStore(self.root / "credentials.htdigest", config.site.realm)
        except CredentialFileError as error:
            raise ConfigError(
                [Problem(error.path.name, f"line {error.line}" if error.line else "", error.reason)]
            ) from None
        self._nonce_secret(config)  # validate the secret source before installing anything
        return config, store

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
        self.generation += 1
        self._attempted = config.fingerprint
        self.reload_problems = ()
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

"""HTTP Digest verification (RFC 7616, with RFC 2069 responses only when a site enables them).

`DigestAuthenticator.authenticate()` takes the method, the request target, the Authorization
header and the client address, and says what to answer: OK with the identity, a challenge
(optionally stale), 429 during a lockout, or 400 for a malformed header.  Pure: no aiohttp.

Shared with other workers (`attach_shared`, see spaprov.auth.shared_state): a right answer on a
nonce's first use in this process comes back as CLAIM (the caller awaits `settle_claim`), and a
failure carries a PendingFailure (the caller awaits `settle_failure` before answering).  Every
other request, a phone's resync included, is decided here without any I/O.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from spaprov.auth.header import AuthHeaderError, DigestCredentials, build_challenge, parse_authorization
from spaprov.auth.log_limit import RateLimitedLog
from spaprov.auth.nonce import NonceFactory, NonceState
from spaprov.auth.replay import ReplayGuard, ReplayVerdict
from spaprov.auth.shared_state import PendingFailure, SharedAuth
from spaprov.auth.throttle import FailureThrottle
from spaprov.clock import Clock

log = logging.getLogger("spaprov.auth")

# RFC 7616 names → hash constructors.  Preference order for challenges: strongest first (§3.7).
ALGORITHMS: dict[str, Callable[[bytes], Any]] = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}


class CredentialLookup(Protocol):
    def ha1(self, username: str, algorithm: str) -> str | None:
        """Hex H(username:realm:password) for `algorithm` ("MD5" or "SHA-256"), or None."""
        ...


class Verdict(enum.Enum):
    OK = 200
    CHALLENGE = 401
    LOCKED = 429
    BAD_REQUEST = 400
    CLAIM = 0  # right, but the nonce must first be claimed in the shared store (settle_claim)


class AuthResult(NamedTuple):
    verdict: Verdict
    identity: str | None = None
    stale: bool = False
    retry_after: int | None = None
    reason: str = ""  # for the log: never a secret
    nonce: str = ""  # CLAIM: the nonce to claim
    issued: float = 0.0  # CLAIM: its issue time
    pending: PendingFailure | None = None  # a failure on its way to the shared count


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    return str(ALGORITHMS[algorithm](f"{username}:{realm}:{password}".encode()).hexdigest())


def canonical_algorithm(name: str) -> str | None:
    """ "SHA-256" or "MD5" for any spelling of them (algorithm names are case-insensitive)."""
    upper = name.upper()
    return upper if upper in ALGORITHMS else None


def expected_response(credentials: DigestCredentials, ha1_hex: str, method: str) -> str:
    """The response a client knowing the password computes (RFC 7616 §3.4.1; RFC 2069 without qop)."""
    algorithm = canonical_algorithm(credentials.algorithm)
    if algorithm is None:
        raise ValueError(f"unsupported Digest algorithm {credentials.algorithm!r}")
    return _response(ALGORITHMS[algorithm], credentials, ha1_hex, method)


def _response(hash_function: Callable[[bytes], Any], c: DigestCredentials, ha1_hex: str, method: str) -> str:
    ha2 = hash_function(f"{method}:{c.uri}".encode()).hexdigest()
    if c.qop is None:
        return str(hash_function(f"{ha1_hex}:{c.nonce}:{ha2}".encode()).hexdigest())
    return str(hash_function(f"{ha1_hex}:{c.nonce}:{c.nc}:{c.cnonce}:{c.qop}:{ha2}".encode()).hexdigest())


def _ascii(c: DigestCredentials) -> bool:
    """Every field that is hashed or compared with compare_digest is ASCII (the username is only
    looked up; non-ASCII in the others raised TypeError/UnicodeEncodeError, a 500)."""
    return (
        c.response.isascii()
        and c.nonce.isascii()
        and c.uri.isascii()
        and c.realm.isascii()
        and c.algorithm.isascii()
        and (c.cnonce is None or c.cnonce.isascii())
        and (c.opaque is None or c.opaque.isascii())
        and (c.qop is None or c.qop.isascii())
    )


class DigestAuthenticator:
    def __init__(
        self,
        realm: str,
        credentials: CredentialLookup,
        secret: bytes,
        *,
        clock: Clock,
        nonce_lifetime: float = 300.0,
        allow_rfc2069: bool = False,
        max_failures: int = 5,
        failure_window: float = 300.0,
        lockout: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        on_event: Callable[[str, str, str], None] | None = None,
        replay_since: float | None = None,
    ) -> None:
        self._credentials = credentials
        self._replays = ReplayGuard(clock, nonce_lifetime, started=replay_since)
        self.throttle = FailureThrottle(
            clock, max_failures=max_failures, window=failure_window, cooldown=lockout, known=self._known
        )
        # Wrong passwords proven outside a Digest header (/em/password's current password): a
        # Digest success must not reset their count, since that page needs one to be reached.
        self._proofs = FailureThrottle(
            clock, max_failures=max_failures, window=failure_window, cooldown=lockout, known=self._known
        )
        self._clock = clock
        self._on_event = on_event
        self.shared: SharedAuth | None = None
        self._failure_log = RateLimitedLog(log)  # a flood of bad attempts is summarised, not a line each
        self.reconfigure(
            realm,
            secret,
            nonce_lifetime=nonce_lifetime,
            allow_rfc2069=allow_rfc2069,
            max_failures=max_failures,
            failure_window=failure_window,
            lockout=lockout,
            algorithms=algorithms,
        )

    def reconfigure(
        self,
        realm: str,
        secret: bytes,
        *,
        nonce_lifetime: float = 300.0,
        allow_rfc2069: bool = False,
        max_failures: int = 5,
        failure_window: float = 300.0,
        lockout: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        """New settings (a reload that changed [auth] or the realm).  The replay table and the
        failure counters and lockouts are kept: a reload must not let a used header replay or
        a locked-out guesser start again."""
        unknown = [a for a in algorithms if a not in ALGORITHMS]
        if unknown or not algorithms:
            raise ValueError(f"unsupported Digest algorithms {unknown}; use {list(ALGORITHMS)}")
        self.realm = realm
        self.algorithms = algorithms
        self.allow_rfc2069 = allow_rfc2069
        self._nonces = NonceFactory(secret, self._clock, nonce_lifetime)
        self._replays.configure(nonce_lifetime)
        self.throttle.configure(max_failures=max_failures, window=failure_window, cooldown=lockout)
        self._proofs.configure(max_failures=max_failures, window=failure_window, cooldown=lockout)
        self._limits = (max_failures, failure_window, lockout, nonce_lifetime)
        if self.shared is not None:
            self.shared.configure(
                max_failures=max_failures,
                window=failure_window,
                lockout=lockout,
                nonce_lifetime=nonce_lifetime,
            )
        self._opaque = self._nonces.opaque(realm)
        # Unknown users are checked against this, so they cost the same as known ones.
        self._decoy = {a: ha1(a, secrets.token_hex(8), realm, secrets.token_hex(16)) for a in ALGORITHMS}

    def attach_shared(self, shared: SharedAuth | None) -> None:
        """Share replay claims and failure counts with other workers (None: this process only)."""
        self.shared = shared
        if shared is not None:
            max_failures, window, lockout, nonce_lifetime = self._limits
            shared.configure(
                max_failures=max_failures, window=window, lockout=lockout, nonce_lifetime=nonce_lifetime
            )

    async def settle_claim(self, result: AuthResult, client: str) -> AuthResult:
        """The final answer for a CLAIM result: OK when this worker now owns the nonce, else a
        stale challenge (another worker admitted it: a replay, or a phone that moved)."""
        assert self.shared is not None and result.identity is not None
        owned = await self.shared.claim(result.nonce, result.issued, result.identity, client)
        if owned is True:
            self.throttle.succeeded(result.identity, client)
            return result._replace(verdict=Verdict.OK)
        if owned is not False:  # locked out by another worker since this one's last poll
            return self._locked_by_shared(result.identity, client, owned)
        self._replays.foreign(result.nonce)
        return AuthResult(Verdict.CHALLENGE, stale=True, reason="nonce admitted by another worker")

    async def settle_failure(self, pending: PendingFailure) -> AuthResult | None:
        """Wait until a failure is in the shared count; lock here at once if it started a lockout
        (the other workers see it at their next poll of the lockouts).  A LOCKED answer when the
        pair was already locked out when this failure was counted: a guess past max_failures is
        refused, never answered as checked, whichever worker it reached."""
        place, until = await asyncio.wrap_future(pending.future)
        if until is None:
            return None
        self.throttle.lock(pending.name, pending.client, until)
        if place <= self.throttle.max_failures:
            return None
        return self._locked_by_shared(pending.name, pending.client, until)

    def _locked_by_shared(self, user: str, client: str, until: float) -> AuthResult:
        self.throttle.lock(user, client, until)
        retry_after = self.throttle.retry_after(user, client) or max(1, math.ceil(until - self._clock()))
        return AuthResult(Verdict.LOCKED, retry_after=retry_after, reason="locked out (another worker)")

    def apply_lockouts(self, lockouts: list[tuple[str, str, float]]) -> None:
        """Lockouts read from the shared store (every worker polls them)."""
        for name, client, until in lockouts:
            self.throttle.lock(name, client, until)

    def count_failure(self, user: str, client: str, reason: str) -> PendingFailure | None:
        """Count a failed proof of the password made outside a Digest header (a wrong current
        password on /em/password) toward the same lockout of (user, client)."""
        pending = self._failure(user, client, reason, audit=False).pending
        if self._proofs.failed(user, client) and self.throttle.retry_after(user, client) is None:
            self.throttle.lock(user, client, self._clock() + self.throttle.cooldown)
            log.warning("digest auth: user=%r client=%s now locked out (%s)", user[:64], client, reason)
            if self._on_event is not None:
                self._on_event("lockout", user, client)
        return pending

    def _known(self, user: str) -> bool:
        """A user with a password: its failure counter must never be forgotten (FailureThrottle)."""
        lookup = self._credentials.ha1
        return lookup(user, "MD5") is not None or lookup(user, "SHA-256") is not None

    def challenges(self, *, stale: bool = False, algorithms: tuple[str, ...] | None = None) -> list[str]:
        """WWW-Authenticate values, strongest algorithm first, sharing one fresh nonce."""
        nonce = self._nonces.issue()
        return [
            build_challenge(self.realm, nonce, self._opaque, algorithm, stale=stale, qop=True)
            for algorithm in (algorithms or self.algorithms)
        ]

    def authenticate(self, method: str, target: str, header: str | None, client: str) -> AuthResult:
        if header is None:
            return AuthResult(Verdict.CHALLENGE, reason="no credentials")
        try:
            credentials = parse_authorization(header)
        except AuthHeaderError as error:
            return AuthResult(Verdict.BAD_REQUEST, reason=str(error))
        user = credentials.username
        if not user.isascii():  # lone surrogates (raw 0x80-0xFF bytes) break logs and the audit
            user = user.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        retry_after = self.throttle.retry_after(user, client)
        if retry_after is not None:
            return AuthResult(Verdict.LOCKED, retry_after=retry_after, reason="locked out")
        if not _ascii(credentials):  # hashed or compared as bytes: refuse, and count the attempt
            return self._failure(user, client, "non-ASCII Digest parameter")
        algorithm = canonical_algorithm(credentials.algorithm)
        refusal = self._refusal(credentials, algorithm, target)
        if refusal is not None or algorithm is None:
            return self._failure(user, client, refusal or "unsupported algorithm")
        issued = self._replays.issued(credentials.nonce)  # already verified: skip the HMAC
        first_use = issued is None
        if issued is not None:
            nonce_state = self._nonces.state_at(issued)
        else:
            nonce_state, issued = self._nonces.check(credentials.nonce)
        if nonce_state is NonceState.FORGED:
            return self._failure(user, client, "nonce not issued by this server")
        stored = self._credentials.ha1(user, algorithm)
        known = stored is not None
        reference = self._decoy[algorithm] if stored is None else stored
        expected = _response(ALGORITHMS[algorithm], credentials, reference, method)
        if not (hmac.compare_digest(expected, credentials.response.lower()) and known):
            return self._failure(user, client, "wrong password" if known else "unknown user")
        if nonce_state is NonceState.STALE:
            return AuthResult(Verdict.CHALLENGE, stale=True, reason="stale nonce")
        replay = self._replays.admit(credentials.nonce, issued, int(credentials.nc or "0", 16))
        if replay == ReplayVerdict.FORGOTTEN:
            return AuthResult(Verdict.CHALLENGE, stale=True, reason="nonce evicted from replay table")
        if replay == ReplayVerdict.REPLAYED:
            if credentials.qop is None:  # RFC 2069 has no counter: a nonce serves one request
                return AuthResult(Verdict.CHALLENGE, stale=True, reason="RFC 2069 nonce reused")
            return self._failure(user, client, "replayed nonce count")
        if first_use and self.shared is not None:
            return AuthResult(Verdict.CLAIM, identity=user, nonce=credentials.nonce, issued=issued)
        self.throttle.succeeded(user, client)
        return AuthResult(Verdict.OK, identity=user)

    def _refusal(self, credentials: DigestCredentials, algorithm: str | None, target: str) -> str | None:
        """Why the header cannot be accepted before any hashing, or None."""
        if credentials.realm != self.realm:
            return "wrong realm"
        if credentials.userhash:
            return "userhash is not supported"
        if algorithm not in self.algorithms:
            return f"algorithm {credentials.algorithm[:16]!r} not offered"
        if credentials.qop is None:
            if not self.allow_rfc2069:
                return "RFC 2069 response (no qop) not enabled"
        elif credentials.qop != "auth":
            return f"qop {credentials.qop[:16]!r} not offered"
        if credentials.opaque is not None and not hmac.compare_digest(credentials.opaque, self._opaque):
            return "wrong opaque"
        if credentials.uri != target:
            return "uri does not match the request target"
        return None

    def _failure(self, user: str, client: str, reason: str, *, audit: bool = True) -> AuthResult:
        locked = self.throttle.failed(user, client)
        pending = None
        if self.shared is not None:
            pending = self.shared.failed(user, client)
            if pending is None:  # the shared counter is swamped: fail closed for this pair
                self.throttle.lock(user, client, self._clock() + self.throttle.cooldown)
        self._failure_log.warning(
            "digest auth failed: user=%r client=%s reason=%s%s",
            user[:64],
            client,
            reason,
            " (now locked out)" if locked else "",
        )
        if self._on_event is not None and (audit or locked):
            self._on_event("lockout" if locked else "auth_failed", user, client)
        return AuthResult(Verdict.CHALLENGE, reason=reason, pending=pending)

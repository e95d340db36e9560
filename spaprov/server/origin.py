"""CSRF defences: same-origin checks for state-changing requests, and per-form tokens.

A browser that holds cached credentials (Basic for /api/v1, Digest for /em/password) attaches
them to any request another site's page makes it send.  Browsers also say where such a request
comes from: `Origin` on every POST/PUT/PATCH/DELETE, and `Sec-Fetch-Site` (cross-site,
same-site, same-origin, none).  A state-changing request is refused when either names another
origin.  A request carrying neither comes from a non-browser client (curl, a script): it passes
here, since it has no cached credentials to abuse, and must authenticate (and, for
/em/password, give the current password) like any other.

"This server's own origin" is the scheme and Host of the request itself.  Behind a
TLS-terminating proxy the browser's origin (https://...) differs from what spaprov sees (http);
list the public origin(s) in site.toml `[site] trusted_origins`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable

from aiohttp import web
from yarl import URL

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_FETCH_SITES = frozenset({"same-origin", "none"})  # "none": typed URL or bookmark
FORM_TOKEN_LIFETIME = 600.0  # seconds a page's form stays good: long enough to type, short enough

# Framing: nobody may put these pages in a frame (clickjacking the password form or the admin
# page's buttons).  X-Frame-Options for old browsers, frame-ancestors for the rest.
NO_FRAMING = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def normalise_origin(text: str) -> str | None:
    """`scheme://host:port` with the default port made explicit, or None if `text` is not an
    http(s) origin (paths, credentials, `null` and garbage all give None)."""
    try:
        url = URL(text)
        host, port = url.host, url.port
    except (ValueError, UnicodeError):
        return None
    if (
        url.scheme not in ("http", "https")
        or not host
        or port is None
        or url.user is not None
        or url.path not in ("", "/")
        or url.query_string
        or url.fragment
    ):
        return None
    return f"{url.scheme}://{host.lower()}:{port}"


def own_origin(request: web.Request) -> str | None:
    """The origin a browser would see for this request: its scheme and Host."""
    return normalise_origin(f"{request.scheme}://{request.host}")


def cross_site_reason(request: web.Request, trusted: Iterable[str] = ()) -> str | None:
    """Why this request must be treated as coming from another site, or None."""
    fetch_sites = request.headers.getall("Sec-Fetch-Site", [])
    if len(fetch_sites) > 1:
        return "several Sec-Fetch-Site headers"
    if fetch_sites and fetch_sites[0].strip().lower() not in SAME_ORIGIN_FETCH_SITES:
        return f"a {fetch_sites[0][:32]!r} request (Sec-Fetch-Site) may not change anything here"
    origins = request.headers.getall("Origin", [])
    if not origins:
        return None
    if len(origins) > 1:
        return "several Origin headers"
    origin = normalise_origin(origins[0])
    if origin is not None and (
        origin == own_origin(request) or origin in {normalise_origin(t) for t in trusted}
    ):
        return None
    return f"origin {origins[0][:100]!r} is not this server's (list it in trusted_origins if it is)"


def from_browser(request: web.Request) -> bool:
    """Whether a browser sent this request (it names its origin or its fetch site)."""
    return "Origin" in request.headers or "Sec-Fetch-Site" in request.headers


class FormTokens:
    """Stateless per-form tokens: `issued.mac`, the MAC an HMAC-SHA256 over the identity and the
    issue time.  Keyed per caller (the password form uses the user's stored SHA-256 HA1: a secret
    every worker and node already shares, and changing the password voids every older form), so
    no token is ever stored."""

    def __init__(self, lifetime: float = FORM_TOKEN_LIFETIME, clock: Callable[[], float] = time.time) -> None:
        self.lifetime = lifetime
        self._clock = clock

    def issue(self, identity: str, key: bytes) -> str:
        issued = int(self._clock())
        return f"{issued}.{self._mac(identity, issued, key)}"

    def valid(self, token: str, identity: str, key: bytes) -> bool:
        issued_text, dot, mac = token.partition(".")
        if not dot or not issued_text.isascii() or not issued_text.isdigit() or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        expected = self._mac(identity, issued, key)
        genuine = hmac.compare_digest(expected.encode(), mac.encode("utf-8", "replace"))
        return genuine and 0 <= self._clock() - issued <= self.lifetime

    @staticmethod
    def _mac(identity: str, issued: int, key: bytes) -> str:
        message = f"spaprov form v1\n{identity}\n{issued}".encode("utf-8", "surrogatepass")
        return hmac.new(key, message, hashlib.sha256).hexdigest()

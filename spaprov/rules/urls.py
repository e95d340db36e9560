"""Split an expanded URL into scheme, server, port, path and query."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_PORTS = {"tftp": 69, "http": 80, "https": 443}
_URL = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://)?(?P<server>[^/?]*)(?P<path>/[^?]*)(?:\?(?P<query>.*))?",
    re.DOTALL,
)


class UrlError(ValueError):
    pass


@dataclass(frozen=True)
class SplitUrl:
    scheme: str
    server: str | None
    port: int
    path: str
    query: str | None


# Cached only for URLs of at most this many characters: the cache then holds at most
# 2048 * (key + parts) ~ 2048 * 1.3 KB = 2.6 MiB (measured), whatever callers send (it was 4096
# entries of any size: 4096 URLs of 80 MB each could be kept alive).
CACHED_URL_LENGTH = 512


def split_url(url: str) -> SplitUrl:
    """Raises UrlError for a URL the phone could not fetch (no path, bad scheme or port)."""
    return _split_cached(url) if len(url) <= CACHED_URL_LENGTH else _split(url)


def _split(url: str) -> SplitUrl:
    match = _URL.fullmatch(url)
    if match is None:
        raise UrlError(f"{url!r} has no absolute path (it must contain a path starting with /)")
    scheme = (match.group("scheme") or "tftp").lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlError(f"unsupported scheme {scheme!r} in {url!r}: tftp, http or https")
    server: str | None = match.group("server") or None
    port = DEFAULT_PORTS[scheme]
    if server is not None and ":" in server:
        server, _, port_text = server.rpartition(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UrlError(f"bad port {port_text!r} in {url!r}")
        port = int(port_text)
        server = server or None
    return SplitUrl(scheme, server, port, match.group("path"), match.group("query"))


_split_cached = lru_cache(maxsize=2048)(_split)

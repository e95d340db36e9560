"""URLs in rules: split an expanded URL into scheme, server, port, path and query, and find
the parts of a URL as written (macros still in it).  Every other module splits URLs through here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_PORTS = {"tftp": 69, "http": 80, "https": 443}
# `scheme://server`, both optional: what comes before a URL's path.
_HEAD = r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://)?(?P<server>[^/?]*)"
_URL = re.compile(_HEAD + r"(?P<path>/[^?]*)(?:\?(?P<query>.*))?", re.DOTALL)
_SCHEME_AND_SERVER = re.compile(_HEAD)
# The shape of a URL as written in a rule, before expansion: a macro may stand for any part, so
# the scheme is anything up to `://`, the server anything up to the first `/`, the rest the path.
# Hex digits and colons, with an optional dotted IPv4 tail (::ffff:192.0.2.1); at least one colon.
_IPV6_LITERAL = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")
_WRITTEN_SHAPE = re.compile(r"(?:(?P<scheme>[^:/]*)://)?(?P<server>[^/]*)(?P<path>.*)", re.DOTALL)


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


def served_path(text: str) -> tuple[str, str]:
    """(`scheme://server`, path) of a URL as written, the query left off: the path a server
    sees the phone ask for.  No checks: text without a path gives an empty path."""
    head = _SCHEME_AND_SERVER.match(text)
    end = head.end() if head else 0
    return text[:end], text[end:].split("?", 1)[0]


def written_shape(text: str) -> tuple[str | None, str, str]:
    """(scheme or None, server, path and query) of a URL as written in a rule, macros unexpanded."""
    shape = _WRITTEN_SHAPE.fullmatch(text)
    assert shape is not None  # the pattern matches any text
    return shape.group("scheme"), shape.group("server"), shape.group("path")


def valid_port(text: str) -> bool:
    """Whether `text` is a TCP/UDP port number a phone can fetch from (1 to 65535)."""
    # ASCII only: str.isdigit() also accepts "²" and other digits int() refuses; at most five
    # digits, so no text reaches int()'s 4,300-digit limit.
    return len(text) <= 5 and text.isascii() and text.isdigit() and 0 < int(text) < 65536


def _split(url: str) -> SplitUrl:
    match = _URL.fullmatch(url)
    if match is None:
        raise UrlError(f"{url!r} has no absolute path (it must contain a path starting with /)")
    scheme = (match.group("scheme") or "tftp").lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlError(f"unsupported scheme {scheme!r} in {url!r}: tftp, http or https")
    server, port = _server_and_port(match.group("server"), DEFAULT_PORTS[scheme], url)
    return SplitUrl(scheme, server, port, match.group("path"), match.group("query"))


def _server_and_port(text: str, default_port: int, url: str) -> tuple[str | None, int]:
    """The server and port of `server[:port]`.  An IPv6 literal is bracketed, as in any URL
    (RFC 3986 section 3.2.2: `http://[2001:db8::1]:8080/x`): its colons are not a port, and the
    server keeps its brackets, as it is written in a Host header."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise UrlError(f"unclosed [ in the server of {url!r}")
        server, rest = text[: end + 1], text[end + 1 :]
        if not _IPV6_LITERAL.fullmatch(server[1:-1]):
            raise UrlError(f"{server!r} is not an IPv6 address in {url!r}")
        if not rest:
            return server, default_port
        if not rest.startswith(":"):
            raise UrlError(f"unexpected {rest!r} after {server} in {url!r}")
        port_text = rest[1:]
    elif ":" in text:
        server, _, port_text = text.rpartition(":")
        if ":" in server:
            raise UrlError(f"an IPv6 address must be written in brackets ([2001:db8::1]) in {url!r}")
    else:
        return text or None, default_port
    if not valid_port(port_text):
        raise UrlError(f"bad port {port_text!r} in {url!r}")
    return server or None, int(port_text)


_split_cached = lru_cache(maxsize=2048)(_split)

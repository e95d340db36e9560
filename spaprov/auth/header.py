"""Parse `Authorization: Digest …` (RFC 7616 §3.4) and build `WWW-Authenticate` challenges.

Parsing follows RFC 7235's auth-param syntax: case-insensitive names, token or quoted-string
values (backslash escapes), commas with optional whitespace, empty list elements tolerated.
Duplicated parameters, missing required ones and oversize headers are refused.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import NamedTuple

MAX_HEADER_LENGTH = 4096
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]++"
# The quoted-string alternative is written as an unrolled loop ([^"\\]* runs between escapes):
# the per-character alternation (?:[^"\\]|\\.)* was half of a verification's cost.
_QUOTED = r'"([^"\\]*+(?:\\[\s\S][^"\\]*+)*+)"'
_PARAM = re.compile(  # possessive quantifiers (3.11+): no backtracking into what matched
    rf"([ \t]*+({_TOKEN})[ \t]*+=[ \t]*+(?:{_QUOTED}|({_TOKEN}))[ \t]*+(?:,[ \t,]*+|$))"
)
_WHOLE = itemgetter(0)
_LEADING_COMMAS = re.compile(r"[ \t,]*")
_UNESCAPE = re.compile(r"\\([\s\S])")
_NC = re.compile(r"[0-9a-fA-F]{8}")
_ALWAYS_REQUIRED = frozenset({"username", "realm", "nonce", "uri", "response"})
_WITH_QOP = _ALWAYS_REQUIRED | {"nc", "cnonce"}
_ORDER = ("username", "realm", "nonce", "uri", "response", "nc", "cnonce")


class AuthHeaderError(ValueError):
    """A malformed Authorization header (answered 400): the reason never echoes secrets."""


class DigestCredentials(NamedTuple):  # a NamedTuple: built on every request, cheaply
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    userhash: bool = False


# HTTP authentication schemes (the IANA registry, and NTLM): the ones an error may name.
KNOWN_SCHEMES = frozenset(
    ("basic", "bearer", "concealed", "dpop", "gnap", "hoba", "mutual", "negotiate", "ntlm", "oauth",
     "privatetoken", "scram-sha-1", "scram-sha-256", "vapid", "aws4-hmac-sha256")
)  # fmt: skip


def parse_authorization(header: str) -> DigestCredentials:
    """The fields of a Digest `Authorization` header; raises AuthHeaderError when malformed."""
    if len(header) > MAX_HEADER_LENGTH:
        raise AuthHeaderError(f"Authorization header longer than {MAX_HEADER_LENGTH} characters")
    scheme, _, rest = header.strip(" \t").partition(" ")
    if scheme.lower() != "digest":
        # Named only when it is a scheme: a client that sent bare credentials (`a:pw` in base64,
        # no scheme) would otherwise see them quoted in the access log.
        named = repr(scheme) if scheme.lower() in KNOWN_SCHEMES else "(not shown: not a known scheme)"
        raise AuthHeaderError(f"authorization scheme {named} is not Digest")
    params = _parse_params(rest)
    qop = params.get("qop")
    missing = (_ALWAYS_REQUIRED if qop is None else _WITH_QOP) - params.keys()
    if missing:
        raise AuthHeaderError("Digest header lacks " + ", ".join(n for n in _ORDER if n in missing))
    nc = params.get("nc")
    if nc is not None and not _NC.fullmatch(nc):
        raise AuthHeaderError("nc must be 8 hexadecimal digits")
    userhash = params.get("userhash", "false").lower()
    if userhash not in ("true", "false"):
        raise AuthHeaderError("userhash must be true or false")
    return DigestCredentials(  # positional: keyword construction of a NamedTuple is slower
        params["username"],
        params["realm"],
        params["nonce"],
        params["uri"],
        params["response"],
        params.get("algorithm", "MD5"),
        qop,
        nc,
        params.get("cnonce"),
        params.get("opaque"),
        userhash == "true",
    )


def parse_challenge(header: str) -> dict[str, str]:
    """The parameters (names in lower case) of a Digest challenge, as a client reads it (spaprov
    answers a phone's challenge to its SIP NOTIFY); raises AuthHeaderError when malformed."""
    if len(header) > MAX_HEADER_LENGTH:
        raise AuthHeaderError(f"challenge longer than {MAX_HEADER_LENGTH} characters")
    scheme, _, rest = header.strip(" \t").partition(" ")
    if scheme.lower() != "digest":
        raise AuthHeaderError(f"challenge scheme {scheme[:20]!r} is not Digest")
    return _parse_params(rest)


def _parse_params(text: str) -> dict[str, str]:
    """All parameters in one findall; the matches tile the text exactly when it is well formed
    (findall skips what it cannot match, so any junk makes the lengths fall short)."""
    start = _LEADING_COMMAS.match(text).end()  # type: ignore[union-attr]
    found = _PARAM.findall(text, start)
    if not found:
        raise AuthHeaderError("Digest header has no parameters")
    if sum(map(len, map(_WHOLE, found))) != len(text) - start:  # C-level loop: hot path
        raise AuthHeaderError(f"malformed Digest parameter at character {_first_gap(text, start) + 1}")
    params = {
        name.lower(): token or (_UNESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted)
        for _, name, quoted, token in found
    }
    if len(params) != len(found):
        names = [item[1].lower() for item in found]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise AuthHeaderError(f"Digest parameter {duplicate!r} appears twice")
    return params


def _first_gap(text: str, position: int) -> int:
    for match in _PARAM.finditer(text, position):
        if match.start() != position:
            break
        position = match.end()
    return position


def quote(value: str) -> str:
    """An RFC 7230 quoted-string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_challenge(
    realm: str, nonce: str, opaque: str, algorithm: str, *, stale: bool = False, qop: bool = True
) -> str:
    """One `WWW-Authenticate` value (RFC 7616 §3.3)."""
    parts = [f"realm={quote(realm)}"]
    if qop:
        parts.append('qop="auth"')
    parts += [f"algorithm={algorithm}", f"nonce={quote(nonce)}", f"opaque={quote(opaque)}"]
    if stale:
        parts.append("stale=true")
    return "Digest " + ", ".join(parts)

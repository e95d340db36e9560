"""A minimal, independent Digest client for tests: builds Authorization headers by hand so each
field can be varied (the real-client tests use curl, requests, httpx and aiohttp instead)."""

from __future__ import annotations

import hashlib
import re

_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')
_HASHES = {"MD5": "md5", "SHA-256": "sha256"}


def parse_challenge(value: str) -> dict[str, str]:
    assert value.startswith("Digest ")
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(value[7:])
    }


def authorization(
    challenge: dict[str, str],
    username: str,
    password: str,
    *,
    method: str = "GET",
    uri: str = "/mobilephone.cfg",
    nc: int = 1,
    cnonce: str = "0a4f113b",
    algorithm: str | None = None,
    qop: str | None = "auth",
    realm: str | None = None,
    nonce: str | None = None,
    opaque: str | None = None,
) -> str:
    algorithm = algorithm or challenge.get("algorithm", "MD5")
    realm = challenge["realm"] if realm is None else realm
    nonce = challenge["nonce"] if nonce is None else nonce
    name = _HASHES.get(algorithm.upper(), "md5")

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    ha1 = h(f"{username}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    nc_text = f"{nc:08x}"
    if qop is None:
        response = h(f"{ha1}:{nonce}:{ha2}")
    else:
        response = h(f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
    fields = [
        f'username="{username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f"algorithm={algorithm}",
        f'response="{response}"',
        f'opaque="{challenge["opaque"] if opaque is None else opaque}"',
    ]
    if qop is not None:
        fields += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    return "Digest " + ", ".join(fields)

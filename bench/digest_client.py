"""Bench's own Digest client: Authorization headers built by hand (qop=auth) from a parsed
challenge, so a benchmark can prepare thousands before it starts the clock.  The tests keep a
fuller one (tests/helpers/digest_client.py, every field variable); bench does not import tests."""

from __future__ import annotations

import hashlib
import re

_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')
_HASHES = {"MD5": "md5", "SHA-256": "sha256"}


def parse_challenge(value: str) -> dict[str, str]:
    """The parameters of a `WWW-Authenticate: Digest …` value."""
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
    uri: str = "/mobilephone.cfg",
    nc: int = 1,
    algorithm: str | None = None,
    cnonce: str = "0a4f113b",
) -> str:
    """A GET's Authorization header answering `challenge` with qop=auth."""
    algorithm = algorithm or challenge.get("algorithm", "MD5")
    realm, nonce = challenge["realm"], challenge["nonce"]
    name = _HASHES.get(algorithm.upper(), "md5")

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    nc_text = f"{nc:08x}"
    response = h(f"{h(f'{username}:{realm}:{password}')}:{nonce}:{nc_text}:{cnonce}:auth:{h(f'GET:{uri}')}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'algorithm={algorithm}, response="{response}", opaque="{challenge["opaque"]}", '
        f'qop=auth, nc={nc_text}, cnonce="{cnonce}"'
    )

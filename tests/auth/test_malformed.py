"""Malformed Authorization headers: 400 or 401, never 500; the parser raises only its own error."""

from __future__ import annotations

import contextlib

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from spaprov.auth import AuthHeaderError, parse_authorization

GOOD = (
    'Digest username="alice@example.com", realm="spaprov-test", nonce="abc", uri="/mobilephone.cfg", '
    'response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="xyz", algorithm=MD5'
)

MALFORMED = [
    "",
    "Digest",
    "Digest ",
    "Basic YWxpY2U6MTIzNA==",
    "Bearer token",
    'digestusername="a"',
    'Digest username="alice"',
    'Digest username="a", realm="r", nonce="n", uri="/x"',  # no response
    'Digest realm="r", nonce="n", uri="/x", response="r"',  # no username
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", qop=auth',  # no nc/cnonce
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", qop=auth, nc=1, cnonce="c"',
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", qop=auth, nc=0000000g, cnonce="c"',
    'Digest username="a", username="b", realm="r", nonce="n", uri="/x", response="r"',
    'Digest USERNAME="a", username="b", realm="r", nonce="n", uri="/x", response="r"',
    'Digest username="a, realm="r", nonce="n", uri="/x", response="r"',  # unbalanced quote
    'Digest username=, realm="r"',
    'Digest =value, realm="r"',
    'Digest username "a", realm="r"',
    'Digest username="a" realm="r" nonce="n" uri="/x" response="r"',  # no commas
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", userhash=maybe',
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", junk',
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", ==',
    'Digest username="a", realm="r", nonce="n", uri="/x", response="r", x="\\',
    "Digest " + "a" * 5000,
    'Digest username="' + "a" * 4100 + '", realm="r", nonce="n", uri="/x", response="r"',
    "Digest ,,,",
    'Digest username=a b, realm="r", nonce="n", uri="/x", response="r"',
    'Digest username="a"; realm="r"; nonce="n"; uri="/x"; response="r"',
]


@pytest.mark.parametrize("header", MALFORMED)
def test_parser_refuses(header: str) -> None:
    with pytest.raises(AuthHeaderError):
        parse_authorization(header)


def test_parser_accepts_the_rfc_syntax_variants() -> None:
    parsed = parse_authorization(GOOD)
    assert (parsed.username, parsed.qop, parsed.nc, parsed.algorithm) == (
        "alice@example.com",
        "auth",
        "00000001",
        "MD5",
    )
    loose = parse_authorization(
        'DIGEST  Username = "a\\"b,c" ,REALM="r",, nonce=n, uri="/x?y=1,2", response="r", '
        'Opaque="o", extra=ignored'
    )
    assert (loose.username, loose.realm, loose.nonce, loose.uri, loose.opaque) == (
        'a"b,c',
        "r",
        "n",
        "/x?y=1,2",
        "o",
    )
    assert (
        parse_authorization(GOOD.replace("algorithm=MD5, ", "").replace(", algorithm=MD5", "")).algorithm
        == "MD5"
    )


@pytest.mark.parametrize("header", MALFORMED)
async def test_server_answers_400_or_401(server: TestServer, header: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.make_url("/mobilephone.cfg"), headers={"Authorization": header}) as response,
    ):
        assert response.status in (400, 401), response.status


async def test_two_authorization_headers_are_a_bad_request(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        headers = [("Authorization", GOOD), ("Authorization", GOOD)]
        async with session.get(server.make_url("/mobilephone.cfg"), headers=headers) as response:
            assert response.status == 400


@settings(max_examples=2000)
@given(st.text(max_size=300))
def test_random_text_raises_only_auth_header_error(text: str) -> None:
    with contextlib.suppress(AuthHeaderError):
        parse_authorization(text)


PIECES = st.sampled_from(
    [
        'username="a"',
        'realm="r"',
        "nonce=n",
        'uri="/x"',
        'response="r"',
        "qop=auth",
        "nc=00000001",
        'cnonce="c"',
        "algorithm=SHA-256",
        ",",
        " ",
        '"',
        "\\",
        "=",
        "x",
    ]
)


@pytest.mark.slow
@settings(max_examples=2000)
@given(st.lists(PIECES, max_size=20).map(lambda parts: "Digest " + ", ".join(parts)))
def test_structured_noise_raises_only_auth_header_error(text: str) -> None:
    with contextlib.suppress(AuthHeaderError):
        parse_authorization(text)

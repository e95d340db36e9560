"""RFC 7616 §3.9.1: user Mufasa, password "Circle of Life"."""

from __future__ import annotations

import pytest

from spaprov.auth import DigestCredentials, ha1
from spaprov.auth.digest import expected_response

NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
REALM = "http-auth@example.org"


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_worked_example(algorithm: str, response: str) -> None:
    credentials = DigestCredentials(
        username="Mufasa",
        realm=REALM,
        nonce=NONCE,
        uri="/dir/index.html",
        response=response,
        algorithm=algorithm,
        qop="auth",
        nc="00000001",
        cnonce=CNONCE,
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    )
    assert (
        expected_response(credentials, ha1(algorithm, "Mufasa", REALM, "Circle of Life"), "GET") == response
    )

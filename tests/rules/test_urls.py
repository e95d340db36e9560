"""The rules' URL splitter: IPv6 literals (issue 11 item 6: `http://[2001:db8::1]/x` failed
with "bad port '1]'"), ports, and what stays an error."""

from __future__ import annotations

import pytest

from spaprov.rules import evaluate
from spaprov.rules.urls import SplitUrl, UrlError, split_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[2001:db8::1]/x", SplitUrl("http", "[2001:db8::1]", 80, "/x", None)),
        (
            "https://[2001:db8::1]:8443/p.cfg?mac=1",
            SplitUrl("https", "[2001:db8::1]", 8443, "/p.cfg", "mac=1"),
        ),
        ("https://[2001:db8::1]:8443/p?m=1", SplitUrl("https", "[2001:db8::1]", 8443, "/p", "m=1")),
        ("[::1]/spa.cfg", SplitUrl("tftp", "[::1]", 69, "/spa.cfg", None)),
        ("http://[::ffff:192.0.2.1]:8080/x", SplitUrl("http", "[::ffff:192.0.2.1]", 8080, "/x", None)),
        ("http://192.0.2.1:8080/x", SplitUrl("http", "192.0.2.1", 8080, "/x", None)),
        ("http://prov.example.com/x", SplitUrl("http", "prov.example.com", 80, "/x", None)),
        ("/spa$PSN.cfg", SplitUrl("tftp", None, 69, "/spa$PSN.cfg", None)),
    ],
)
def test_split(url: str, expected: SplitUrl) -> None:
    assert split_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[2001:db8::1/x", "unclosed ["),
        ("http://[2001:db8::1]x/x", "unexpected 'x'"),
        ("http://[2001:db8::1]:/x", "bad port ''"),
        ("http://[2001:db8::1]:99999/x", "bad port '99999'"),
        ("http://[not-an-address]/x", "is not an IPv6 address"),
        ("http://[]/x", "is not an IPv6 address"),
        ("http://2001:db8::1/x", "must be written in brackets"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(UrlError, match=message.replace("[", r"\[")):
        split_url(url)


def test_a_rule_fetching_from_an_ipv6_server_evaluates() -> None:
    result = evaluate("http://[2001:db8::1]:8080/$MA.cfg", {"MA": "001122334455"})
    assert result.errors == ()
    assert (result.server, result.port, result.path) == ("[2001:db8::1]", 8080, "/001122334455.cfg")

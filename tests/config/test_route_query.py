"""A route's MAC may travel in its query (`/default.cfg?mac=$MA`, Cisco's own
`https://p.tel.com/config?Linksys$MAU` [LSPG30] p.44): the path picks the route, the query names
the phone; a request without that query still matches (the MAC may be in its User-Agent)."""

from __future__ import annotations

import pytest

from spaprov.config.routes import RouteMatcher, routes_from_rule


@pytest.mark.parametrize(
    ("url", "query", "mac"),
    [
        ("http://p/default.cfg?mac=$MA", "mac=001122334455", "001122334455"),
        ("http://p/default.cfg?mac=$MA", "mac=001122334455&extra=1", "001122334455"),
        ("http://p/default.cfg?mac=$MA", "mac=0011223344556677", None),  # not a MAC: too long
        ("http://p/default.cfg?mac=$MA", "", None),
        ("http://p/default.cfg?mac=$MA", "mac=zz1122334455", None),
        ("https://p/config?Linksys$MAU", "Linksys001122334455", "001122334455"),
        ("http://p/d.cfg?pn=$PN&mac=$MAC", "pn=SPA525G&mac=00:11:22:33:44:55", "00:11:22:33:44:55"),
        ("http://p/$MA.cfg?mac=$MA", "mac=00112233ffff", "001122334455"),  # the path's wins
    ],
)
def test_the_mac_in_the_query(url: str, query: str, mac: str | None) -> None:
    matcher = RouteMatcher(routes_from_rule(url))
    path = "/001122334455.cfg" if "$MA.cfg" in url else "/" + url.split("/")[3].split("?")[0]
    matched = matcher.match(path, query)
    assert matched is not None
    route, found = matched
    assert found == mac
    assert route.path == path if "$" not in url.split("?")[0] else route.pattern == "/{mac}.cfg"

"""Routes from the site's Profile_Rule: each alternative's URL path becomes a route, its kind
decided by the credentials it sends ($MUID → mobile, $PUID → host, none → default)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from spaprov.config.schema import Route, RouteKind
from spaprov.mac import MAC_COLONS, MAC_DIGITS
from spaprov.rules import RuleSyntaxError, parse
from spaprov.rules.ast import Alternative
from spaprov.rules.macros import MacroRef, Template
from spaprov.rules.urls import served_path

_MAC_MACROS = {"MA", "MAU", "MAC"}
# Placeholders in Route.pattern; RouteMatcher turns them into regular expressions.
MAC_PLACEHOLDERS = {"{mac}": MAC_DIGITS, "{mac:colons}": MAC_COLONS}
_MAC_PLACEHOLDER = {"MA": "{mac}", "MAU": "{mac}", "MAC": "{mac:colons}"}


class RouteError(ValueError):
    pass


def routes_from_rule(rule_text: str) -> tuple[Route, ...]:
    """Raises RuleSyntaxError for a bad rule and RouteError for one the server cannot serve."""
    rule = parse(rule_text)
    routes: dict[str, Route] = {}
    for index, alternative in enumerate(rule.alternatives):
        if alternative.url is None:
            continue
        route = _route(index, alternative)
        existing = routes.get(route.pattern)
        if existing is not None and existing.kind != route.kind:
            raise RouteError(
                f"alternatives {existing.alternative + 1} ({existing.kind}) and {index + 1} ({route.kind}) "
                f"both fetch {route.path}: a phone asks without credentials first, so the server "
                "could not tell them apart; give each kind its own path"
            )
        routes.setdefault(route.pattern, route)
        if existing is not None and existing.encrypted != route.encrypted:
            raise RouteError(
                f"alternatives {existing.alternative + 1} and {index + 1} both fetch {route.path}, "
                "one with --key and one without: the server could not tell which to send"
            )
    if not routes:
        raise RouteError("the rule fetches no URL, so there is nothing to serve")
    defaults = [route for route in routes.values() if route.kind == "default"]
    if defaults and all(route.encrypted for route in defaults):
        raise RouteError(
            "every default alternative uses --key: a factory-reset phone has no key yet, so it "
            "could never read its first profile; fetch one default profile without --key"
        )
    return tuple(routes.values())


def _route(index: int, alternative: Alternative) -> Route:
    assert alternative.url is not None
    where = f"alternative {index + 1}"
    kind: RouteKind = "default"
    options = alternative.options
    if options is not None and options.uid is not None:
        names = set(options.uid.macro_names)
        if "MUID" in names:
            kind = "mobile"
        elif "PUID" in names:
            kind = "host"
        else:
            raise RouteError(
                f"{where} sends --uid {options.uid.text} without $MUID or $PUID: the server "
                "cannot tell whether it asks for a mobile or a host profile"
            )
    text = alternative.url.text
    head, path_text = served_path(text)
    if "$" in head:
        raise RouteError(f"{where}: macros in the scheme or server ({text}) cannot be served")
    pattern = _pattern(where, path_text)
    query_pattern = _query_pattern(text[len(head) + len(path_text) + 1 :]) if "?" in text else ""
    encrypted = options is not None and options.key is not None
    if encrypted:
        assert options is not None and options.key is not None
        if options.key.text.strip('"') != "$SA":
            raise RouteError(
                f"{where} sends --key {options.key.text}: the server encrypts with the device's "
                "profile_key, which the phone holds in GPP_SA; write --key $SA"
            )
    return Route(index, kind, path_text, pattern, query_pattern, encrypted)


def _pattern(where: str, path: str) -> str:
    pieces: list[str] = []
    macs = 0
    for part in Template.compile(path).parts:
        if isinstance(part, str):
            if "{" in part or "}" in part:
                raise RouteError(f"{where}: braces in the path {path} cannot be served")
            pieces.append(part)
            continue
        if not _is_mac(part):
            raise RouteError(
                f"{where}: the path {path} uses ${part.name}; only $MA, $MAU and $MAC "
                "(the phone's MAC) can appear in a served path"
            )
        macs += 1
        if macs > 1:
            raise RouteError(f"{where}: the path {path} names the MAC twice")
        pieces.append(_MAC_PLACEHOLDER[part.name])
    return "".join(pieces)


def _query_pattern(query: str) -> str:
    """The query as a pattern when it carries the phone's MAC, as in Cisco's own example
    `https://p.tel.com/config?Linksys$MAU` ([LSPG30] p.44) or FusionPBX's SPA525G rule
    `…/app/provision/?mac=$MA` ([FUSION]); "" otherwise.  The query never selects the route
    (the path does), so other macros in it are simply not matched; the first MAC macro is
    taken, with any text after it ignored."""
    pieces: list[str] = []
    for part in Template.compile(query).parts:
        if isinstance(part, str):
            pieces.append(part.replace("{", "").replace("}", ""))
        elif _is_mac(part):
            pieces.append(_MAC_PLACEHOLDER[part.name])
            return "".join(pieces)
        else:
            pieces.append("{any}")
    return ""


def _is_mac(part: MacroRef) -> bool:
    return part.name in _MAC_MACROS and not part.offset and part.length is None


class RouteMatcher:
    """Finds the route serving a request path, and the MAC the path (or its query) carries."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._compiled = tuple(
            (route_regex(route.pattern), _query_regex(route.query_pattern), route) for route in routes
        )

    def match(self, path: str, query: str = "") -> tuple[Route, str | None] | None:
        for regex, query_regex, route in self._compiled:
            found = regex.fullmatch(path)
            if found:
                mac = found.groupdict().get("mac")
                if mac is None and query_regex is not None:
                    in_query = query_regex.match(query)
                    mac = in_query.group("mac") if in_query else None
                return route, mac
        return None


def _query_regex(query_pattern: str) -> re.Pattern[str] | None:
    """The query's pattern as a prefix match (MAC in group "mac"); None when it carries none."""
    if not query_pattern:
        return None
    body = route_regex(query_pattern).pattern.replace(re.escape("{any}"), "[^&]*?")
    return re.compile(body + "(?=&|$)")


def route_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression matching the paths of a Route.pattern (the MAC in group "mac")."""
    out, position = [], 0
    for found in re.finditer("|".join(re.escape(p) for p in MAC_PLACEHOLDERS), pattern):
        out.append(re.escape(pattern[position : found.start()]))
        out.append(f"(?P<mac>{MAC_PLACEHOLDERS[found.group(0)]})")
        position = found.end()
    out.append(re.escape(pattern[position:]))
    return re.compile("".join(out))


__all__ = ["RouteError", "RouteMatcher", "RuleSyntaxError", "route_regex", "routes_from_rule"]

"""Whether the site's Profile_Rule sends phones to this server: the host:port its URLs name
against the address `serve` listens on, as one-line warnings (start-up log and /healthz).  URLs
are split by spaprov.rules.urls, as evaluation splits them for the phone."""

from __future__ import annotations

import ipaddress

from spaprov.rules import RuleSyntaxError, parse
from spaprov.rules.urls import UrlError, split_url

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified  # 0.0.0.0, ::
    except ValueError:
        return host in ("", "*")


def rule_targets(profile_rule: str) -> list[tuple[str, str, int]]:
    """(scheme, host, port) of every URL in the rule whose host and port are literal (a URL built
    from macros, or a relative one, cannot be checked and is left out)."""
    try:
        rule = parse(profile_rule)
    except RuleSyntaxError:
        return []
    found: list[tuple[str, str, int]] = []
    for alternative in rule.alternatives:
        if alternative.url is None or "$" in "/".join(alternative.url.text.split("/", 3)[:3]):
            continue
        try:
            parts = split_url(alternative.url.text)  # as the phone splits it
        except UrlError:
            continue
        if parts.scheme == "tftp" or parts.server is None:
            continue
        host = parts.server.removeprefix("[").removesuffix("]").lower()  # an IPv6 literal unbracketed
        target = (parts.scheme, host, parts.port)
        if target not in found:
            found.append(target)
    return found


def misdirected(profile_rule: str, host: str, port: int) -> list[str]:
    """One line per rule target that is not this server (listening on host:port).  The port must
    match; the host is compared only when the rule names a loopback address and this server is
    bound to one specific other address (a wildcard bind, 0.0.0.0 or ::, answers on loopback too;
    any other name in the rule may well resolve to this machine)."""
    warnings = []
    for _scheme, rule_host, rule_port in rule_targets(profile_rule):
        wrong_port = rule_port != port
        wrong_host = _loopback(rule_host) and not _wildcard(host) and not _loopback(host)
        if wrong_port or wrong_host:
            shown = f"[{rule_host}]" if ":" in rule_host else rule_host
            warnings.append(
                f"Profile_Rule sends phones to {shown}:{rule_port} but this server listens on "
                f"{host}:{port}: phones will not reach it"
            )
    return warnings


__all__ = ["misdirected", "rule_targets"]

"""Which phone is asking: the MAC from a path macro, else from the SPA User-Agent."""

from __future__ import annotations

import re

# Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567); some builds omit the MAC group (reference §3.2).
_USER_AGENT = re.compile(r"^(?:Cisco|Linksys)/(SPA[0-9A-Za-z]+)-\S+ \(([0-9A-Fa-f]{12})\)")


def mac_from_user_agent(user_agent: str) -> tuple[str, str] | None:
    """(mac in lower case, model) from a SPA User-Agent, or None."""
    found = _USER_AGENT.match(user_agent)
    return (found.group(2).lower(), found.group(1).upper()) if found else None


def normalize_mac(mac: str) -> str:
    return mac.replace(":", "").lower()

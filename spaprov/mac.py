"""MAC addresses: the one canonical form (12 lower-case hexadecimal digits) every part of
spaprov keys devices by, and where a SPA phone states its own MAC (its User-Agent)."""

from __future__ import annotations

import re

# A MAC as 12 hexadecimal digits, either case (a device file's name, a {mac} path segment).
MAC_DIGITS = "[0-9a-fA-F]{12}"
# A MAC as six colon-separated pairs (a {mac:colons} path segment, the $MAC macro).
MAC_COLONS = "(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}"

_CANONICAL = re.compile("[0-9a-f]{12}")
_SEPARATORS = str.maketrans("", "", ":-. ")

# How an SPA's User-Agent starts (Cisco/SPA525G2-..., Linksys/SPA942-...).
_VENDOR = r"^(?:Cisco|Linksys)/"
SPA_USER_AGENT_START = _VENDOR + "SPA"
# A SPA5x5 names its model and MAC in the User-Agent of every provisioning request, as in
# Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567); the MAC group may be missing (some firmware
# builds leave it out), and then the MAC must come from the request path instead.
_USER_AGENT = re.compile(rf"{_VENDOR}(SPA[0-9A-Za-z]+)-\S+ \(({MAC_DIGITS})\)")


def normalize_mac(text: str) -> str | None:
    """The canonical form of a MAC written in any common way (`00:0E:08:01:23:45`,
    `00-0e-08-01-23-45`, `000e.0801.2345`, `000E08012345`), or None when `text` is not a MAC."""
    digits = text.strip().translate(_SEPARATORS).lower()
    return digits if _CANONICAL.fullmatch(digits) else None


def colon_form(mac: str) -> str:
    """`00:0e:08:01:23:45` from the canonical `000e08012345`."""
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def mac_from_user_agent(user_agent: str) -> tuple[str, str] | None:
    """(canonical mac, model in upper case) from a SPA User-Agent, or None."""
    found = _USER_AGENT.match(user_agent)
    return (found.group(2).lower(), found.group(1).upper()) if found else None

"""The rule-relevant state of every device of a site, as its phone would hold it: what the rule
impact preview (spaprov.rules.impact) evaluates.  Pure: the sessions are passed in.

What a phone holds that the server cannot know (the passwords typed on it) is a placeholder:
the site's rules only test whether a password is set, and a phone whose host or mobile user is
set has one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from spaprov.config.schema import Config
from spaprov.mac import colon_form

PASSWORD_SET = "(set)"  # stands for a password the phone holds but the server does not know


def phone_states(config: Config, logged_in: Mapping[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(MAC, macro state) for every device, sorted by MAC; `logged_in` maps a device's MAC to
    the user whose extension-mobility session is active on it."""
    domain = config.site.em_user_domain
    for mac in sorted(config.devices):
        device = config.devices[mac]
        user = logged_in.get(mac, "") if device.em_enabled else ""
        yield (
            mac,
            {
                "MA": mac,
                "MAU": mac.upper(),
                "MAC": colon_form(mac),
                "PN": device.model.name,
                "PDOM": domain,
                "EMS": "mobile" if user else "host",
                "MUID": user,
                "MPWD": PASSWORD_SET if user else "",
                "PUID": device.host_user,
                "PPWD": PASSWORD_SET if device.host_user else "",
            },
        )

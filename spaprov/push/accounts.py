"""Which SIP accounts can answer a phone's challenge to a NOTIFY (pure).

The phone checks a NOTIFY against its line-1 account ([LSPG30] p.41 says only that it challenges;
which account it uses is UNCONFIRMED). When the push is sent the phone is still logged in, so its
line 1 is the mobile user's; the device's own line 1 is tried second, so either reading works.
"""

from __future__ import annotations

from spaprov.config.schema import Config, Device, Line, ProfileContent
from spaprov.push.sip import SipCredentials


def _line_one(content: ProfileContent) -> Line | None:
    lines = sorted(content.lines, key=lambda line: line.number)
    return lines[0] if lines and lines[0].password else None


def sip_accounts(config: Config, device: Device, user_id: str | None) -> list[SipCredentials]:
    found: list[SipCredentials] = []
    user = config.users.get(user_id or "")
    profile = config.em_profiles.get(user.default_profile) if user else None
    for content in (profile.content if profile else None, device.content):
        line = _line_one(content) if content else None
        if line is None:
            continue
        account = SipCredentials(line.user_id, line.auth_id or line.user_id, line.password)
        if account not in found:
            found.append(account)
    return found


def push_possible(config: Config, device: Device, user_id: str | None) -> bool:
    """Can a forced logout reach this phone by SIP NOTIFY? (If not, its mobile profile carries
    the site's short fallback Resync_Periodic.)"""
    return config.site.push.enabled and bool(sip_accounts(config, device, user_id))

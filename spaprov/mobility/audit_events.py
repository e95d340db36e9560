"""Every event name the audit log records, with what it means: the one list `spaprov audit --help`
prints and a test checks the code against (a new event without a line here fails it)."""

from __future__ import annotations

# user: the user id for a user of this site (no domain), any other name exactly as sent;
# "admin:NAME" for an administrator's Basic login.
AUDIT_EVENTS: dict[str, str] = {
    "login": "a user logged in on a phone (its mobile profile was served; a session started)",
    "logout": "a session ended: the phone fetched its host profile (the user logged out), or "
    "detail 'replaced by USER' when another user logged in on that phone",
    "forced_logout": "an administrator ended a session (`spaprov sessions logout`, or the API: "
    "detail 'by ADMIN@ADDRESS'); a running server pushes the phone a resync (SIP NOTIFY), and it "
    "gets the logout profile at that resync",
    "auto_logout": "the site's policy ended a session: maximum login time reached, or "
    "multiple_login = auto_logout and the user logged in on another phone (detail says which)",
    "denied": "a phone's authenticated fetch was refused (403): not this phone's host user, "
    "logged in elsewhere under multiple_login = not_allowed, ... (detail: the reason)",
    "failed_auth": "a failed Digest login (phone or password page) or administrator Basic login; "
    "repeats from one user and client are folded into one row (detail 'N failures')",
    "lockout": "too many failures: that user is locked out from that client for the cooldown",
    "password_changed": "a user changed their own phone password on the password page",
    "password_change_refused": "the password page refused a change: wrong current password "
    "(counted toward the lockout like a wrong Digest response)",
    "admin_create": "an administrator created a device, user or EM profile through the API "
    "(detail 'KIND KEY by ADMIN@ADDRESS')",
    "admin_update": "an administrator changed a device, user or EM profile through the API",
    "admin_delete": "an administrator deleted a device, user or EM profile through the API, or a "
    "user's credentials with `spaprov user del`",
    "admin_password": "an administrator set a user's password through the API or `spaprov user add|passwd`",
    "admin_host_password": "an administrator set a device's host (phone) user's password through "
    "the API (detail 'password of host user HOST of device MAC by ADMIN@ADDRESS')",
    "admin_lock": "an administrator locked a user (no phone login until unlocked; the user's "
    "active sessions end as forced logouts)",
    "admin_unlock": "an administrator unlocked a user",
    "admin_rule": "an administrator saved a new Profile_Rule for the site through the API",
    "admin_account": "an administrator account was added, changed or removed (`spaprov admin`)",
    "admin_import": "users or devices were imported from CSV (`spaprov import`; detail: the file "
    "and the counts)",
    "admin_restore": "the profile directory was restored from a backup (`spaprov restore`)",
    "audit_dropped": "the audit buffer was full under a flood: detail says how many entries were "
    "dropped (also counted in spaprov_audit_dropped_total)",
}


def audit_events_help() -> str:
    """The table, for `spaprov audit --help`."""
    width = max(len(name) for name in AUDIT_EVENTS)
    return "events:\n" + "\n".join(f"  {name:<{width}}  {meaning}" for name, meaning in AUDIT_EVENTS.items())


__all__ = ["AUDIT_EVENTS", "audit_events_help"]

"""Devices, users and EM profiles as documents: what the API returns, and what it writes back
to the profile directory (as TOML) after the whole directory has validated with the change."""

from __future__ import annotations

from typing import Any

from spaprov.config.schema import Device, EmProfile, ProfileContent, User

# The resource kinds of the directory: folder, the document's id field, and its file-name rule.
KINDS = {"devices": "mac", "users": "id", "em_profiles": "name"}


def content_document(content: ProfileContent, *, secrets: bool) -> dict[str, Any]:
    lines = []
    for line in content.lines:
        item: dict[str, Any] = {"number": line.number, "user_id": line.user_id}
        for field in ("display_name", "auth_id", "proxy", "short_name"):
            if getattr(line, field):
                item[field] = getattr(line, field)
        if line.password:
            item["password"] = line.password if secrets else "********"
        lines.append(item)
    return {
        "lines": lines,
        "speed_dials": [{"slot": d.slot, "name": d.name, "number": d.number} for d in content.speed_dials],
        "line_keys": [
            {"key": k.key, "kind": k.kind, "name": k.name, "target": k.target} for k in content.line_keys
        ],
    }


def device_document(device: Device, *, secrets: bool = True) -> dict[str, Any]:
    document: dict[str, Any] = {
        "model": device.model.name,
        "station_name": device.station_name,
        "host_user": device.host_user,
        "em_enabled": device.em_enabled,
    }
    if device.host_password:
        document["host_password"] = device.host_password if secrets else "********"
    if device.profile_key:
        document["profile_key"] = device.profile_key if secrets else "********"
    if device.sip_port:
        document["sip_port"] = device.sip_port
    return document | content_document(device.content, secrets=secrets)


def user_document(user: User) -> dict[str, Any]:
    document: dict[str, Any] = {
        "display_name": user.display_name,
        "em_profiles": list(user.em_profiles),
        "default_profile": user.default_profile,
    }
    if user.locked:  # only when set: an unlocked user's file does not grow a `locked = false`
        document["locked"] = True
    return document


def profile_document(profile: EmProfile, *, secrets: bool = True) -> dict[str, Any]:
    return content_document(profile.content, secrets=secrets)


def without_empty_tables(document: dict[str, Any]) -> dict[str, Any]:
    """Drop empty arrays of tables: the loader's default, and tidier files."""
    return {key: value for key, value in document.items() if value != []}

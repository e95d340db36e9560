"""Small pieces the API's operation modules share: who did it, a session as JSON, a password
from a request body."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from spaprov.server.api_errors import ApiError
from spaprov.server.keys import ADMIN


def attribution(request: web.Request) -> str:
    """`admin@client`: who made an administrative change, and from where."""
    return f"{request.get(ADMIN, '?')}@{request.remote}"


def password_of(body: dict[str, Any]) -> str:
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise ApiError(
            400,
            "bad_request",
            "'password' must be a non-empty string",
            [{"file": "", "field": "password", "reason": "must not be empty"}],
        )
    return password


def session_json(session: Any) -> dict[str, Any]:
    return {
        "id": session.id,
        "user": session.user_id,
        "device": session.device,
        "started": session.started,
        "last_seen": session.last_seen,
        "ended": session.ended,
        "end_reason": session.end_reason,
    }

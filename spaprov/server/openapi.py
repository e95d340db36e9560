"""The OpenAPI 3.1 document of /api/v1, generated from the route table the server registers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from spaprov import __version__

_ERROR_CODES = {
    "400": "Bad request",
    "401": "Not authenticated",
    "403": "Role not allowed",
    "404": "Not found",
    "409": "Already exists",
    "415": "The body is not application/json",
    "422": "Refused: every problem listed",
}
_PAGING = [
    ("q", "string", "only entries whose id or main fields contain this text (any case)"),
    ("offset", "integer", "skip this many matching entries (default 0)"),
    ("limit", "integer", "at most this many entries, 1 to 1000 (default: every match)"),
]
_QUERY = {
    **{f"{kind}_list": _PAGING for kind in ("devices", "users", "em_profiles")},
    "sessions_list": [("all", "boolean", "include ended sessions")],
    "audit": [
        ("user", "string", "only this user id (no domain for users of this site)"),
        ("event", "string", "only this event (see the README's audit events)"),
        ("device", "string", "only this device (MAC)"),
        ("since", "string", "ISO date/time or age (8h, 30m, 2d)"),
        ("limit", "integer", "the newest N entries"),
    ],
}
SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message", "details"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    },
    "RuleRequest": {
        "type": "object",
        "required": ["rule"],
        "properties": {
            "rule": {"type": "string"},
            "limit": {"type": "integer", "description": "impact: at most this many changed devices listed"},
            "kind": {"type": "string", "enum": ["profile", "upgrade", "report", "trigger"]},
            "state": {"type": "object", "additionalProperties": {"type": "string"}},
            "trace": {"type": "boolean"},
        },
    },
    "Document": {
        "type": "object",
        "description": "The fields of the TOML file, as JSON "
        "(see docs/administration/index.md, the profile directory); the id field (mac, id or name) names it.",
        "additionalProperties": True,
    },
    "Password": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}},
}


def document(routes: Iterable[Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in routes:
        item = paths.setdefault(operation.path, {})
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"\{(\w+)\}", operation.path)
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": kind}}
            for name, kind, text in _QUERY.get(operation.name, [])
        ]
        responses: dict[str, Any] = {
            str(operation.success): {"description": "Success"}
            if operation.success == 204
            else {"description": "Success", "content": {"application/json": {"schema": {"type": "object"}}}}
        }
        if operation.name != "openapi":
            for code, text in _ERROR_CODES.items():
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
        entry: dict[str, Any] = {
            "operationId": operation.name,
            "summary": operation.summary,
            "tags": [operation.path.split("/")[3]],
            "responses": responses,
            "security": [] if operation.name == "openapi" else [{"basic": []}],
        }
        if parameters:
            entry["parameters"] = parameters
        if operation.body:
            entry["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{operation.body}"}}
                },
            }
        item[operation.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "spaprov administration API",
            "version": __version__,
            "description": "Write operations need the admin role; viewers may read and try rules.",
        },
        "paths": paths,
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}, "schemas": SCHEMAS},
    }

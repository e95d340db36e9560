"""The API's one error shape: {"error": {"status", "code", "message", "details"}}, and the one
strict JSON reader every request body goes through."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# Documents are a few levels deep (a device's lines are at depth 3); anything much deeper is an
# attack on whatever walks it next (the TOML writer, json.dumps), not a document.
MAX_JSON_DEPTH = 32
JSON_TYPE = "application/json"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {
            "error": {
                "status": self.status,
                "code": self.code,
                "message": self.message,
                "details": self.details,
            }
        }
        return web.json_response(body, status=self.status, headers=self.headers)


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; ApiError 415 unless it is declared application/json
    (a cross-site `<form enctype=text/plain>` cannot declare that), 413 when too large, 400 when
    it is anything but a clean JSON object."""
    if request.content_type != JSON_TYPE:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the request body must be {JSON_TYPE} (Content-Type: {request.content_type})",
        )
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", f"JSON is UTF-8, not {charset[:32]!r}")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "too_large", "the request body is too large") from None
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, one object, no NaN/Infinity, no duplicate keys, no lone surrogates,
    at most MAX_JSON_DEPTH levels.  ApiError 400 (code invalid_json) otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _invalid(f"the request body is not UTF-8 (byte {error.start})") from None
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise _invalid(f"the request body is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as error:
        raise _invalid(f"the request body is not JSON: {error}") from None
    except ValueError as error:  # NaN, a duplicate key, an integer of more than 4,300 digits
        raise _invalid(f"the request body is not acceptable JSON: {error}") from None
    if not isinstance(data, dict):
        raise _invalid("the request body must be a JSON object")
    _check_values(data)
    return data


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_json", message)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:64]!r}")
        result[key] = value
    return result


def _check_values(data: dict[str, Any]) -> None:
    """Depth and lone surrogates (`"\\ud800"` parses, then cannot be written as UTF-8), walked
    without recursion."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _invalid(f"the request body is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                pending.append((item, depth + 1))
        else:
            pending.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _invalid(
            f"the request body holds a lone surrogate (\\u{ord(text[error.start]):04x}); "
            "JSON text must be valid Unicode"
        ) from None

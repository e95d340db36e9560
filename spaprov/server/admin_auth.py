"""HTTP Basic authentication and roles for /api/v1, /admin, /metrics and /healthz's details (see
spaprov.auth.admins).

Like Digest logins, failures lock out a (name, client) pair for a while (429 + Retry-After),
unknown names included; every refused attempt is counted, malformed ones too.  The password
hash never runs on the event loop, and when every hashing slot is busy the answer is an
immediate 503 rather than a queue."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from spaprov.auth.admins import (
    MAX_PASSWORD,
    Admin,
    AdminAccounts,
    AdminAccountsError,
    AdminBusy,
    AdminLocked,
)
from spaprov.server.api_errors import ApiError
from spaprov.server.keys import ADMIN, ADMIN_ROLE

CHALLENGE = {"WWW-Authenticate": 'Basic realm="spaprov admin", charset="UTF-8"'}
MAX_NAME = 256


async def authenticate(request: web.Request, accounts: AdminAccounts, *, write: bool) -> Admin:
    """The administrator making the request; ApiError 401 (who are you), 403 (not allowed),
    429 (locked out), 503 (too busy hashing to check now) or 400 (malformed credentials)."""
    client = request.remote or "?"
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise ApiError(
            401, "unauthenticated", "administrator credentials required (HTTP Basic)", headers=CHALLENGE
        )
    try:
        name, colon, password = (
            base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError, ValueError):
        await _failed(accounts, "", client, "malformed Basic credentials")
        raise ApiError(400, "bad_authorization", "malformed Basic credentials") from None
    try:
        retry_after = accounts.retry_after(name, client)
        if retry_after is not None:
            raise _locked_out(retry_after)
        if len(password) > MAX_PASSWORD or len(name) > MAX_NAME:
            await _failed(accounts, name, client, "Basic credentials too long")
            raise ApiError(400, "bad_authorization", "Basic credentials too long")
        admin = await accounts.verify_async(name, password, client) if colon else None
    except AdminAccountsError as error:
        raise ApiError(500, "admin_accounts_broken", str(error)) from None
    except AdminBusy:
        raise ApiError(
            503, "busy", "too many logins being checked; try again", headers={"Retry-After": "1"}
        ) from None
    except AdminLocked as locked:
        raise _locked_out(locked.retry_after) from None
    retry_after = accounts.retry_after(name, client)
    if retry_after is not None:  # locked out while the hash ran: neither checked nor let in
        if admin is None:
            accounts.failed(name, client, "wrong name or password (locked out meanwhile)")
        raise _locked_out(retry_after)
    if admin is None:
        await _failed(accounts, name, client, "wrong name or password")
        raise ApiError(401, "unauthenticated", "wrong administrator name or password", headers=CHALLENGE)
    accounts.succeeded(name, client)
    if write and admin.role != "admin":
        raise ApiError(403, "forbidden", f"role {admin.role!r} may only read")
    request[ADMIN] = admin.name
    request[ADMIN_ROLE] = admin.role
    return admin


def _locked_out(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "locked_out",
        "too many failed logins; try again later",
        headers={"Retry-After": str(retry_after)},
    )


async def _failed(accounts: AdminAccounts, name: str, client: str, reason: str) -> None:
    """Count a failure; 429 when it came after a lockout another worker started."""
    retry_after = await accounts.failed_async(name, client, reason)
    if retry_after is not None:
        raise _locked_out(retry_after)


async def require_admin(
    request: web.Request, accounts: AdminAccounts, *, as_json: bool = False
) -> web.Response | None:
    """The guard of the administrator-only pages: None when an administrator (any role) makes the
    request, else the refusal to send, with authenticate's status and headers (the Basic
    challenge, Retry-After) and its message as plain text (`as_json`: the API's error body)."""
    try:
        await authenticate(request, accounts, write=False)
    except ApiError as error:
        if as_json:
            return error.response()
        return web.Response(
            status=error.status, text=f"{error.status}: {error.message}\n", headers=error.headers
        )
    return None

"""HTTP Basic authentication and roles for /api/v1 and /admin (see spaprov.auth.admins)."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from spaprov.auth.admins import Admin, AdminAccounts, AdminAccountsError
from spaprov.server.api_errors import ApiError

ADMIN = web.RequestKey("spaprov.admin", str)
ADMIN_ROLE = web.RequestKey("spaprov.admin_role", str)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="spaprov admin", charset="UTF-8"'}


def authenticate(request: web.Request, accounts: AdminAccounts, *, write: bool) -> Admin:
    """The administrator making the request; ApiError 401 (who are you) or 403 (not allowed)."""
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
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "bad_authorization", "malformed Basic credentials") from None
    try:
        admin = accounts.verify(name, password) if colon else None
    except AdminAccountsError as error:
        raise ApiError(500, "admin_accounts_broken", str(error)) from None
    if admin is None:
        raise ApiError(401, "unauthenticated", "wrong administrator name or password", headers=CHALLENGE)
    if write and admin.role != "admin":
        raise ApiError(403, "forbidden", f"role {admin.role!r} may only read")
    request[ADMIN] = admin.name
    request[ADMIN_ROLE] = admin.role
    return admin

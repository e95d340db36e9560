"""GET/POST /em/password: an extension-mobility user changes their own password (the equivalent
of CUCM's Change Credential service), authenticated with Digest like a phone's fetch."""

from __future__ import annotations

import asyncio
import hmac
import urllib.parse
from typing import Any

from aiohttp import web

from spaprov.auth.digest import ha1
from spaprov.clock import Clock
from spaprov.live.holder import ConfigHolder
from spaprov.mobility import Mobility
from spaprov.server.api_errors import JSON_TYPE, ApiError, json_object
from spaprov.server.digest_guard import DigestGuard, PendingAuth
from spaprov.server.html_pages import PAGES
from spaprov.server.keys import IDENTITY
from spaprov.server.origin import NO_FRAMING, FormTokens, cross_site_reason, from_browser

MIN_PASSWORD = 4  # SPA keypads: a PIN-like password is what people type on a phone
MAX_PASSWORD = 128
FORM_TYPE = "application/x-www-form-urlencoded"
PASSWORD_PAGE_HEADERS = {
    **NO_FRAMING,
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    # Not no-referrer: under it Chromium sends `Origin: null` even on the form's own POST.
    "Referrer-Policy": "same-origin",
}


class EmPassword:
    def __init__(self, holder: ConfigHolder, mobility: Mobility, clock: Clock) -> None:
        self.holder, self.mobility, self.clock = holder, mobility, clock
        self.tokens = FormTokens()

    def register(self, app: web.Application) -> None:
        app.router.add_get("/em/password", self.password_form)
        app.router.add_post("/em/password", self.password_change)

    async def _user(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        refusal = DigestGuard(self.holder.authenticator).check(request)
        if isinstance(refusal, PendingAuth):
            refusal = await refusal.result()
        if refusal is not None:
            return None, refusal
        identity = request[IDENTITY]
        if self.holder.config.user_for_identity(identity) is None:
            return None, _text(403, "Forbidden: not an extension-mobility user")
        return identity, None

    def _form_key(self, identity: str) -> bytes | None:
        """The form-token key of a user: their stored HA1 (see FormTokens)."""
        credentials = self.holder.credentials
        stored = credentials.ha1(identity, "SHA-256") or credentials.ha1(identity, "MD5")
        return stored.encode() if stored else None

    def _password_page(self, identity: str, message: str) -> web.Response:
        key = self._form_key(identity)
        page = PAGES.get_template("admin/password.html.j2").render(
            message=message,
            token=self.tokens.issue(identity, key) if key else "",
            min_length=MIN_PASSWORD,
            max_length=MAX_PASSWORD,
        )
        return web.Response(text=page, content_type="text/html", headers=PASSWORD_PAGE_HEADERS)

    async def password_form(self, request: web.Request) -> web.StreamResponse:
        identity, refusal = await self._user(request)
        if refusal is not None:
            return refusal
        assert identity is not None
        return self._password_page(identity, f"Signed in as {identity}.")

    async def password_change(self, request: web.Request) -> web.StreamResponse:
        """Refused unless same-origin (Origin, Sec-Fetch-Site), authenticated (Digest), with the
        current password, and (from a browser) with the token of a form this server issued."""
        reason = cross_site_reason(request, self.holder.config.site.trusted_origins)
        if reason is not None:
            return _text(403, f"Forbidden: {reason}")
        identity, refusal = await self._user(request)
        if refusal is not None:
            return refusal
        assert identity is not None
        try:
            fields = await _password_fields(request)
        except ApiError as error:
            return _text(error.status, error.message)
        token, current = fields.get("token"), fields.get("current")
        key = self._form_key(identity)
        if key is None or (
            (token is not None or from_browser(request)) and not self.tokens.valid(token or "", identity, key)
        ):
            return _text(403, "Forbidden: this form has expired or was not issued here; reload the page")
        if current is None:
            return _text(400, "Bad Request: give your current password ('current')")
        if not self._is_password(identity, current):
            # A wrong current password is a guess at it, like a wrong Digest response: counted
            # toward the same lockout of (identity, client).
            authenticator = self.holder.authenticator
            pending = authenticator.count_failure(identity, request.remote or "?", "wrong current password")
            if pending is not None:
                await authenticator.settle_failure(pending)
            self.mobility.audit_soon(
                "password_change_refused",
                self.holder.config.audit_name(identity),
                None,
                request.remote,
                "wrong current password",
            )
            return _text(403, "Forbidden: the current password is wrong")
        password, confirm = fields.get("password"), fields.get("confirm", fields.get("password"))
        if password is None or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD or password != confirm:
            return _text(
                400,
                f"Bad Request: the new password must have {MIN_PASSWORD} to {MAX_PASSWORD} "
                "characters and be typed twice the same",
            )
        # In a thread: it waits for the directory's writer lock (an import may hold it for seconds).
        await asyncio.to_thread(self.holder.credentials.set_password, identity, password)
        now, user, client = self.clock(), self.holder.config.audit_name(identity), request.remote
        await self.mobility.write(lambda tx: tx.audit(now, "password_changed", user_id=user, client=client))
        return self._password_page(
            identity, "Your password was changed. Log in on the phone with the new one."
        )

    def _is_password(self, identity: str, password: str) -> bool:
        """Constant-time check of `password` against the stored HA1 (SHA-256 where stored)."""
        credentials, realm = self.holder.credentials, self.holder.config.site.realm
        for algorithm in ("SHA-256", "MD5"):
            stored = credentials.ha1(identity, algorithm)
            if stored is not None:
                return hmac.compare_digest(stored, ha1(algorithm, identity, realm, password))
        return False


async def _password_fields(request: web.Request) -> dict[str, str]:
    """current, password, confirm and token from a form or a JSON object; ApiError 4xx for
    anything else (415 for other media types: no `text/plain` trick)."""
    raw: dict[str, Any]
    if request.content_type == JSON_TYPE:
        raw = await json_object(request)
    elif request.content_type == FORM_TYPE:
        raw = await _form(request)
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Unsupported Media Type: send {FORM_TYPE} (the page's form) or {JSON_TYPE}",
        )
    fields: dict[str, str] = {}
    for name in ("current", "password", "confirm", "token"):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not _printable(value):
            raise ApiError(400, "bad_field", f"Bad Request: {name!r} must be text")
        fields[name] = value
    return fields


async def _form(request: web.Request) -> dict[str, Any]:
    """A strict urlencoded form: UTF-8 (percent-escapes included), each field at most once."""
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", f"Unsupported Media Type: charset {charset[:32]!r}")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "too_large", "Request Entity Too Large") from None
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=16
        )
    except (UnicodeDecodeError, ValueError):
        raise ApiError(
            400, "bad_form", "Bad Request: malformed form data (UTF-8, at most 16 fields)"
        ) from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise ApiError(400, "bad_form", "Bad Request: a form field is given twice")
    return form


def _printable(text: str) -> bool:
    """Text that can be hashed and stored: valid Unicode, no control characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 32 or ord(c) == 127 or c == "\ufffd" for c in text)


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=f"{status}: {message}\n", headers=dict(NO_FRAMING))

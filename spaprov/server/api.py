"""The JSON API under /api/v1: rules, devices, users, EM profiles, sessions, audit, passwords.

One table (`ROUTES`) declares every operation; it registers the aiohttp routes and produces the
OpenAPI document, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from spaprov.auth.admins import AdminAccounts
from spaprov.clock import Clock
from spaprov.config.documents import KINDS, device_document, profile_document, user_document
from spaprov.config.loader import ID_NAME
from spaprov.live.directory_edits import DirectoryEditor, EditRefused
from spaprov.live.holder import ConfigHolder
from spaprov.mac import normalize_mac
from spaprov.mobility import Mobility, forced_logout
from spaprov.rules import RuleKind, RuleSyntaxError, StateError, evaluate, format_rule, lint, parse
from spaprov.rules.macros import ExpansionTooLarge
from spaprov.server import api_site
from spaprov.server.admin_auth import authenticate
from spaprov.server.api_common import attribution, password_of, session_json
from spaprov.server.api_errors import ApiError, json_object
from spaprov.server.keys import ADMIN_ROLE
from spaprov.server.listing import BadPaging, page, paging
from spaprov.server.origin import SAFE_METHODS, cross_site_reason
from spaprov.timespec import parse_since

ApiHandler = Callable[["Api", web.Request, "Operation"], Awaitable[web.StreamResponse]]
MAX_AUDIT_LIMIT = 10_000
_LIMIT = re.compile(r"[0-9]{1,6}")
_LABELS = {"devices": "device", "users": "user", "em_profiles": "EM profile"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str  # the OpenAPI operationId
    handler: ApiHandler  # the Api method that serves it (unbound: called with the Api)
    summary: str
    write: bool  # needs the admin role (viewers may only read)
    body: str | None = None  # name of the request schema, if any
    success: int = 200


class Api:
    def __init__(
        self, holder: ConfigHolder, mobility: Mobility, accounts: AdminAccounts, clock: Clock
    ) -> None:
        self.holder = holder
        self.clock = clock
        self.mobility = mobility
        self.accounts = accounts
        self.editor = DirectoryEditor(holder)

    def register(self, app: web.Application) -> None:
        for operation in ROUTES:
            app.router.add_route(operation.method, operation.path, self._guarded(operation))

    def _guarded(self, operation: Operation) -> Handler:
        handler = operation.handler

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                self._same_origin(request)
                if operation.name != "openapi":
                    await authenticate(request, self.accounts, write=operation.write)
                return await handler(self, request, operation)
            except ApiError as error:
                return error.response()

        return guarded

    def _same_origin(self, request: web.Request) -> None:
        """Refuse a state-changing request another site's page made a browser send (CSRF)."""
        if request.method in SAFE_METHODS:
            return
        reason = cross_site_reason(request, self.holder.config.site.trusted_origins)
        if reason is not None:
            raise ApiError(403, "cross_origin", f"refused: {reason}")

    async def _audit_write(
        self,
        request: web.Request,
        event: str,
        what: str,
        *,
        user_id: str | None = None,
        device: str | None = None,
    ) -> None:
        """Record who changed what, durably, before the change is acknowledged."""
        now, client = self.clock(), request.remote
        detail = f"{what} by {attribution(request)}"
        await self.mobility.write(
            lambda tx: tx.audit(now, event, user_id=user_id, device=device, client=client, detail=detail)
        )

    async def _audit_document(self, request: web.Request, event: str, kind: str, key: str) -> None:
        await self._audit_write(
            request,
            event,
            f"{_LABELS[kind]} {key}",
            user_id=key if kind == "users" else None,
            device=key if kind == "devices" else None,
        )

    # -- rules --------------------------------------------------------------------------------------
    @staticmethod
    async def _rule_request(request: web.Request) -> tuple[str, RuleKind, dict[str, Any]]:
        body = await json_object(request)
        rule = body.get("rule")
        if not isinstance(rule, str):
            raise ApiError(400, "bad_request", "'rule' must be a string")
        try:
            kind = RuleKind(body.get("kind", "profile"))
        except ValueError:
            raise ApiError(400, "bad_request", "'kind' must be profile, upgrade, report or trigger") from None
        return rule, kind, body

    @staticmethod
    def _syntax(error: RuleSyntaxError) -> ApiError:
        detail = {
            "line": error.line,
            "column": error.column,
            "message": error.message,
            "text": error.text,
            "expected": list(error.expected),
            "rendered": error.render(),
        }
        return ApiError(422, "rule_syntax", str(error), [detail])

    async def _rule_check(self, request: web.Request, _: Operation) -> web.Response:
        rule, kind, _body = await self._rule_request(request)
        try:
            parsed = parse(rule, kind)
        except RuleSyntaxError as error:
            raise self._syntax(error) from None
        return web.json_response({"ok": True, "alternatives": len(parsed.alternatives)})

    async def _rule_eval(self, request: web.Request, _: Operation) -> web.Response:
        rule, kind, body = await self._rule_request(request)
        state = body.get("state", {})
        if not isinstance(state, dict) or not all(isinstance(v, str | int) for v in state.values()):
            raise ApiError(400, "bad_request", "'state' must be an object of strings")
        try:
            result = evaluate(parse(rule, kind), state, trace=bool(body.get("trace", False)))
        except RuleSyntaxError as error:
            raise self._syntax(error) from None
        except ExpansionTooLarge as error:
            raise ApiError(400, "expansion_too_large", str(error)) from None
        except StateError as error:
            raise ApiError(400, "bad_state", str(error)) from None
        return web.json_response(result.to_json())

    async def _rule_lint(self, request: web.Request, _: Operation) -> web.Response:
        rule, kind, _body = await self._rule_request(request)
        served = {route.path: route.kind != "default" for route in self.holder.config.routes}
        try:
            warnings = lint(parse(rule, kind), served_paths=served if kind is RuleKind.PROFILE else None)
        except RuleSyntaxError as error:
            raise self._syntax(error) from None
        return web.json_response(
            {
                "warnings": [
                    {"line": w.line, "column": w.column, "code": w.code, "message": w.message}
                    for w in warnings
                ]
            }
        )

    async def _rule_fmt(self, request: web.Request, _: Operation) -> web.Response:
        rule, kind, _body = await self._rule_request(request)
        try:
            return web.json_response({"rule": format_rule(parse(rule, kind))})
        except RuleSyntaxError as error:
            raise self._syntax(error) from None

    # -- devices, users, EM profiles ------------------------------------------------------------------
    @staticmethod
    def _kind(operation: Operation) -> str:
        return operation.path.split("/")[3]

    def _documents(self, kind: str, *, secrets: bool) -> dict[str, dict[str, Any]]:
        config = self.holder.config
        if kind == "devices":
            return {mac: device_document(d, secrets=secrets) for mac, d in config.devices.items()}
        if kind == "users":
            return {uid: user_document(u) for uid, u in config.users.items()}
        return {name: profile_document(p, secrets=secrets) for name, p in config.em_profiles.items()}

    @staticmethod
    def _secrets_visible(request: web.Request) -> bool:
        return request[ADMIN_ROLE] == "admin"

    async def _list(self, request: web.Request, operation: Operation) -> web.Response:
        """`?q=&offset=&limit=`: only the requested page becomes documents (see listing)."""
        kind, config = self._kind(operation), self.holder.config
        try:
            text, offset, limit = paging(request.query, default_limit=None)
        except BadPaging as error:
            raise ApiError(400, "bad_request", str(error)) from None
        found = page(config, kind, text, offset, limit)
        secrets = self._secrets_visible(request)
        return web.json_response(
            {
                "items": [{KINDS[kind]: key, **self._document(kind, key, secrets)} for key in found.keys],
                "total": found.total,
                "offset": found.offset,
                "limit": found.limit,
            }
        )

    def _document(self, kind: str, key: str, secrets: bool) -> dict[str, Any]:
        config = self.holder.config
        if kind == "devices":
            return device_document(config.devices[key], secrets=secrets)
        if kind == "users":
            return user_document(config.users[key])
        return profile_document(config.em_profiles[key], secrets=secrets)

    async def _read(self, request: web.Request, operation: Operation) -> web.Response:
        kind, key = self._kind(operation), self._key(request, operation)
        document = self._documents(kind, secrets=self._secrets_visible(request)).get(key)
        if document is None:
            raise ApiError(404, "not_found", f"no {kind[:-1].replace('_', ' ')} {key!r}")
        return web.json_response({KINDS[kind]: key, **document})

    async def _create(self, request: web.Request, operation: Operation) -> web.Response:
        kind = self._kind(operation)
        body = await json_object(request)
        key = self._normalise(kind, body.pop(KINDS[kind], None))
        if key in self._documents(kind, secrets=False):
            raise ApiError(409, "exists", f"{key!r} already exists; PUT replaces it")
        await self._save(kind, key, body)
        await self._audit_document(request, "admin_create", kind, key)
        return web.json_response({KINDS[kind]: key, **self._documents(kind, secrets=True)[key]}, status=201)

    async def _update(self, request: web.Request, operation: Operation) -> web.Response:
        kind, key = self._kind(operation), self._key(request, operation)
        if key not in self._documents(kind, secrets=False):
            raise ApiError(404, "not_found", f"no {kind[:-1].replace('_', ' ')} {key!r}")
        body = await json_object(request)
        body.pop(KINDS[kind], None)
        await self._save(kind, key, body)
        await self._audit_document(request, "admin_update", kind, key)
        return web.json_response({KINDS[kind]: key, **self._documents(kind, secrets=True)[key]})

    async def _delete(self, request: web.Request, operation: Operation) -> web.Response:
        kind, key = self._kind(operation), self._key(request, operation)
        if key not in self._documents(kind, secrets=False):
            raise ApiError(404, "not_found", f"no {kind[:-1].replace('_', ' ')} {key!r}")
        await self._edit({f"{kind}/{key}.toml": None})
        await self._audit_document(request, "admin_delete", kind, key)
        return web.Response(status=204)

    def _key(self, request: web.Request, operation: Operation) -> str:
        return self._normalise(self._kind(operation), request.match_info["id"])

    @staticmethod
    def _normalise(kind: str, key: object) -> str:
        if kind == "devices":
            text = normalize_mac(key) if isinstance(key, str) else None
        else:
            text = key if isinstance(key, str) and ID_NAME.fullmatch(key) else None
        if text is None:
            hint = "a MAC address" if kind == "devices" else "lower-case letters, digits, . _ -"
            raise ApiError(
                400,
                "bad_id",
                f"{KINDS[kind]} must be {hint}",
                [{"file": "", "field": KINDS[kind], "reason": f"must be {hint}"}],
            )
        return text

    async def _save(self, kind: str, key: str, document: dict[str, Any]) -> None:
        label = f"{kind}/{key}.toml"
        try:
            content = self.editor.encode(label, document)
        except EditRefused as refused:
            raise _refused(refused) from None
        await self._edit({label: content})

    async def _edit(self, overrides: dict[str, bytes | None]) -> None:
        try:
            await self.editor.apply(overrides)
        except EditRefused as refused:
            raise _refused(refused) from None

    async def _password(self, request: web.Request, _: Operation) -> web.Response:
        """A Digest password for a user or a device's host user, named as the CLI names it
        (alice@example.com) or by the bare id (alice): both are the same Digest user."""
        config = self.holder.config
        domain, given = config.site.em_user_domain, request.match_info["id"]
        if "@" in given and not given.endswith(domain):
            raise ApiError(404, "not_found", f"{given!r} is not in this site's domain {domain}")
        key = self._normalise("users", given.removesuffix(domain))
        hosts = sorted(mac for mac, device in config.devices.items() if device.host_user == key)
        if key not in config.users and not hosts:
            raise ApiError(404, "not_found", f"no user or host user {key!r} (the id, or the id{domain})")
        password = password_of(await json_object(request))
        # In a thread: it waits for the directory's writer lock (an import may hold it for seconds).
        await asyncio.to_thread(self.holder.credentials.set_password, key + domain, password)
        what = f"user {key}" if key in config.users else f"host user {key} (devices {', '.join(hosts)})"
        await self._audit_write(request, "admin_password", f"password of {what}", user_id=key)
        return web.Response(status=204)

    # -- sessions and audit -----------------------------------------------------------------------------
    async def _sessions_list(self, request: web.Request, _: Operation) -> web.Response:
        everything = request.query.get("all") in ("1", "true")
        sessions = await self.mobility.read(lambda tx: tx.sessions(active_only=not everything))
        return web.json_response({"items": [session_json(s) for s in sessions]})

    async def _sessions_logout(self, request: web.Request, _: Operation) -> web.Response:
        target = request.match_info["target"]
        now, client, detail = self.clock(), request.remote, f"by {attribution(request)}"
        ended = await self.mobility.write(
            lambda tx: forced_logout(tx, target, now, client=client, detail=detail)
        )
        if not ended:
            raise ApiError(404, "not_found", f"no active session for {target!r}")
        self.mobility.sessions_ended()  # push a resync to those phones now
        return web.json_response({"ended": [session_json(s) for s in ended]})

    async def _audit(self, request: web.Request, _: Operation) -> web.Response:
        try:
            since = parse_since(request.query["since"], self.clock()) if "since" in request.query else None
        except (ValueError, OverflowError) as error:
            raise ApiError(400, "bad_request", str(error)[:200]) from None
        limit = _audit_limit(request.query.get("limit", "1000"))
        user, event = request.query.get("user") or None, request.query.get("event") or None
        device_text = request.query.get("device") or None
        device = normalize_mac(device_text) if device_text else None
        if device_text and device is None:
            raise ApiError(400, "bad_request", f"'device' must be a MAC address, not {device_text[:32]!r}")
        entries = await self.mobility.read(
            lambda tx: tx.audit_entries(user_id=user, since=since, limit=limit, event=event, device=device)
        )
        return web.json_response(
            {
                "items": [
                    {
                        "at": e.at,
                        "event": e.event,
                        "user": e.user_id,
                        "device": e.device,
                        "client": e.client,
                        "detail": e.detail,
                    }
                    for e in entries
                ]
            }
        )

    async def _openapi(self, request: web.Request, _: Operation) -> web.Response:
        from spaprov.server.openapi import document

        return web.json_response(document(ROUTES))


# After the class: each operation names the Api method that serves it (a typo fails at import).
ROUTES: tuple[Operation, ...] = (
    Operation(
        "POST", "/api/v1/rules/check", "rule_check", Api._rule_check, "Parse a rule", False, "RuleRequest"
    ),
    Operation(
        "POST",
        "/api/v1/rules/eval",
        "rule_eval",
        Api._rule_eval,
        "Evaluate a rule for a phone state",
        False,
        "RuleRequest",
    ),
    Operation("POST", "/api/v1/rules/lint", "rule_lint", Api._rule_lint, "Lint a rule", False, "RuleRequest"),
    Operation(
        "POST",
        "/api/v1/rules/fmt",
        "rule_fmt",
        Api._rule_fmt,
        "Format a rule canonically",
        False,
        "RuleRequest",
    ),
    *(
        op
        for kind, label in (("devices", "device"), ("users", "user"), ("em_profiles", "EM profile"))
        for op in (
            Operation("GET", f"/api/v1/{kind}", f"{kind}_list", Api._list, f"List every {label}", False),
            Operation(
                "POST",
                f"/api/v1/{kind}",
                f"{kind}_create",
                Api._create,
                f"Create {'an' if label[0] in 'AEIOU' else 'a'} {label}",
                True,
                "Document",
                201,
            ),
            Operation("GET", f"/api/v1/{kind}/{{id}}", f"{kind}_read", Api._read, f"Read a {label}", False),
            Operation(
                "PUT",
                f"/api/v1/{kind}/{{id}}",
                f"{kind}_update",
                Api._update,
                f"Replace a {label}",
                True,
                "Document",
            ),
            Operation(
                "DELETE",
                f"/api/v1/{kind}/{{id}}",
                f"{kind}_delete",
                Api._delete,
                f"Delete a {label}",
                True,
                None,
                204,
            ),
        )
    ),
    Operation(
        "PUT",
        "/api/v1/users/{id}/password",
        "user_password",
        Api._password,
        "Set a Digest password: a user's or a device's host user's, by id or id@domain",
        True,
        "Password",
        204,
    ),
    Operation(
        "PUT",
        "/api/v1/devices/{id}/host_password",
        "device_host_password",
        api_site.host_password,
        "Set the password of a device's host (phone) user",
        True,
        "Password",
        204,
    ),
    Operation("PUT", "/api/v1/users/{id}/lock", "user_lock", api_site.lock, "Lock a user", True),
    Operation("DELETE", "/api/v1/users/{id}/lock", "user_unlock", api_site.lock, "Unlock a user", True),
    Operation("GET", "/api/v1/site/rule", "site_rule", api_site.site_rule, "The site's Profile_Rule", False),
    Operation(
        "PUT",
        "/api/v1/site/rule",
        "site_rule_save",
        api_site.site_rule_save,
        "Save the site's Profile_Rule",
        True,
        "RuleRequest",
    ),
    Operation(
        "POST",
        "/api/v1/rules/impact",
        "rule_impact",
        api_site.rule_impact,
        "Preview a new Profile_Rule: what every device fetches with the site's rule and with it",
        False,
        "RuleRequest",
    ),
    Operation(
        "GET", "/api/v1/sessions", "sessions_list", Api._sessions_list, "Extension-mobility sessions", False
    ),
    Operation(
        "DELETE",
        "/api/v1/sessions/{target}",
        "sessions_logout",
        Api._sessions_logout,
        "Force a logout (user id or MAC)",
        True,
    ),
    Operation("GET", "/api/v1/audit", "audit", Api._audit, "Query the audit log, newest first", False),
    Operation("GET", "/api/v1/openapi.json", "openapi", Api._openapi, "This API's OpenAPI document", False),
)


def _audit_limit(text: str) -> int:
    limit = int(text) if _LIMIT.fullmatch(text) else 0
    if not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise ApiError(
            400,
            "bad_request",
            f"'limit' must be a whole number from 1 to {MAX_AUDIT_LIMIT}, not {text[:32]!r}",
        )
    return limit


def _refused(refused: EditRefused) -> ApiError:
    details = [{"file": p.file, "field": p.field, "reason": p.reason} for p in refused.problems]
    return ApiError(
        422,
        "validation_failed",
        f"the change was refused: {len(details)} problem(s); nothing was written",
        details,
    )

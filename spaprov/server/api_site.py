"""The API operations the console is built on, beyond plain documents: a device's host-user
password, locking a user, reading and saving the site's rule, and the rule impact preview."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from spaprov.config.documents import user_document
from spaprov.config.phone_states import phone_states
from spaprov.config.site_rule import site_rule_bytes
from spaprov.mobility import forced_logout
from spaprov.rules import RuleKind, RuleSyntaxError, parse
from spaprov.rules.impact import impact
from spaprov.server.api_common import attribution, password_of, session_json
from spaprov.server.api_errors import ApiError, json_object
from spaprov.server.impact_json import impact_document
from spaprov.server.listing import MAX_LIMIT

if TYPE_CHECKING:
    from spaprov.server.api import Api, Operation


async def host_password(api: Api, request: web.Request, _: Operation) -> web.Response:
    """The Digest password of a device's host (phone) user: HOST + the site's domain."""
    mac = api._normalise("devices", request.match_info["id"])
    device = api.holder.config.devices.get(mac)
    if device is None:
        raise ApiError(404, "not_found", f"no device {mac!r}")
    password = password_of(await json_object(request))
    user = device.host_user + api.holder.config.site.em_user_domain
    await asyncio.to_thread(api.holder.credentials.set_password, user, password)  # waits for the writer lock
    what = f"password of host user {device.host_user} of device {mac}"
    await api._audit_write(request, "admin_host_password", what, user_id=device.host_user, device=mac)
    return web.Response(status=204)


async def lock(api: Api, request: web.Request, _: Operation) -> web.Response:
    """PUT locks a user (its file says `locked = true`; active sessions end), DELETE unlocks."""
    key = api._normalise("users", request.match_info["id"])
    user = api.holder.config.users.get(key)
    if user is None:
        raise ApiError(404, "not_found", f"no user {key!r}")
    locking = request.method == "PUT"
    document = user_document(user)
    if locking:
        document["locked"] = True
    else:
        document.pop("locked", None)
    await api._save("users", key, document)
    ended: list[Any] = []
    if locking:
        now, client, detail = api.clock(), request.remote, f"locked by {attribution(request)}"
        ended = await api.mobility.write(lambda tx: forced_logout(tx, key, now, client=client, detail=detail))
        if ended:
            api.mobility.sessions_ended()  # push a resync to those phones now
    event = "admin_lock" if locking else "admin_unlock"
    await api._audit_write(request, event, f"user {key}", user_id=key)
    return web.json_response({"id": key, "locked": locking, "ended": [session_json(s) for s in ended]})


async def site_rule(api: Api, request: web.Request, _: Operation) -> web.Response:
    return web.json_response({"rule": api.holder.config.site.profile_rule})


async def site_rule_save(api: Api, request: web.Request, _: Operation) -> web.Response:
    """Write site.toml's profile_rule (only that key: the file's comments stay); the whole
    directory must validate with it, as for every other edit."""
    rule, _kind, _body = await api._rule_request(request)
    label = "site.toml"
    try:
        content = site_rule_bytes((api.holder.root / label).read_bytes(), rule)
    except (OSError, ValueError) as error:
        raise ApiError(500, "site_unreadable", f"cannot update {label}: {error}") from None
    await api._edit({label: content})
    await api._audit_write(request, "admin_rule", "the site's Profile_Rule")
    return web.json_response({"rule": api.holder.config.site.profile_rule})


async def rule_impact(api: Api, request: web.Request, _: Operation) -> web.Response:
    """Every device, in its current session state, under the site's rule and `rule`."""
    rule, kind, body = await api._rule_request(request)
    if kind is not RuleKind.PROFILE:
        raise ApiError(400, "bad_request", "the impact preview is for a profile rule")
    limit = body.get("limit", 200)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_LIMIT:
        raise ApiError(400, "bad_request", f"'limit' must be a whole number from 0 to {MAX_LIMIT}")
    config = api.holder.config
    try:
        new = parse(rule)
        old = parse(config.site.profile_rule)
    except RuleSyntaxError as error:
        raise api._syntax(error) from None
    sessions = await api.mobility.read(lambda tx: tx.sessions(active_only=True))
    logged_in = {s.device: s.user_id for s in sessions}
    states = list(phone_states(config, logged_in))
    result = await asyncio.to_thread(impact, old, new, states)
    return web.json_response(impact_document(result, limit))

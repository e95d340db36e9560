"""A phone fetching its profile (any path the site's rule serves): route → who is asking → may
they → build the profile (cached) → 200/304.  What goes into the profile is spaprov.profiles."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from spaprov.config.schema import Config, Device, Route, User
from spaprov.live.cache import RenderCache, Rendered
from spaprov.live.holder import ConfigHolder
from spaprov.live.reload import catch_up
from spaprov.mac import mac_from_user_agent, normalize_mac
from spaprov.mobility import Action, Mobility
from spaprov.mobility.policy import RETRY_AFTER_BUSY
from spaprov.profiles import ProfileBuilder, RenderKind
from spaprov.profiles.encryption import encrypt_profile
from spaprov.server.digest_guard import DigestGuard, PendingAuth
from spaprov.server.keys import DEVICE, IDENTITY, POLICY, ROUTE_KIND

log = logging.getLogger("spaprov.server")
ALLOWED = "GET, HEAD"


class PhoneFetch:
    def __init__(
        self, holder: ConfigHolder, builder: ProfileBuilder, cache: RenderCache, mobility: Mobility
    ) -> None:
        self.holder = holder
        self.builder = builder
        self.cache = cache
        self.mobility = mobility
        # Told (mac, client address) on each authenticated fetch (host or mobile): where a resync
        # push can reach the phone. Never from an unauthenticated default fetch: anyone can send
        # one in a phone's name, and would then receive the push and its Digest answer.
        self.on_seen: Callable[[str, str], None] = lambda _mac, _address: None

    async def get(self, request: web.Request) -> web.StreamResponse:
        if not await catch_up(self.holder):  # never an older configuration than another worker's
            return _text(503, "503: Service Unavailable\n", {"Retry-After": "1"})
        # One configuration for the whole request: a reload may land while we await the state
        # store, and a profile rendered from the old devices must not be cached as the new one.
        generation, config = self.holder.generation, self.holder.config
        matched = self.holder.match(request.path, request.query_string)
        if matched is None:
            return _text(404, "404: Not Found\n")
        route, path_mac = matched
        request[ROUTE_KIND] = route.kind
        if route.kind != "default":
            refusal = DigestGuard(self.holder.authenticator).check(request)
            if isinstance(refusal, PendingAuth):
                refusal = await refusal.result()
            if refusal is not None:
                return refusal
        device, refusal = self._device(request, config, route, path_mac)
        if refusal is not None:
            return refusal
        assert device is not None
        user: User | None = None
        kind: RenderKind = route.kind
        client = request.remote or "?"
        if route.kind == "host":
            refusal = self._check_host(request, config, device)
        elif route.kind == "mobile":
            user, refusal = self._check_mobile(request, config, device)
        if refusal is not None:
            if refusal.status == 403:
                reason = (refusal.text or "").strip()
                identity = request.get(IDENTITY)
                name = config.audit_name(identity) if identity else identity
                self.mobility.audit_soon("denied", name, device.mac, client, reason)
            return refusal
        if route.kind != "default" and request.remote:
            self.on_seen(device.mac, request.remote)
        if user is not None:
            decision = await self.mobility.mobile_fetch(
                config.site.mobility, user.user_id, device.mac, client, locked=user.locked
            )
            request[POLICY] = decision.reason
            if decision.action is Action.DENY:
                return _text(403, f"403: Forbidden: {decision.reason}\n")
            if decision.action is Action.BUSY:
                return _text(
                    503,
                    "503: Service Unavailable: too many logins in progress\n",
                    headers={"Retry-After": str(RETRY_AFTER_BUSY)},
                )
            if decision.action is Action.LOGOUT:
                kind = "logout"
        elif route.kind == "host":  # authenticated as this phone's own host user (checked above)
            await self.mobility.host_fetch(device.mac, client)
        # An unauthenticated default fetch changes no state: anyone can send one in a phone's name.
        rendered = self._render(generation, config, kind, device, user, request.secure)
        return _conditional(request, rendered, device.profile_key if route.encrypted else None)

    async def other_method(self, request: web.Request) -> web.StreamResponse:
        if self.holder.match(request.path, request.query_string) is None:
            return _text(404, "404: Not Found\n")
        return _text(405, "405: Method Not Allowed\n", headers={"Allow": ALLOWED})

    # -- who is asking ------------------------------------------------------------------------------
    def _device(
        self, request: web.Request, config: Config, route: Route, path_mac: str | None
    ) -> tuple[Device | None, web.Response | None]:
        """The phone asking: by the MAC in the path or query, else in the User-Agent, else (on a
        host route, already authenticated) by its Digest user, which is one device's own host
        user.  The SPA525G states no MAC in its User-Agent (`Cisco/SPA525G-7.4.7 (CBT141900G7)`,
        [WAZO] common.py), so on a route without $MA only its host fetch can be identified."""
        from_agent = mac_from_user_agent(request.headers.get("User-Agent", ""))
        mac = normalize_mac(path_mac) if path_mac else (from_agent[0] if from_agent else None)
        if mac is None and route.kind == "host":
            host_device = config.device_for_host_identity(request[IDENTITY])
            if host_device is None:
                return None, _text(403, "403: Forbidden: these are not a phone's host credentials\n")
            mac = host_device.mac
        if mac is None:
            return None, _text(
                400,
                "400: Bad Request: no MAC address in the path, the query or the User-Agent "
                "(put $MA in the rule's URL)\n",
            )
        request[DEVICE] = mac
        device = config.devices.get(mac)
        if device is None:
            return None, _text(404, "404: Not Found: unknown device\n")
        if from_agent and from_agent[1] != device.model.name:
            log.warning(
                "device %s announces model %s but is configured as %s; rendering for %s",
                mac,
                from_agent[1],
                device.model.name,
                device.model.name,
            )
        return device, None

    def _check_host(self, request: web.Request, config: Config, device: Device) -> web.Response | None:
        expected = device.host_user + config.site.em_user_domain
        if request[IDENTITY] != expected:
            log.warning(
                "host credentials of %r used on device %s (its host user is %r)",
                request[IDENTITY],
                device.mac,
                expected,
            )
            return _text(403, "403: Forbidden: these are not this phone's host credentials\n")
        return None

    def _check_mobile(
        self, request: web.Request, config: Config, device: Device
    ) -> tuple[User | None, web.Response | None]:
        if not device.em_enabled:
            return None, _text(403, "403: Forbidden: extension mobility is disabled on this phone\n")
        user = config.user_for_identity(request[IDENTITY])
        if user is None:
            return None, _text(403, "403: Forbidden: not an extension-mobility user of this site\n")
        return user, None

    # -- rendering ----------------------------------------------------------------------------------
    def _render(
        self,
        generation: int,
        config: Config,
        kind: RenderKind,
        device: Device,
        user: User | None,
        secure: bool,
    ) -> Rendered:
        identity = user.user_id if user and kind == "mobile" else ""
        key = (generation, kind, device.mac, identity, secure and kind == "default")
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        body = self.builder.build(config, kind, device, user=user, secure=secure)
        return self.cache.put(key, body)


def _conditional(request: web.Request, rendered: Rendered, key: str | None = None) -> web.Response:
    """200 or 304; with `key`, the body encrypted for `[--key $SA]` (openssl enc format, a fresh
    salt each time; the ETag is the plain profile's, so 304 still works)."""
    headers = {"ETag": rendered.etag, "Cache-Control": "private, no-cache"}
    if _etag_matches(request.headers.get("If-None-Match", ""), rendered.etag):
        return web.Response(status=304, headers=headers)
    if key is not None:
        body = encrypt_profile(rendered.body, key)
        return web.Response(body=body, content_type="application/octet-stream", headers=headers)
    return web.Response(body=rendered.body, content_type="text/xml", charset="us-ascii", headers=headers)


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    candidates = {item.strip().removeprefix("W/") for item in header.split(",")}
    return "*" in candidates or etag in candidates


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text, headers=headers)

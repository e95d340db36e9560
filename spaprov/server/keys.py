"""Typed keys for what handlers and middleware put on a request (aiohttp's RequestKey), all in
one place: who authenticated, why a login was refused, which device and route, what the
mobility policy decided, which administrator asked.  The application's own keys (the live
configuration, the mobility runner, ...) are web.AppKeys in spaprov.server.app."""

from __future__ import annotations

from aiohttp import web

IDENTITY = web.RequestKey("spaprov.identity", str)  # the Digest user, once authenticated
AUTH_REASON = web.RequestKey("spaprov.auth_reason", str)  # why Digest auth decided as it did
DEVICE = web.RequestKey("spaprov.device", str)
ROUTE_KIND = web.RequestKey("spaprov.route", str)
POLICY = web.RequestKey("spaprov.policy", str)
ADMIN = web.RequestKey("spaprov.admin", str)  # the administrator (HTTP Basic) making the request
ADMIN_ROLE = web.RequestKey("spaprov.admin_role", str)

"""Typed keys for what handlers and middleware share on the app and the request."""

from __future__ import annotations

from aiohttp import web

from spaprov.server.digest_guard import AUTH_REASON, IDENTITY

DEVICE = web.RequestKey("spaprov.device", str)
ROUTE_KIND = web.RequestKey("spaprov.route", str)
POLICY = web.RequestKey("spaprov.policy", str)

__all__ = ["AUTH_REASON", "DEVICE", "IDENTITY", "POLICY", "ROUTE_KIND"]

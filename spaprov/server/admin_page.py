"""/admin (the administrator's page), /metrics, and /em/password (a user's own password)."""

from __future__ import annotations

import jinja2
from aiohttp import web

from spaprov.auth.admins import AdminAccounts
from spaprov.mobility import Mobility
from spaprov.resources import resource_dir
from spaprov.server.admin_auth import authenticate
from spaprov.server.api_errors import ApiError
from spaprov.server.cache import RenderCache
from spaprov.server.digest_guard import IDENTITY, DigestGuard
from spaprov.server.holder import ConfigHolder
from spaprov.server.metrics import Metrics

_PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

PASSWORD_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Change your password</title></head>
<body><h1>Change your extension-mobility password</h1><p>{message}</p>
<form method="post" action="/em/password">
<label>New password <input type="password" name="password" autocomplete="new-password" required></label>
<label>Again <input type="password" name="confirm" autocomplete="new-password" required></label>
<button type="submit">Change</button></form></body></html>"""
MIN_PASSWORD = 4  # SPA keypads: a PIN-like password is what people type on a phone


class AdminPages:
    def __init__(
        self,
        holder: ConfigHolder,
        accounts: AdminAccounts,
        metrics: Metrics,
        cache: RenderCache,
        mobility: Mobility,
    ) -> None:
        self.holder, self.accounts, self.metrics, self.cache, self.mobility = (
            holder,
            accounts,
            metrics,
            cache,
            mobility,
        )

    def register(self, app: web.Application) -> None:
        app.router.add_get("/admin", self.admin)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/em/password", self.password_form)
        app.router.add_post("/em/password", self.password_change)

    async def admin(self, request: web.Request) -> web.StreamResponse:
        try:
            authenticate(request, self.accounts, write=False)
        except ApiError as error:
            return web.Response(
                status=error.status, text=f"{error.status}: {error.message}\n", headers=error.headers
            )
        site = self.holder.config.site
        page = _PAGES.get_template("admin/index.html.j2").render(
            site_name=site.name, profile_rule=site.profile_rule, em_user_domain=site.em_user_domain
        )
        return web.Response(
            text=page,
            content_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' 'self'; "
                "style-src 'unsafe-inline'",
                "Cache-Control": "no-store",
            },
        )

    async def metrics_page(self, request: web.Request) -> web.StreamResponse:
        try:
            authenticate(request, self.accounts, write=False)
        except ApiError as error:
            return web.Response(
                status=error.status, text=f"{error.status}: {error.message}\n", headers=error.headers
            )
        active = await self.mobility.read(lambda tx: tx.active_count())
        holder = self.holder
        gauges = [
            ("spaprov_active_sessions", "Active extension-mobility sessions", float(active)),
            (
                "spaprov_render_cache_hits_total",
                "Profiles served from the render cache",
                float(self.cache.hits),
            ),
            ("spaprov_render_cache_misses_total", "Profiles rendered", float(self.cache.misses)),
            ("spaprov_reloads_total", "Configuration reloads attempted", float(holder.reloads)),
            ("spaprov_reload_failures_total", "Configuration reloads refused", float(holder.reload_failures)),
            (
                "spaprov_config_generation",
                "Generation of the configuration being served",
                float(holder.generation),
            ),
            *self.mobility.audit.gauges(),
        ]
        return web.Response(
            text=self.metrics.render(gauges),
            content_type="text/plain",
            headers={"X-Content-Type-Options": "nosniff"},
            charset="utf-8",
        )

    # -- a user's own password (CUCM's Change Credential service) ---------------------------------------
    def _user(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        refusal = DigestGuard(self.holder.authenticator).check(request)
        if refusal is not None:
            return None, refusal
        identity = request[IDENTITY]
        if self.holder.config.user_for_identity(identity) is None:
            return None, web.Response(status=403, text="403: Forbidden: not an extension-mobility user\n")
        return identity, None

    async def password_form(self, request: web.Request) -> web.StreamResponse:
        identity, refusal = self._user(request)
        if refusal is not None:
            return refusal
        return web.Response(
            text=PASSWORD_FORM.format(message=f"Signed in as {_html(identity or '')}."),
            content_type="text/html",
        )

    async def password_change(self, request: web.Request) -> web.StreamResponse:
        identity, refusal = self._user(request)
        if refusal is not None:
            return refusal
        assert identity is not None
        if request.content_type == "application/json":
            body = await request.json()
            password, confirm = body.get("password"), body.get("confirm", body.get("password"))
        else:
            form = await request.post()
            password, confirm = form.get("password"), form.get("confirm")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD or password != confirm:
            return web.Response(
                status=400,
                text=f"400: the new password must have at least {MIN_PASSWORD} "
                "characters and be typed twice the same\n",
            )
        self.holder.credentials.set_password(identity, password)
        self.mobility.audit_soon("password_changed", identity.split("@")[0], None, request.remote)
        return web.Response(
            text=PASSWORD_FORM.format(
                message="Your password was changed. Log in on the phone with the new one."
            ),
            content_type="text/html",
        )


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

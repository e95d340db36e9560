"""GET /admin: the administrator's page (any admin role)."""

from __future__ import annotations

from aiohttp import web

from spaprov.auth.admins import AdminAccounts
from spaprov.live.holder import ConfigHolder
from spaprov.server.admin_auth import require_admin
from spaprov.server.html_pages import PAGES
from spaprov.server.origin import NO_FRAMING

ADMIN_PAGE_HEADERS = {
    **NO_FRAMING,
    "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


class AdminPage:
    def __init__(self, holder: ConfigHolder, accounts: AdminAccounts) -> None:
        self.holder, self.accounts = holder, accounts

    def register(self, app: web.Application) -> None:
        app.router.add_get("/admin", self.get)

    async def get(self, request: web.Request) -> web.StreamResponse:
        refusal = await require_admin(request, self.accounts)
        if refusal is not None:
            return refusal
        site = self.holder.config.site
        page = PAGES.get_template("admin/index.html.j2").render(
            site_name=site.name, profile_rule=site.profile_rule, em_user_domain=site.em_user_domain
        )
        return web.Response(text=page, content_type="text/html", headers=ADMIN_PAGE_HEADERS)

"""The administrator's console under /admin: server-rendered pages (Jinja2, autoescaped) and
one static script that makes every change through /api/v1 (same origin, JSON), so the console
has no write path of its own and the API's validation, roles, CSRF checks and audit apply.

Every page and the static files need an administrator (any role); a viewer gets the same pages
without the change controls (and the API refuses the changes anyway)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from spaprov.auth.admins import AdminAccounts
from spaprov.clock import Clock
from spaprov.config.documents import KINDS, device_document, profile_document, user_document
from spaprov.config.models import MODELS
from spaprov.live.holder import ConfigHolder
from spaprov.live.listen_check import misdirected
from spaprov.mac import normalize_mac
from spaprov.mobility import Mobility, StateStoreUnavailable
from spaprov.mobility.audit_events import AUDIT_EVENTS
from spaprov.resources import resource_dir
from spaprov.server.admin_auth import require_admin
from spaprov.server.html_pages import PAGES
from spaprov.server.keys import ADMIN, ADMIN_ROLE
from spaprov.server.listing import BadPaging, page, paging
from spaprov.server.metrics import Metrics
from spaprov.server.origin import NO_FRAMING
from spaprov.timespec import parse_since

CONSOLE_HEADERS = {
    **NO_FRAMING,
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}
STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
PAGE_SIZE = 50
AUDIT_PAGE = 200
DAY = 86_400.0
DAY_EVENTS = ("login", "failed_auth", "lockout", "denied", "forced_logout")
_TITLES = {"devices": "Devices", "users": "Users", "em_profiles": "EM profiles"}
_CONTENT = ("lines", "speed_dials", "line_keys")


class Console:
    def __init__(
        self,
        holder: ConfigHolder,
        accounts: AdminAccounts,
        mobility: Mobility,
        metrics: Metrics,
        listen: tuple[str, int] | None,
        clock: Clock,
    ) -> None:
        self.holder, self.accounts, self.mobility, self.metrics = holder, accounts, mobility, metrics
        self.listen, self.clock = listen, clock

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.root)
        app.router.add_get("/admin", self.guarded(self.dashboard))
        app.router.add_get("/admin/static/{name}", self.guarded(self.static))
        app.router.add_get("/admin/rule", self.guarded(self.rule))
        app.router.add_get("/admin/sessions", self.guarded(self.sessions))
        app.router.add_get("/admin/audit", self.guarded(self.audit))
        for kind in KINDS:
            app.router.add_get(f"/admin/{kind}", self.guarded(self.listing, kind))
            app.router.add_get(f"/admin/{kind}/new", self.guarded(self.editor, kind))
            app.router.add_get(f"/admin/{kind}/{{id}}", self.guarded(self.editor, kind))

    def guarded(self, handler: Any, *args: str) -> Any:
        async def page(request: web.Request) -> web.StreamResponse:
            refusal = await require_admin(request, self.accounts)
            if refusal is not None:
                return refusal
            return await handler(request, *args)  # type: ignore[no-any-return]

        return page

    @staticmethod
    async def root(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/admin")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:  # a fixed list: no path ever reaches the filesystem
            return web.Response(status=404, text="404: Not Found\n")
        body = (resource_dir("templates") / "admin" / "static" / name).read_bytes()
        return web.Response(body=body, content_type=STATIC[name], headers=CONSOLE_HEADERS)

    # -- rendering ----------------------------------------------------------------------------------
    async def _render(self, request: web.Request, template: str, **context: Any) -> web.Response:
        problems = list(self.holder.site.problems)
        warnings = misdirected(self.holder.config.site.profile_rule, *self.listen) if self.listen else []
        text = PAGES.get_template(f"admin/{template}").render(
            site_name=self.holder.config.site.name,
            admin=request[ADMIN],
            role=request[ADMIN_ROLE],
            can_write=request[ADMIN_ROLE] == "admin",
            reload_problems=problems,
            warnings=warnings,
            path=request.path,
            **context,
        )
        return web.Response(text=text, content_type="text/html", headers=CONSOLE_HEADERS)

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        config = self.holder.config
        store_ok = await self.mobility.probe()
        counts: dict[str, int] = {}
        active = None
        if store_ok:
            since = self.clock() - DAY
            try:
                counts = await self.mobility.read(lambda tx: tx.audit_counts(since=since))
                active = await self.mobility.read(lambda tx: tx.active_count())
            except StateStoreUnavailable:
                store_ok = False
        status = "degraded" if self.holder.site.problems or not store_ok else "ok"
        return await self._render(
            request,
            "dashboard.html.j2",
            title="Overview",
            status=status,
            store_ok=store_ok,
            generation=self.holder.site.generation,
            devices=len(config.devices),
            users=len(config.users),
            em_profiles=len(config.em_profiles),
            active=active,
            day={name: counts.get(name, 0) for name in DAY_EVENTS},
            since_start={"failures": self.metrics.auth_failures, "lockouts": self.metrics.lockouts},
        )

    async def listing(self, request: web.Request, kind: str) -> web.StreamResponse:
        config = self.holder.config
        try:
            text, offset, limit = paging(request.query, default_limit=PAGE_SIZE)
        except BadPaging as error:
            return web.Response(status=400, text=f"400: {error}\n", headers=CONSOLE_HEADERS)
        found = page(config, kind, text, offset, limit)
        rows = [_row(config, kind, key) for key in found.keys]
        return await self._render(
            request,
            "list.html.j2",
            title=_TITLES[kind],
            kind=kind,
            id_field=KINDS[kind],
            q=text,
            found=found,
            rows=rows,
            columns=_COLUMNS[kind],
        )

    async def editor(self, request: web.Request, kind: str) -> web.StreamResponse:
        config = self.holder.config
        key = request.match_info.get("id")
        secrets = request[ADMIN_ROLE] == "admin"
        document: dict[str, Any]
        if key is None:
            document = {}
        else:
            key = (normalize_mac(key) if kind == "devices" else key) or key
            table: Any = getattr(config, kind)
            if key not in table:
                return web.Response(status=404, text=f"404: no such {kind[:-1]}\n", headers=CONSOLE_HEADERS)
            if kind == "devices":
                document = device_document(table[key], secrets=secrets)
            elif kind == "users":
                document = user_document(table[key])
            else:
                document = profile_document(table[key], secrets=secrets)
        content = {name: document.get(name, []) for name in _CONTENT}
        return await self._render(
            request,
            "edit.html.j2",
            title=f"{_TITLES[kind]}: {key}" if key else f"New {_TITLES[kind][:-1].lower()}",
            kind=kind,
            key=key,
            id_field=KINDS[kind],
            document=document,
            content=content,
            models=sorted(MODELS),
            profiles=sorted(config.em_profiles),
        )

    async def rule(self, request: web.Request) -> web.StreamResponse:
        site = self.holder.config.site
        return await self._render(
            request,
            "rule.html.j2",
            title="Profile rule",
            profile_rule=site.profile_rule,
            domain=site.em_user_domain,
        )

    async def sessions(self, request: web.Request) -> web.StreamResponse:
        items = await self.mobility.read(lambda tx: tx.sessions(active_only=True))
        stations = {mac: device.station_name for mac, device in self.holder.config.devices.items()}
        return await self._render(
            request, "sessions.html.j2", title="Sessions", sessions=items, stations=stations
        )

    async def audit(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        user, event, device_text = (query.get(name, "").strip() for name in ("user", "event", "device"))
        since_text = query.get("since", "").strip()
        error = None
        since = None
        device = normalize_mac(device_text) if device_text else None
        if device_text and device is None:
            error = f"device: {device_text[:40]!r} is not a MAC address"
        if event and event not in AUDIT_EVENTS:
            error = f"event: {event[:40]!r} is not an audit event"
        try:
            since = parse_since(since_text, self.clock()) if since_text else None
        except (ValueError, OverflowError) as problem:
            error = f"since: {str(problem)[:200]}"
        entries: list[Any] = []
        if error is None:
            entries = await self.mobility.read(
                lambda tx: tx.audit_entries(
                    user_id=user or None, event=event or None, device=device, since=since, limit=AUDIT_PAGE
                )
            )
        return await self._render(
            request,
            "audit.html.j2",
            title="Audit log",
            entries=entries,
            events=AUDIT_EVENTS,
            filters={"user": user, "event": event, "device": device_text, "since": since_text},
            error=error,
            limit=AUDIT_PAGE,
        )


_COLUMNS = {
    "devices": ("MAC", "Station", "Model", "Host user", "EM"),
    "users": ("Id", "Name", "EM profiles", "Locked"),
    "em_profiles": ("Name", "Lines", "Speed dials"),
}


def _row(config: Any, kind: str, key: str) -> tuple[str, ...]:
    if kind == "devices":
        d = config.devices[key]
        return key, d.station_name, d.model.name, d.host_user, "yes" if d.em_enabled else "no"
    if kind == "users":
        u = config.users[key]
        return key, u.display_name, ", ".join(u.em_profiles), "locked" if u.locked else ""
    p = config.em_profiles[key]
    return key, str(len(p.content.lines)), str(len(p.content.speed_dials))

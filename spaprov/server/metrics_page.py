"""GET /metrics: the Prometheus exposition (any admin role) — request counters from Metrics plus
gauges read at scrape time (sessions, render cache, reloads, audit queue)."""

from __future__ import annotations

from aiohttp import web

from spaprov.auth.admins import AdminAccounts
from spaprov.live.cache import RenderCache
from spaprov.live.holder import ConfigHolder
from spaprov.mobility import Mobility, StateStoreUnavailable
from spaprov.server.admin_auth import require_admin
from spaprov.server.metrics import Metrics


class MetricsPage:
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
        app.router.add_get("/metrics", self.get)

    async def get(self, request: web.Request) -> web.StreamResponse:
        refusal = await require_admin(request, self.accounts)
        if refusal is not None:
            return refusal
        holder = self.holder
        gauges: list[tuple[str, str, float]] = []
        try:
            active = await self.mobility.read(lambda tx: tx.active_count())
            gauges.append(("spaprov_active_sessions", "Active extension-mobility sessions", float(active)))
        except StateStoreUnavailable:  # scraped during an outage: the store's own gauges say so
            pass
        gauges += [
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
            text=self.metrics.exposition(gauges),
            content_type="text/plain",
            headers={"X-Content-Type-Options": "nosniff"},
            charset="utf-8",
        )

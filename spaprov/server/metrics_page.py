"""GET /metrics: the Prometheus exposition (any admin role) — request counters and latency from
Metrics, plus values read from the components (sessions, render cache, reloads, audit queue),
added up over every worker of `serve --workers` (spaprov.server.metrics)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from spaprov.auth.admins import AdminAccounts
from spaprov.live.cache import RenderCache
from spaprov.live.holder import ConfigHolder
from spaprov.mobility import Mobility, StateStoreUnavailable
from spaprov.server.admin_auth import require_admin
from spaprov.server.metrics import CONTENT_TYPE, Metrics

PUBLISH_INTERVAL = 1.0  # how old the other workers' component values may be in a scrape


class MetricsPage:
    def __init__(
        self,
        holder: ConfigHolder,
        accounts: AdminAccounts,
        metrics: Metrics,
        cache: RenderCache,
        mobility: Mobility,
    ) -> None:
        self.holder, self.accounts, self.metrics, self.mobility = holder, accounts, metrics, mobility
        metrics.add_gauges(
            lambda: [
                (
                    "spaprov_render_cache_hits_total",
                    "Profiles served from the render cache",
                    float(cache.hits),
                ),
                ("spaprov_render_cache_misses_total", "Profiles rendered", float(cache.misses)),
                ("spaprov_reloads_total", "Configuration reloads attempted", float(holder.reloads)),
                (
                    "spaprov_reload_failures_total",
                    "Configuration reloads refused",
                    float(holder.reload_failures),
                ),
                (
                    "spaprov_auth_failures_per_name_total",
                    "Digest failures counted per user name, not per (user, client), because the "
                    "table of real users' counters was full: guessing from very many addresses",
                    float(holder.authenticator.throttle.overflowed),
                ),
            ]
        )
        metrics.add_gauges(lambda: mobility.audit.gauges())  # the writer of the moment

    def register(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.get)
        if self.metrics.shared:
            app.cleanup_ctx.append(self._publishing)

    async def _publishing(self, _app: web.Application) -> AsyncIterator[None]:
        """Under --workers: this worker's component values, for the scrapes other workers answer."""

        async def publish() -> None:
            while True:
                self.metrics.publish()
                await asyncio.sleep(PUBLISH_INTERVAL)

        task = asyncio.get_running_loop().create_task(publish())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def get(self, request: web.Request) -> web.StreamResponse:
        refusal = await require_admin(request, self.accounts)
        if refusal is not None:
            return refusal
        # The same for every worker (the site's), so the answering worker's view, not a sum.
        shared: list[tuple[str, str, float]] = []
        try:
            active = await self.mobility.read(lambda tx: tx.active_count())
            shared.append(("spaprov_active_sessions", "Active extension-mobility sessions", float(active)))
        except StateStoreUnavailable:  # scraped during an outage: the store's own gauges say so
            pass
        shared.append(
            (
                "spaprov_config_generation",
                "Generation of the configuration being served",
                float(self.holder.generation),
            )
        )
        return web.Response(
            body=self.metrics.exposition(shared),
            content_type=CONTENT_TYPE,
            headers={"X-Content-Type-Options": "nosniff"},
            charset="utf-8",
        )

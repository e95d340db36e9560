"""One access-log line per request, and no traceback ever reaching a client.

The one place where an unreachable state store becomes `503` with `Retry-After` (phones retry):
whatever handler needed the store, without a traceback per request (the store logs the outage
once, when it starts and when it ends)."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from spaprov.logsafe import field
from spaprov.mobility.store import StateStoreUnavailable
from spaprov.server.access_log import AccessLog
from spaprov.server.keys import ROUTE_KIND
from spaprov.server.metrics import Metrics
from spaprov.store_health import RETRY_AFTER_UNAVAILABLE

error_log = logging.getLogger("spaprov.server")


def log_and_contain(metrics: Metrics | None = None) -> Middleware:
    """The access-log, metrics and last-resort error middleware."""
    access = AccessLog()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await _serve(request, handler, metrics, access)

    return middleware


def _route_label(request: web.Request) -> str:
    kind: str | None = request.get(ROUTE_KIND)
    if kind:
        return kind
    parts = request.path.split("/", 3)
    return {"api": "api", "admin": "admin", "em": "em", "metrics": "metrics", "healthz": "healthz"}.get(
        parts[1] if len(parts) > 1 else "", "unmatched"
    )


async def _serve(
    request: web.Request, handler: Handler, metrics: Metrics | None, access: AccessLog
) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except StateStoreUnavailable:
        status = 503
        return web.Response(
            status=503,
            text="503: Service Unavailable: the state store cannot be reached, retry later\n",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        )
    except Exception:  # noqa: BLE001 - the last line of defence: log it, answer 500, no traceback out
        error_log.exception("unhandled error serving %s %s", field(request.method), field(request.path))
        return web.Response(status=500, text="500: Internal Server Error\n")
    finally:
        seconds = time.perf_counter() - started
        if metrics is not None:
            metrics.observe_request(_route_label(request), status, seconds)
        access.record(request, status, seconds)  # formatted and written after the response

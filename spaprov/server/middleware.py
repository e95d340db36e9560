"""One access-log line per request, and no traceback ever reaching a client."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from spaprov.server.keys import AUTH_REASON, DEVICE, IDENTITY, POLICY, ROUTE_KIND
from spaprov.server.middleware_types import Handler

access_log = logging.getLogger("spaprov.access")
error_log = logging.getLogger("spaprov.server")


@web.middleware
async def log_and_contain(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except Exception:  # noqa: BLE001 - the last line of defence: log it, answer 500, no traceback out
        error_log.exception("unhandled error serving %s %s", request.method, request.path)
        return web.Response(status=500, text="500: Internal Server Error\n")
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        # Never the Authorization header, a password or a nonce: only who, what and how it went.
        access_log.info(
            "%s %s %d device=%s identity=%s route=%s %.1fms client=%s%s%s",
            request.method,
            request.path,
            status,
            request.get(DEVICE, "-"),
            request.get(IDENTITY, "-"),
            request.get(ROUTE_KIND, "-"),
            elapsed,
            request.remote,
            f" auth={request[AUTH_REASON]!r}" if request.get(AUTH_REASON) else "",
            f" policy={request[POLICY]}" if request.get(POLICY) else "",
        )

"""The baseline for bench/serve.py: a bare aiohttp handler returning a fixed body of similar size."""

from __future__ import annotations

import sys

from aiohttp import web

BODY = b"<flat-profile>" + b"<X>y</X>" * 700 + b"</flat-profile>"


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="text/xml")


if __name__ == "__main__":
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)

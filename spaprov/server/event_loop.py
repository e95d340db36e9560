"""The event loop `spaprov serve` runs on: uvloop when it is installed (a default dependency on
CPython/Linux and macOS), the standard library's otherwise or when SPAPROV_EVENT_LOOP=asyncio.

uvloop's transports and loop run in C (libuv): measured with bench/sidebyside.py it takes a
large share of the per-request cost off the server's one core (see the README's Performance
section).  Nothing in spaprov depends on it: the tests run on the standard loop."""

from __future__ import annotations

import asyncio
import logging
import os

EVENT_LOOP_ENV = "SPAPROV_EVENT_LOOP"
log = logging.getLogger("spaprov.serve")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh loop: uvloop's unless unavailable or SPAPROV_EVENT_LOOP=asyncio."""
    if os.environ.get(EVENT_LOOP_ENV, "").lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            log.debug("uvloop is not installed: serving on the standard asyncio loop")
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()

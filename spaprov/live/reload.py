"""Reloading the live configuration off the event loop: the one reload path (SIGHUP, the file
watcher, API edits and the tests all come here).  A refused reload keeps the last good one."""

from __future__ import annotations

import asyncio
import logging

from spaprov.config import ConfigError, Problem
from spaprov.live.holder import ConfigHolder

log = logging.getLogger("spaprov.server")


async def reload_now(holder: ConfigHolder) -> bool:
    """Reload off the event loop (a big directory takes a while to read), install on it."""
    try:
        prepared = await asyncio.to_thread(holder.prepare)
    except ConfigError as error:
        holder.refuse(error)
        return False
    except Exception as error:
        log.exception("reload of %s failed", holder.root)
        holder.refuse(ConfigError([Problem(str(holder.root), "", f"reload failed: {error}")]))
        return False
    holder.commit(prepared)
    return True

"""Reloading the live configuration off the event loop: the one reload path (SIGHUP, the file
watcher, API edits, a worker catching up with the site and the tests all come here).  A refused
reload keeps the last good one."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Collection

from spaprov.config import ConfigError, Problem
from spaprov.live.holder import ConfigHolder

log = logging.getLogger("spaprov.server")
STALE_ATTEMPTS = 5  # loads overtaken by another worker's newer generation, before giving up


async def reload_now(
    holder: ConfigHolder, changed: Collection[str] | None = None, *, full: bool = False
) -> bool:
    """Reload off the event loop, install on it.  `changed`: the files to re-read ("devices/x.toml";
    None: those a stat of every file finds changed; empty: none, the watcher already read them);
    `full`: read the whole directory again (SIGHUP)."""
    for attempt in range(STALE_ATTEMPTS):
        try:
            # Overtaken by another worker: the directory changed again, look for what changed.
            labels = changed if attempt == 0 else None
            prepared = await asyncio.to_thread(holder.prepare, labels, full=full and attempt == 0)
        except ConfigError as error:
            holder.refuse(error)
            return False
        except Exception as error:
            log.exception("reload of %s failed", holder.root)
            holder.refuse(ConfigError([Problem(str(holder.root), "", f"reload failed: {error}")]))
            return False
        if holder.commit(prepared):
            return True
        log.info("a newer generation was published while this process loaded; loading again")
    return False


_catching_up: weakref.WeakKeyDictionary[ConfigHolder, asyncio.Task[bool]] = weakref.WeakKeyDictionary()


async def catch_up(holder: ConfigHolder) -> bool:
    """Before answering a phone: True when this process serves the site's newest generation,
    after one reload (shared by every request waiting for it) if another worker published a newer
    one.  False when it cannot (the directory changed again and is refused): answer 503."""
    if not holder.behind():
        return True
    task = _catching_up.get(holder)
    if task is None or task.done():
        # Usually this process's own watcher has read the same edit already: nothing to look at.
        changed = () if holder.tree_matches_site() else None
        task = _catching_up[holder] = asyncio.get_running_loop().create_task(reload_now(holder, changed))
    await asyncio.shield(task)
    return not holder.behind()

"""Following the profile directory: the kernel says which files changed (inotify and its kin, via
watchfiles), so an edit is read within tens of milliseconds and costs what it changes.  A stat of
every file now and then (RESCAN) catches what notification cannot see: an edit made on another
machine of a network file system (NFS), or events the kernel dropped.  When notification is not
available (the inotify watch limit reached, an unsupported file system) or not wanted
(`serve --watch poll`), the directory is polled instead, stat only."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from spaprov.config.tree import changed_labels
from spaprov.live.holder import ConfigHolder
from spaprov.live.reload import reload_now
from spaprov.transaction import JOURNAL, pending_journal

log = logging.getLogger("spaprov.server")
# The poller waits at least this many times as long as one check took, so that polling a big
# directory costs at most ~5% of a core (the check runs in a thread but still holds the GIL).
WATCH_DUTY = 20
DEBOUNCE_MS = 30  # a write of several files (an import, an API batch) arrives as one change
# A batch's journal exists while its files are being renamed into place: the reload waits for it
# to go (its removal is an event too), up to this long; then it reports the interrupted write.
JOURNAL_PATIENCE = 2.0
RESCAN = 30.0  # seconds between two safety stats of every file (at least WATCH_DUTY x one scan)


async def watch(holder: ConfigHolder, interval: float, *, notify: bool = True) -> None:
    """Until cancelled: reload when the directory changes."""
    if notify:
        try:
            await _notified(holder)
        except asyncio.CancelledError:
            raise
        except (OSError, RuntimeError, ImportError) as error:  # e.g. the inotify watch limit
            log.warning(
                "cannot watch %s for changes (%s); polling it every %g s", holder.root, error, interval
            )
    await _poll(holder, interval)


async def _notified(holder: ConfigHolder) -> None:
    import watchfiles  # the optional fast path: ImportError falls back to polling

    root = holder.root
    journal_since: float | None = None
    rescan_at = time.monotonic() + RESCAN
    async for changes in watchfiles.awatch(
        root,
        watch_filter=_Interesting(root),
        debounce=DEBOUNCE_MS,
        step=10,
        rust_timeout=int(JOURNAL_PATIENCE * 1000),
        yield_on_timeout=True,  # an empty set now and then: see the journal's patience below
        recursive=True,
    ):
        labels = changed_labels(root, [path for _, path in changes])
        current: str | None = None
        if labels or journal_since is not None:
            current = await asyncio.to_thread(holder.observe, labels)
        # Not on top of an edit being followed (it would wait for the scan), unless long overdue.
        if time.monotonic() >= rescan_at + (0 if not changes else RESCAN):
            started = time.perf_counter()
            current = await asyncio.to_thread(holder.observe, None)
            rescan_at = time.monotonic() + max(RESCAN, WATCH_DUTY * (time.perf_counter() - started))
        if current is None:
            continue
        if pending_journal(root):
            journal_since = journal_since or time.monotonic()
            if time.monotonic() - journal_since < JOURNAL_PATIENCE:
                continue
        journal_since = None
        if holder.settle(current):
            await reload_now(holder, ())


class _Interesting:
    """The files of the directory (not its dot files: the state database, locks, temporaries)
    and the journal of a batch write."""

    def __init__(self, root: Path) -> None:
        # The paths come under the root as given (a symbolic link, say) or as resolved.
        self._bases = {os.path.abspath(root) + os.sep, os.path.realpath(root) + os.sep}

    def __call__(self, _change: object, path: str) -> bool:
        for base in self._bases:
            if path.startswith(base):
                relative = path[len(base) :]
                break
        else:
            return False
        if relative == JOURNAL:
            return True
        return not any(part.startswith(".") for part in relative.split(os.sep))


async def _poll(holder: ConfigHolder, interval: float) -> None:
    """Stat every file each `interval`; reload what changed."""
    pause = interval
    while True:
        await asyncio.sleep(pause)
        started = time.perf_counter()
        try:
            current = await asyncio.to_thread(holder.observe, None)
            if holder.settle(current):
                await reload_now(holder, ())
        except OSError as error:
            log.error("cannot watch %s: %s", holder.root, error)
        pause = max(interval, WATCH_DUTY * (time.perf_counter() - started))

"""A bounded, batched audit writer: what strangers can trigger never waits on, or queues in front
of, a phone's policy decision.

Audit entries that do not belong to a decision (failed Digest attempts, lockouts, refusals,
password changes) are handed to `AuditWriter.submit()`, which only touches memory:

- failure-type events (failed_auth, lockout, denied) are coalesced per (event, user, device,
  client) over `window` seconds into one row whose detail says how many there were;
- at most `capacity` rows wait in memory; beyond that new entries are dropped and counted (one
  "audit_dropped" row per flush says how many, and /metrics exposes the counters);
- a thread of its own writes the due rows in transactions of at most `batch` rows, so the state
  store's lock is held for one short transaction at a time, never for the whole backlog.

While the state store is unreachable (StateStoreUnavailable) the rows that could not be written
stay in memory, oldest first, and are written when it is back; they count against the same
`capacity`, so a long outage drops (and counts) the oldest ones rather than growing without bound.

`close()` writes everything still pending: nothing accepted is lost at a clean shutdown.  Audit
rows of logins and logouts are written inside their decision's transaction (durable with the
decision) and do not pass through here.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from spaprov.clock import Clock
from spaprov.mobility.store import AuditRow, StateStore, StateStoreUnavailable

log = logging.getLogger("spaprov.mobility")
COALESCED_EVENTS = frozenset({"failed_auth", "lockout", "denied"})
DEFAULT_CAPACITY = 4096  # pending rows; at most ~1 MB of memory
DEFAULT_WINDOW = 10.0  # seconds a failure row collects repeats before it is written
DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_BATCH = 256  # rows per transaction: the store's lock is never held long


@dataclass
class _Pending:
    since: float  # time.monotonic(): when the row started collecting repeats
    at: float
    event: str
    user_id: str | None
    device: str | None
    client: str | None
    detail: str | None
    count: int = 1

    def row(self) -> AuditRow:
        detail = self.detail
        if self.count > 1:
            noun = "failures" if self.event in ("failed_auth", "lockout") else "times"
            repeats = f"{self.count} {noun}"
            detail = f"{detail} ({repeats})" if detail else repeats
        return AuditRow(self.at, self.event, self.user_id, self.device, self.client, detail)


_Key = tuple[str, str | None, str | None, str | None, str | None]


class AuditWriter:
    def __init__(
        self,
        store: StateStore,
        clock: Clock,
        *,
        capacity: int = DEFAULT_CAPACITY,
        window: float = DEFAULT_WINDOW,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self._store = store
        self._clock = clock
        self._capacity = capacity
        self._window = window
        self._flush_interval = flush_interval
        self._batch = batch
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time (the thread, drain, close)
        # Insertion-ordered: the oldest rows are written first.  The key of a plain (not
        # coalesced) entry is unique, so it never absorbs another one.
        self._pending: dict[_Key | int, _Pending] = {}
        self._unwritten: list[AuditRow] = []  # rows kept across an outage of the store, oldest first
        self._serial = 0
        self._dropped_unreported = 0
        self.dropped = 0
        self.coalesced = 0
        self.written = 0
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="spaprov-audit", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._unwritten)

    def submit(
        self,
        event: str,
        user_id: str | None,
        device: str | None,
        client: str | None,
        detail: str | None = None,
    ) -> None:
        """Queue an entry (memory only, O(1)); dropped and counted when the buffer is full."""
        at, since = self._clock(), time.monotonic()
        with self._lock:
            key: _Key | int
            if event in COALESCED_EVENTS:
                key = (event, user_id, device, client, detail)
                known = self._pending.get(key)
                if known is not None:
                    known.count += 1
                    self.coalesced += 1
                    return
            else:
                self._serial += 1
                key = self._serial
            if len(self._pending) + len(self._unwritten) >= self._capacity or self._closed:
                self.dropped += 1
                self._dropped_unreported += 1
                return
            self._pending[key] = _Pending(since, at, event, user_id, device, client, detail)

    def flush(self, *, everything: bool = True) -> int:
        """Write the due rows (all of them with `everything`); returns how many were written."""
        with self._flushing:
            now = time.monotonic()
            with self._lock:
                due = [
                    (key, entry)
                    for key, entry in self._pending.items()
                    if everything or not isinstance(key, tuple) or now - entry.since >= self._window
                ]
                for key, _ in due:
                    del self._pending[key]
                dropped, self._dropped_unreported = self._dropped_unreported, 0
                rows, self._unwritten = self._unwritten, []
            rows += [entry.row() for _, entry in due]
            if dropped:
                note = f"{dropped} entries dropped (buffer full)"
                rows.append(AuditRow(self._clock(), "audit_dropped", None, None, None, note))
            for start in range(0, len(rows), self._batch):
                chunk = rows[start : start + self._batch]
                try:
                    with self._store.transaction() as tx:
                        tx.audit_many(chunk)
                except StateStoreUnavailable:  # logged once per outage by the store: keep them
                    self._keep(rows[start:], dropped)
                    break
                except Exception:  # a bug, not an outage: say so, keep serving phones
                    log.exception("cannot write %d audit entries", len(rows) - start)
                    with self._lock:
                        self.dropped += len(rows) - start
                    break
                self.written += len(chunk)
            return len(rows)

    def _keep(self, rows: list[AuditRow], unreported: int) -> None:
        """Hold rows the store could not take, within `capacity` (the oldest go first).  The
        "audit_dropped" note (always the last row) is not kept: its count is, for the next one."""
        rows = [row for row in rows if row.event != "audit_dropped"]
        with self._lock:
            room = max(0, self._capacity - len(self._pending))
            keep = rows[-room:] if room else []
            lost = len(rows) - len(keep)
            self._unwritten = keep
            self.dropped += lost
            self._dropped_unreported += lost + unreported

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self._closed:
                break
            self.flush(everything=False)

    def close(self) -> None:
        """Stop the thread and write everything still pending."""
        with self._lock:
            self._closed = True
        self._wake.set()
        self._thread.join()
        self.flush()

    def gauges(self) -> list[tuple[str, str, float]]:
        """(name, help, value) for /metrics."""
        return [
            ("spaprov_audit_dropped_total", "Audit entries dropped: the buffer was full", self.dropped),
            (
                "spaprov_audit_coalesced_total",
                "Failure audit entries folded into an earlier row of the same interval",
                self.coalesced,
            ),
            ("spaprov_audit_pending", "Audit rows waiting to be written", self.pending),
            ("spaprov_audit_written_total", "Audit rows written by the batched writer", self.written),
        ]

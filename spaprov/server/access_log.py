"""The access log: one line per request, formatted off the request's path.

A request only appends its raw fields to a list (a tuple: no LogRecord, no escaping, no string
formatting, no write).  The first entry of a batch schedules `flush` with `call_soon`, so the
batch is written in the event loop's next iteration, before it handles new input: every request
of one iteration becomes one batch of records, each stamped with the time its request ended,
and the handlers are flushed once per batch instead of once per line.  Nothing is dropped, and
a line is out within one loop iteration of its response.

`BatchedStreamHandler` is the handler `spaprov serve` logs to: it writes access records into a
block buffer (the access log flushes it at the end of each batch) and every other record at once.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sys
import time
from typing import TextIO

from aiohttp import web

from spaprov.logsafe import field, quoted
from spaprov.server.keys import AUTH_REASON, DEVICE, IDENTITY, POLICY, ROUTE_KIND

ACCESS_LOGGER = "spaprov.access"
BATCHED = "spaprov_batched"  # the attribute that marks a record as part of an access-log batch

# ended, method, path, status, device, identity, route, milliseconds, client, auth reason, policy
Entry = tuple[float, str, str, int, object, object, object, float, object, object, object]


class AccessLog:
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._pending: list[Entry] = []

    def record(self, request: web.Request, status: int, seconds: float) -> None:
        """Note a finished request (on the event loop)."""
        if not self._logger.isEnabledFor(logging.INFO):
            return
        get = request.get
        self._pending.append(
            (
                time.time(),
                request.method,
                request.path,
                status,
                get(DEVICE),
                get(IDENTITY),
                get(ROUTE_KIND),
                seconds * 1000,
                request.remote,
                get(AUTH_REASON),
                get(POLICY),
            )
        )
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (a handler called directly): write it now
                self.flush()

    def flush(self) -> None:
        """Format and emit every pending line, then flush the handlers once."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        logger = self._logger
        sole = _sole_batched_handler(logger)
        process = os.getpid()
        lines: list[_Line] = []
        for ended, method, path, status, device, identity, route, ms, client, reason, policy in pending:
            # Never the Authorization header, a password or a nonce: only who, what and how it
            # went.  Every request-derived value is escaped (no forged lines, no terminal
            # escapes) and capped.
            message = (
                f"{field(method, 32)} {field(path)} {status} device={field(device)} "
                f"identity={field(identity)} route={field(route)} {ms:.1f}ms client={field(client, 64)}"
            )
            if reason:
                message += f" auth={quoted(reason)}"
            if policy:
                message += f" policy={field(policy)}"
            if sole is not None:
                lines.append(_Line(logger.name, ended, message, process))
                continue
            entry = logger.makeRecord(logger.name, logging.INFO, __file__, 0, message, (), None, "access")
            entry.created, entry.msecs = ended, (ended - int(ended)) * 1000
            setattr(entry, BATCHED, True)
            logger.handle(entry)
        if sole is not None:
            sole.write_batch(lines)
            return
        for handler in _handlers(logger):
            handler.flush()


class _Line:
    """What a Formatter reads of a record, for the fast path (spaprov serve's own handler and
    nothing else on the way: no filter, no other handler to see a real LogRecord)."""

    exc_info = exc_text = stack_info = None

    def __init__(self, name: str, created: float, message: str, process: int) -> None:
        self.name, self.levelname, self.levelno, self.process = name, "INFO", logging.INFO, process
        self.created, self.msecs, self.msg = created, (created - int(created)) * 1000, message

    def getMessage(self) -> str:
        return self.msg


_FAST_FIELDS = frozenset({"asctime", "levelname", "levelno", "name", "message", "process"})


def _sole_batched_handler(logger: logging.Logger) -> BatchedStreamHandler | None:
    """The one handler every access record would reach, when it is a BatchedStreamHandler whose
    format uses only fields a _Line has, and no filter anywhere could look at a record."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        found += current.handlers
        current = current.parent if current.propagate else None
    if len(found) != 1 or type(found[0]) is not BatchedStreamHandler:
        return None
    handler = found[0]
    formatter = handler.formatter
    if handler.filters or handler.level > logging.INFO or type(formatter) is not CachedTimeFormatter:
        return None
    style = formatter._style
    if type(style) is not logging.PercentStyle or not _fields(style._fmt) <= _FAST_FIELDS:
        return None
    return handler


def _fields(fmt: str) -> frozenset[str]:
    return frozenset(re.findall(r"%\((\w+)\)", fmt))


def _handlers(logger: logging.Logger) -> list[logging.Handler]:
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += current.handlers
        current = current.parent if current.propagate else None
    return found


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that leaves access-log records in its buffer for AccessLog to flush at
    the end of their batch, and writes every other record at once."""

    def write_batch(self, lines: list[_Line]) -> None:
        """Format and write a batch of access lines, flushed once (AccessLog's fast path)."""
        try:
            text = "".join(self.format(line) + self.terminator for line in lines)  # type: ignore[arg-type]
            with self.lock:  # type: ignore[union-attr]
                self.stream.write(text)
                self.stream.flush()
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(logging.makeLogRecord({"msg": "access log batch", "levelno": logging.INFO}))

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, BATCHED, False):
            super().emit(record)
            return
        try:
            self.stream.write(self.format(record) + self.terminator)
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(record)


class CachedTimeFormatter(logging.Formatter):
    """`%(asctime)s` as logging.Formatter writes it, the strftime part computed once a second."""

    _cache: tuple[int, str] = (-1, "")  # one attribute: records come from several threads

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None or self.default_msec_format is None:
            return super().formatTime(record, datefmt)
        second, text = self._cache
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._cache = (second, text)
        return self.default_msec_format % (text, record.msecs)


def configure_serve_logging(level: str, fmt: str) -> None:
    """Root logging for `spaprov serve`: standard error, block-buffered for the access log."""
    stream: TextIO = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(os.dup(sys.stderr.fileno()), "w"), 1 << 16),
        encoding=sys.stderr.encoding or "utf-8",
        errors="backslashreplace",
    )
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(CachedTimeFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])

"""aiohttp's record of a request its HTTP parser refused, as one rate-limited line.

aiohttp answers a malformed request (a control character in a header, a line over 8 KiB, a bad
method or version) with 400 itself, before any spaprov code runs, and logs it at ERROR with a
ten-line traceback.  A stranger can send thousands a second, each costing the event loop a
formatted traceback and the disk ten lines.  `ParserErrorFilter` replaces such a record with one
escaped, credential-masked WARNING line on `spaprov.http` ("malformed request from ADDR refused
with 400: REASON"), at most `BURST` per `INTERVAL` seconds; the rest are counted and summarised
(spaprov.auth.log_limit).  Every other record of aiohttp passes unchanged.
"""

from __future__ import annotations

import logging
import re

from aiohttp.http_exceptions import HttpProcessingError

from spaprov.auth.log_limit import RateLimitedLog
from spaprov.logsafe import redact_secrets, text

BURST = 20
INTERVAL = 10.0
_PEER = re.compile(r"\bfrom (\S+)")
log = logging.getLogger("spaprov.http")


class ParserErrorFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.refused = 0  # malformed requests seen by this process
        self._log = RateLimitedLog(log, burst=BURST, interval=INTERVAL)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        self.refused += 1
        peer = _PEER.search(record.getMessage())
        reason = " ".join(redact_secrets(str(error.message)).split())
        self._log.warning(
            "malformed request from %s refused with %d: %s",
            text(peer.group(1) if peer else "an unknown address"),
            error.code,
            text(reason),
        )
        return False


def install_parser_error_filter() -> ParserErrorFilter:
    """Attach the filter to aiohttp's server logger once per process; the one attached."""
    logger = logging.getLogger("aiohttp.server")
    for existing in logger.filters:
        if isinstance(existing, ParserErrorFilter):
            return existing
    installed = ParserErrorFilter()
    logger.addFilter(installed)
    return installed

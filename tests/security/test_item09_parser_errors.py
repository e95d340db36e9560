"""Item 9 (the HTTP parser): a request aiohttp's parser refuses gets its 400 from aiohttp, before
any spaprov code runs, and aiohttp logs it at ERROR with a ten-line traceback.  A stranger
sending a stream of them must not get a traceback, or even a line, each into the server's log:
one escaped WARNING line per refusal, at most spaprov.server.parser_errors.BURST per interval."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from spaprov.server.parser_errors import BURST, ParserErrorFilter
from tests.helpers.auth import raw_exchange
from tests.helpers.site import ServerFactory

REFUSED = [
    b"GET /default.cfg HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n",  # a control character
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # a request line over 8 KiB
    b"GET /default.cfg HTTP/1.1\r\nHost: x\r\nX-Esc: \x1b[31mred\r\n\r\n",  # a terminal escape
    b"G\x00T /default.cfg HTTP/1.1\r\n\r\n",  # a bad method
]


async def test_a_stream_of_refused_requests_is_a_few_escaped_lines_not_tracebacks(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture, parser_errors: ParserErrorFilter
) -> None:
    server = await start(site)
    sent = 25 * len(REFUSED)
    with caplog.at_level(logging.DEBUG):
        for number in range(sent):
            answer = await raw_exchange(server, REFUSED[number % len(REFUSED)])
            assert answer.startswith((b"HTTP/1.0 400", b"HTTP/1.1 400")), answer[:80]
    assert parser_errors.refused == sent  # every one was seen
    written = caplog.text
    assert "Traceback" not in written and "aiohttp.server" not in written
    lines = [r.getMessage() for r in caplog.records if r.name == "spaprov.http"]
    assert 1 <= len(lines) <= BURST  # the rest are counted for the next interval's summary
    assert all(line.startswith("malformed request from 127.0.0.1 refused with 400: ") for line in lines)
    assert not any(char in "".join(lines) for char in "\x00\x01\x1b\n")  # escaped, one line each

"""Item 8: request-controlled text must not forge access-log lines or carry terminal escapes.

The request is written on a raw socket so that no client re-encodes the path: aiohttp decodes
`%0a`, `%1b` and `%e2%80%a8` into a newline, an ESC and a LINE SEPARATOR in `request.path`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from spaprov.logsafe import field, quoted
from tests.helpers.auth import raw_exchange
from tests.helpers.site import ServerFactory

FORGED = (
    "/x%0a2026-11-30%2012:00:00%20INFO%20spaprov.access:%20GET%20/admin%20200"
    "%1b[2J%1b]0;pwned%07%e2%80%a8end.cfg"
)


async def raw_get(server: TestServer, target: str) -> bytes:
    request = f"GET {target} HTTP/1.1\r\nHost: {server.host}\r\nConnection: close\r\n\r\n"
    return await raw_exchange(server, request.encode())


async def test_encoded_newline_and_escape_in_the_path_stay_on_one_escaped_line(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site)
    with caplog.at_level(logging.INFO, logger="spaprov.access"):
        answer = await raw_get(server, FORGED)
        assert answer.startswith(b"HTTP/1.1 4")
    lines = [caplog.handler.format(r) for r in caplog.records if r.name == "spaprov.access"]
    assert len(lines) == 1
    line = lines[0]
    assert "\n" not in line and "\r" not in line
    assert "\x1b" not in line and "\x07" not in line and "\u2028" not in line
    assert line.isprintable()
    # still readable: the escapes say exactly what was sent
    assert "/x\\n2026-11-30\\x2012:00:00" in line
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\u2028end.cfg" in line


async def test_a_huge_path_is_capped_in_the_log(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site)
    with caplog.at_level(logging.INFO, logger="spaprov.access"):
        await raw_get(server, "/" + "%0a" * 2000)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "spaprov.access"]
    assert len(line) < 1500
    assert "…(+1745)" in line


def test_field_and_quoted_escape_like_repr_without_quotes() -> None:
    assert field("/a\nb\x1b[0m c\\d") == "/a\\nb\\x1b[0m\\x20c\\\\d"
    assert field("ünïcödé") == "ünïcödé"
    assert field("\u2029\U000e0001") == "\\u2029\\U000e0001"
    assert field(None) == field("") == "-"
    assert quoted('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert field("x" * 300, 10) == "xxxxxxxxxx…(+290)"

"""Item 8: request-controlled text must not forge access-log lines or carry terminal escapes.

The request is written on a raw socket so that no client re-encodes the path: aiohttp decodes
`%0a`, `%1b` and `%e2%80%a8` into a newline, an ESC and a LINE SEPARATOR in `request.path`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.logsafe import field, quoted, text
from tests.helpers.auth import raw_exchange
from tests.helpers.cli import serve, spaprov
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
    assert text('by "ops" \x1b[2J\n') == 'by "ops" \\x1b[2J\\n'
    assert text(None) == ""


def test_spaprov_audit_prints_request_controlled_names_escaped(site: Path) -> None:
    """The audit log keeps what a stranger sent as a user name (a failed Basic or Digest login);
    `spaprov audit` prints it to an operator's terminal, so it must not forge rows or send
    terminal escapes there either."""
    hostile = "\x1b]0;pwned\x07\x1b[2J\nFORGED failed_auth user=root\u2028"
    state = f"sqlite:///{site / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state):
        answer = httpx.get(f"{served.url}/api/v1/users", auth=(hostile, "guess"))
        assert answer.status_code == 401
    printed = spaprov("audit", "--profiles", str(site), "--state", state)
    assert printed.returncode == 0, printed.stderr
    (row,) = [line for line in printed.stdout.splitlines() if "failed_auth" in line]
    assert printed.stdout.count("\n") == 1, printed.stdout  # one entry, one line
    assert row.isprintable() and "\x1b" not in printed.stdout and "\x07" not in printed.stdout
    assert "user=admin:\\x1b]0;pwned\\x07\\x1b[2J\\nFORGED\\x20failed_auth\\x20user=root\\u2028" in row

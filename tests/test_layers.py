"""The layout of spaprov as docs/architecture.md states it.

Commands that only read the profile directory or the state store load neither the HTTP server
(spaprov.server) nor aiohttp: checked in a fresh interpreter, so that what this test process has
imported already does not count."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers.site import CONF_ROOM, SAMPLE

LOADED = "sorted(m for m in sys.modules if m.startswith(('spaprov.server', 'aiohttp')))"


def _heavy_modules_after(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps({LOADED}))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    last = done.stdout.strip().splitlines()[-1]
    return list(json.loads(last))


def test_the_sessions_command_reads_sqlite_without_the_server() -> None:
    assert _heavy_modules_after("import spaprov.commands.sessions") == []


def test_spaprov_render_does_not_load_the_server_or_aiohttp() -> None:
    code = (
        "import contextlib, io\n"
        "from spaprov.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['render', '--profiles', {str(SAMPLE)!r}, '--device', {CONF_ROOM!r}]) == 0"
    )
    assert _heavy_modules_after(code) == []

"""Fixtures shared by every test directory: the state store on each backend, and a private copy
of the sample site with real aiohttp servers on it.

The PostgreSQL runs need `SPAPROV_TEST_POSTGRES` (a database URL; .ci/run starts a real server
and sets it).  Without it they are skipped locally, and fail in CI, where they must run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spaprov.clock import ManualClock
from spaprov.server.app import create_app
from spaprov.server.parser_errors import ParserErrorFilter, install_parser_error_filter
from tests.helpers.postgres import private_schema
from tests.helpers.services import RUN_EVERYTHING, skipped_for_missing_services
from tests.helpers.site import SAMPLE, ServerFactory, copy_sample

POSTGRES = os.environ.get("SPAPROV_TEST_POSTGRES", "")


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below `root` (ignored ones too) with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def sample_site_untouched() -> Iterator[None]:
    """Tests never write into the sample they share: SAMPLE (this process's pristine copy, which
    every read-only test loads, renders or serves from) must end the session as it began; a lock
    file, a state database or an edit there fails the run.  The tree's sample_profiles/ is the
    administrator's to edit (the README walkthrough does): no test reads or writes it, and
    tests/test_sample_pristine.py checks that none names it."""
    before = _tree(SAMPLE)
    yield
    after = _tree(SAMPLE)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"tests wrote into the shared sample {SAMPLE}: {changed} (use the `site` fixture)"


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after -ra's list, above the counts
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """Loud skips: say what did not run for want of PostgreSQL or Chromium, and how to run it."""
    yield
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reasons.append(
            str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        )
    counts = skipped_for_missing_services(reasons)
    if not counts:
        return
    what = ", ".join(f"{count} that need {service}" for service, count in counts.items())
    terminalreporter.write_sep(
        "=",
        f"NOT RUN: {what}; `{RUN_EVERYTHING}` sets up {' and '.join(counts)} and runs everything",
        yellow=True,
        bold=True,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state store URL: SQLite in tmp, or a private schema in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite3'}"
        return
    if not POSTGRES:
        if os.environ.get("CI") == "true":
            pytest.fail("SPAPROV_TEST_POSTGRES is not set: .ci/run must start PostgreSQL")
        pytest.skip("set SPAPROV_TEST_POSTGRES=postgresql://… to run the PostgreSQL suite")
    with private_schema(POSTGRES) as url:
        yield url


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the sample site that a test may edit."""
    return copy_sample(tmp_path / "site")


@pytest.fixture
async def start(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> AsyncIterator[ServerFactory]:
    async def factory(site: Path, **kwargs: object) -> TestServer:
        kwargs.setdefault("watch_interval", None)
        kwargs.setdefault("clock", ManualClock())
        # No background sweep for resync pushes: a test that wants one passes push_interval, or
        # calls app[PUSHER].sweep() itself, so ManualClock jumps end sessions only where asked.
        kwargs.setdefault("push_interval", None)
        return await aiohttp_server(create_app(site, **kwargs))  # type: ignore[arg-type]

    yield factory


@pytest.fixture
def parser_errors() -> Iterator[ParserErrorFilter]:
    """A new filter for aiohttp's parser-error records: its rate limit starts empty, whatever
    earlier tests in this process sent (create_app keeps the one installed here)."""
    logger = logging.getLogger("aiohttp.server")
    earlier = [f for f in logger.filters if isinstance(f, ParserErrorFilter)]
    for existing in earlier:
        logger.removeFilter(existing)
    installed = install_parser_error_filter()
    yield installed
    logger.removeFilter(installed)
    for existing in earlier:
        logger.addFilter(existing)

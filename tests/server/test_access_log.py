"""The access log formats off the request's path (spaprov.server.access_log): every request still
gets its line, in order, within one loop iteration; `spaprov serve` writes the lines of a batch
with one flush, and everything else at once."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from pathlib import Path

import httpx
import pytest

from spaprov.server.access_log import BatchedStreamHandler, CachedTimeFormatter
from tests.helpers.cli import serve
from tests.helpers.site import SPA_AGENT, ServerFactory, copy_sample

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_access_records_wait_for_the_batch_flush_other_records_do_not() -> None:
    stream = CountingStream()
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    access = logging.makeLogRecord({"name": "spaprov.access", "msg": "GET /a 200", "spaprov_batched": True})
    handler.emit(access)
    handler.emit(access)
    assert stream.getvalue() == "spaprov.access: GET /a 200\n" * 2 and stream.flushes == 0
    handler.emit(logging.makeLogRecord({"name": "spaprov.auth", "msg": "digest auth failed"}))
    assert stream.getvalue().endswith("spaprov.auth: digest auth failed\n") and stream.flushes == 1


def test_the_cached_time_is_the_standard_formatters_time() -> None:
    cached, standard = CachedTimeFormatter(FORMAT), logging.Formatter(FORMAT)
    now = time.time()
    for offset in (0.0, 0.001, 0.5, 0.999, 1.0, 1.5, 61.25, 3600.0, 0.25):
        record = logging.makeLogRecord({"name": "spaprov.access", "msg": "x"})
        record.created = now + offset
        record.msecs = (record.created - int(record.created)) * 1000
        assert cached.format(record) == standard.format(record)


async def test_every_request_of_a_burst_gets_its_line_in_order(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site)
    url = str(server.make_url(""))
    with caplog.at_level(logging.INFO, logger="spaprov.access"):
        async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
            answers = await asyncio.gather(*(client.get(f"{url}/default.cfg?n={n}") for n in range(40)))
            assert {a.status_code for a in answers} == {200}
            await client.get(f"{url}/nothing-here")
        lines = [r.getMessage() for r in caplog.records if r.name == "spaprov.access"]
    assert len(lines) == 41
    assert sum(" /default.cfg 200 device=001122334455 " in line for line in lines) == 40
    assert lines[-1].startswith("GET /nothing-here 404 ")


def test_serve_writes_every_access_line_to_standard_error(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    for served in serve("--profiles", str(site), "--state", f"sqlite:///{tmp_path / 'state.sqlite3'}"):
        with httpx.Client(headers={"User-Agent": SPA_AGENT}) as client:
            for n in range(25):
                assert client.get(f"{served.url}/default.cfg?n={n}").status_code == 200
        served.process.terminate()
        output, _ = served.process.communicate(timeout=20)
        assert output.count(" INFO spaprov.access: GET /default.cfg 200 device=001122334455 ") == 25, output
        assert "spaprov serving" in output


class _Request(dict):  # type: ignore[type-arg]
    """What AccessLog.record reads of an aiohttp request."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.method, self.path, self.remote = "GET", path, "127.0.0.1"


@pytest.mark.parametrize("fmt", [FORMAT, "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"])
def test_the_fast_path_writes_exactly_what_the_logging_path_writes(fmt: str) -> None:
    """With serve's own handler alone on the way, AccessLog formats its batch straight into the
    handler; with anything else there (a filter, another handler) it goes through logging.  Both
    must write the same lines."""
    from spaprov.server import access_log as module

    outputs = []
    for extra_filter in (False, True):
        root = logging.getLogger(f"test-access-root-{len(fmt)}")
        logger = root.getChild("spaprov.access")
        root.handlers.clear()
        logger.filters.clear()
        root.setLevel(logging.INFO)
        root.propagate = False  # pytest's own handlers sit on the real root
        stream = CountingStream()
        handler = BatchedStreamHandler(stream)
        handler.setFormatter(CachedTimeFormatter(fmt))
        root.addHandler(handler)
        if extra_filter:
            logger.addFilter(lambda record: True)  # someone wants real LogRecords: no fast path
        assert (module._sole_batched_handler(logger) is None) == extra_filter
        access = module.AccessLog(logger)
        for path in ("/default.cfg", "/x\n2026 INFO forged", "/a b"):
            access.record(_Request(path), 200, 0.0015)  # type: ignore[arg-type]
        outputs.append(stream.getvalue())
        assert stream.getvalue().count("\n") == 3
    fast, slow = (re.sub(r"^\S+ \S+ ", "", out, flags=re.M) for out in outputs)  # the times differ
    assert fast == slow
    assert "/x\\n2026\\x20INFO\\x20forged" in fast

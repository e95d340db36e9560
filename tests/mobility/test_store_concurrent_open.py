"""Several processes opening one new SQLite state database at the same moment (what
`serve --workers N` and a CLI command started alongside it do) all succeed."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from spaprov.mobility import StateStoreError, open_state

OPENERS = 8


def _open_together(path: str, barrier: Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        open_state(path).close()
        results.put("ok")
    except StateStoreError as error:
        results.put(str(error))


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(10))
def test_processes_opening_one_new_database_together_all_succeed(tmp_path: Path, round_: int) -> None:
    spawn = multiprocessing.get_context("fork")
    barrier = spawn.Barrier(OPENERS)
    results: multiprocessing.Queue[str] = spawn.Queue()
    path = str(tmp_path / f"state-{round_}.sqlite3")
    openers = [spawn.Process(target=_open_together, args=(path, barrier, results)) for _ in range(OPENERS)]
    for opener in openers:
        opener.start()
    outcomes = [results.get(timeout=60) for _ in openers]
    for opener in openers:
        opener.join(timeout=30)
    assert outcomes == ["ok"] * OPENERS
    store = open_state(path)
    try:
        assert store.schema_version >= 1
    finally:
        store.close()

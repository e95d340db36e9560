"""Several processes opening one new SQLite database at the same moment (what `serve --workers N`
does with the state store and the shared replay/lockout store, and a CLI command started
alongside it) all succeed."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from spaprov.auth.shared_state import SqliteSharedAuthStore
from spaprov.mobility import StateStoreError, open_state

OPENERS = 8


def _open_together(path: str, barrier: Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        open_state(path).close()
        results.put("ok")
    except StateStoreError as error:
        results.put(str(error))


def _open_shared_auth_together(path: str, barrier: Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        SqliteSharedAuthStore(path).close()
        results.put("ok")
    except sqlite3.Error as error:
        results.put(str(error))


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(10))
def test_processes_opening_one_new_database_together_all_succeed(tmp_path: Path, round_: int) -> None:
    path = str(tmp_path / f"state-{round_}.sqlite3")
    assert _open_at_once(_open_together, path) == ["ok"] * OPENERS
    store = open_state(path)
    try:
        assert store.schema_version >= 1
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(10))
def test_workers_opening_the_shared_auth_store_together_all_succeed(tmp_path: Path, round_: int) -> None:
    path = str(tmp_path / f"auth-{round_}.sqlite3")
    assert _open_at_once(_open_shared_auth_together, path) == ["ok"] * OPENERS


def _open_at_once(target: Callable[[str, Barrier, multiprocessing.Queue[str]], None], path: str) -> list[str]:
    spawn = multiprocessing.get_context("fork")
    barrier = spawn.Barrier(OPENERS)
    results: multiprocessing.Queue[str] = spawn.Queue()
    openers = [spawn.Process(target=target, args=(path, barrier, results)) for _ in range(OPENERS)]
    for opener in openers:
        opener.start()
    outcomes = [results.get(timeout=60) for _ in openers]
    for opener in openers:
        opener.join(timeout=30)
    return outcomes

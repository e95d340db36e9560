"""Fixtures shared by every test directory: the state store on each backend.

The PostgreSQL runs need `SPAPROV_TEST_POSTGRES` (a database URL; .ci/run starts a real server
and sets it).  Without it they are skipped locally, and fail in CI, where they must run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES = os.environ.get("SPAPROV_TEST_POSTGRES", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state store URL: SQLite in tmp, or a private schema in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite3'}"
        return
    if not POSTGRES:
        if os.environ.get("CI") == "true":
            pytest.fail("SPAPROV_TEST_POSTGRES is not set: .ci/run must start PostgreSQL")
        pytest.skip("set SPAPROV_TEST_POSTGRES=postgresql://… to run the PostgreSQL suite")
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES else "?"
    try:
        yield f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")

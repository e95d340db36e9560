"""A private PostgreSQL schema per test, so tests share one database without seeing each other."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def private_schema(base_url: str, *, before_drop: Callable[[], None] | None = None) -> Iterator[str]:
    """A state URL whose search_path is a fresh schema, dropped afterwards (`before_drop` first:
    a test that stopped PostgreSQL waits for it to be back)."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        if before_drop is not None:
            before_drop()
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")

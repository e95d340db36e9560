"""The Jinja2 environment of the server's HTML pages (templates/admin/): autoescape on."""

from __future__ import annotations

import datetime

import jinja2

from spaprov.resources import resource_dir


def utc(seconds: float | None) -> str:
    """`2026-11-30 15:13:00` (UTC) from a Unix time; empty for None."""
    if seconds is None:
        return ""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
PAGES.filters["utc"] = utc

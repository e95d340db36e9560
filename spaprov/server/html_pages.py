"""The Jinja2 environment of the server's HTML pages (templates/admin/): autoescape on."""

from __future__ import annotations

import jinja2

from spaprov.resources import resource_dir

PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

"""The package's data folders, `grammar/` and `templates/`, found with importlib.resources.

In the source tree the real folders are at the top (a user decision) and spaprov/grammar and
spaprov/templates are links to them, so one lookup serves a checkout, an editable install and
an installed wheel (which holds real copies: see the hatch build settings in pyproject.toml).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_dir(name: str) -> Path:
    """The package folder `name` (``"grammar"`` or ``"templates"``) as a filesystem path, which
    is what Lark and Jinja2's FileSystemLoader read from."""
    folder = files("spaprov") / name
    if not isinstance(folder, Path) or not folder.is_dir():
        raise FileNotFoundError(f"spaprov resource directory {name!r} is missing from the installation")
    return folder

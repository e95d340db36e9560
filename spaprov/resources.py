"""Locate the top-level `grammar/` and `templates/` directories.

They live at the top of the source tree (a user decision) and are copied into the package as
`spaprov/grammar` and `spaprov/templates` when a wheel is built.  A source checkout or an editable
install finds them one level above the package instead.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory `name` (``"grammar"`` or ``"templates"``), installed or in the tree."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"spaprov resource directory {name!r} is missing from the installation")

"""Which profile directory a command works on, for every command that takes `--profiles`.

In order: `--profiles DIR`, `$SPAPROV_PROFILES`, then the current directory when it holds a
`site.toml`.  The directory must exist: a typo is an error, never a silent new tree (with an
empty state database in it).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

PROFILES_ENV = "SPAPROV_PROFILES"
PROFILES_HELP = (
    f"profile directory (default: ${PROFILES_ENV}, else the current directory if it holds site.toml)"
)


class ProfilesError(ValueError):
    """No usable profile directory: the message says what to do."""


def add_profiles_argument(parser: argparse.ArgumentParser, *, note: str = "") -> None:
    help_text = f"{PROFILES_HELP}; {note}" if note else PROFILES_HELP
    parser.add_argument("--profiles", type=Path, default=None, metavar="DIR", help=help_text)


def resolve_profiles(given: Path | None, cwd: Path | None = None) -> Path:
    """The profile directory to use; ProfilesError when there is none or it does not exist."""
    if given is not None:
        source = "--profiles"
        path = given
    elif os.environ.get(PROFILES_ENV):
        source = f"${PROFILES_ENV}"
        path = Path(os.environ[PROFILES_ENV])
    else:
        here = cwd or Path.cwd()
        if (here / "site.toml").is_file():
            return Path(".")
        raise ProfilesError(
            f"no profile directory: pass --profiles DIR, set ${PROFILES_ENV}, "
            f"or run in a directory that holds site.toml ({here} does not)"
        )
    if not path.exists():
        raise ProfilesError(f"the profile directory {path} (from {source}) does not exist")
    if not path.is_dir():
        raise ProfilesError(f"the profile directory {path} (from {source}) is not a directory")
    return path


__all__ = ["PROFILES_ENV", "ProfilesError", "add_profiles_argument", "resolve_profiles"]

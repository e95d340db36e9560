"""Where the state store is, for every command that opens it, without a password in `ps`.

In order: `--state URL`, `--state-file PATH` (its first line is the URL), `$SPAPROV_STATE`, then
sqlite in the profile directory.  A PostgreSQL URL need not hold a password at all: psycopg hands
the connection to libpq, which reads `PGPASSWORD` or the password file (`~/.pgpass`, or
`PGPASSFILE`) when the URL names none.
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

from spaprov.logsafe import redact_url, url_password_has_at, url_secrets
from spaprov.mobility import StateStoreError

STATE_ENV = "SPAPROV_STATE"
STATE_HELP = (
    "state store URL: sqlite:///PATH or postgresql://USER@HOST/DB (default: $SPAPROV_STATE, else "
    "sqlite in the profile directory).  A password here shows in `ps`: prefer --state-file, "
    "$SPAPROV_STATE, or libpq's ~/.pgpass / PGPASSFILE / PGPASSWORD with a URL without one"
)


def add_state_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--state", metavar="URL", help=STATE_HELP)
    where.add_argument(
        "--state-file",
        type=Path,
        metavar="PATH",
        help="read the state store URL from the first line of PATH (mode 0600 if it holds a password)",
    )


def state_url(args: argparse.Namespace) -> str | None:
    """The URL the options and environment name, or None for the default; StateStoreError when the
    state file cannot be used."""
    if args.state:
        url: str | None = str(args.state)
    elif getattr(args, "state_file", None) is not None:
        url = read_state_file(args.state_file)
    else:
        url = os.environ.get(STATE_ENV) or None
    if url and url_password_has_at(url):
        raise StateStoreError(
            f"the password in the state URL {redact_url(url)} holds a raw '@': write it as %40 "
            "(or leave it out of the URL and use ~/.pgpass, PGPASSFILE or PGPASSWORD)"
        )
    return url


def read_state_file(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            url = handle.readline().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise StateStoreError(f"cannot read the state file {path}: {error}") from None
    if not url:
        raise StateStoreError(f"the state file {path} is empty: its first line must be the state URL")
    if url_secrets(url) and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StateStoreError(
            f"the state file {path} holds a password and is readable by group or others "
            f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {path}"
        )
    return url

"""The `spaprov` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from spaprov import __version__
from spaprov.commands import admin, backup, bulk, phone, render, rule, serve, sessions, user
from spaprov.commands.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from spaprov.commands.profiles_option import ProfilesError, resolve_profiles


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spaprov", description="Provisioning server for Cisco SPA5x5 phones with extension mobility."
    )
    parser.add_argument("--version", action="version", version=f"spaprov {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rule.register(subparsers)
    user.register(subparsers)
    serve.register(subparsers)
    render.register(subparsers)
    phone.register(subparsers)
    sessions.register(subparsers)
    admin.register(subparsers)
    bulk.register(subparsers)
    backup.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # One rule for every command that takes --profiles; a command that can do without the
    # directory (sessions with --state, user with --credentials and --realm) says so.
    optional = getattr(args, "profiles_optional", None)
    # `restore --profiles NEW` creates the directory it is explicitly given (a migration).
    new = (
        getattr(args, "profiles_may_be_new", False)
        and args.profiles is not None
        and not args.profiles.exists()
    )
    if hasattr(args, "profiles") and not new and not (args.profiles is None and optional and optional(args)):
        try:
            args.profiles = resolve_profiles(args.profiles)
        except ProfilesError as error:
            print(f"spaprov {args.command}: {error}", file=sys.stderr)
            return EXIT_USAGE
    try:
        return int(args.run(args))
    except BrokenPipeError:  # `spaprov export users | head`: the reader left; that is fine
        sys.stderr.close()
        return EXIT_OK
    except OSError as error:  # unreadable @FILE and the like: a message, never a traceback
        print(f"spaprov: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

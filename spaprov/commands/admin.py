"""`spaprov admin add|list`: administrator accounts for /api/v1 and /admin."""

from __future__ import annotations

import argparse
import sys

from spaprov.auth.admins import ROLES, AdminAccounts, AdminAccountsError
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.user import _password


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    admin = subparsers.add_parser("admin", help="administrator accounts (admins.toml)")
    actions = admin.add_subparsers(dest="admin_action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add or update an administrator")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="admin")
    add.add_argument("--password-stdin", action="store_true")
    add_profiles_argument(add)
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="list administrators and their roles")
    add_profiles_argument(listing)
    listing.set_defaults(run=run_list)


def run_add(args: argparse.Namespace) -> int:
    try:
        AdminAccounts(args.profiles / "admins.toml").set(args.name, args.role, _password(args))
    except (AdminAccountsError, ValueError) as error:
        print(f"spaprov admin: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} is an administrator ({args.role})")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    try:
        names = AdminAccounts(args.profiles / "admins.toml").names()
    except AdminAccountsError as error:
        print(f"spaprov admin: {error}", file=sys.stderr)
        return EXIT_FAILED
    for name, role in sorted(names.items()):
        print(f"{name}\t{role}")
    return EXIT_OK

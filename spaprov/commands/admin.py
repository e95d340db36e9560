"""`spaprov admin add|passwd|del|list`: administrator accounts for /api/v1 and /admin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from spaprov.auth.admins import ROLES, AdminAccounts, AdminAccountsError
from spaprov.commands.cli_audit import audit_command
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.state_option import add_state_arguments
from spaprov.commands.user import PASSWORD_STDIN_HELP, _password


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    admin = subparsers.add_parser("admin", help="administrator accounts (admins.toml)")
    actions = admin.add_subparsers(dest="admin_action", required=True, metavar="ACTION")

    def action(
        name: str, help_text: str, run: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        if name != "list":
            parser.add_argument("name", help="the administrator's login name (letters, digits, . _ -)")
        add_profiles_argument(parser)
        if name != "list":
            add_state_arguments(parser)  # where the change is audited
        parser.set_defaults(run=run)
        return parser

    add = action("add", "add or update an administrator", run_add)
    add.add_argument(
        "--role",
        choices=ROLES,
        default="admin",
        help="admin: everything; viewer: read, try rules, see metrics (default admin)",
    )
    add.add_argument("--password-stdin", action="store_true", help=PASSWORD_STDIN_HELP)
    passwd = action("passwd", "set an administrator's password (the role stays)", run_passwd)
    passwd.add_argument("--password-stdin", action="store_true", help=PASSWORD_STDIN_HELP)
    action("del", "remove an administrator (never the last one with the admin role)", run_delete)
    action("list", "list administrators and their roles", run_list)


def run_add(args: argparse.Namespace) -> int:
    try:
        AdminAccounts(args.profiles / "admins.toml").set(args.name, args.role, _password(args))
    except (AdminAccountsError, ValueError) as error:
        print(f"spaprov admin: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} is an administrator ({args.role})")
    audit_command(args, "admin", "admin_account", f"administrator {args.name} set (role {args.role})")
    return EXIT_OK


def run_passwd(args: argparse.Namespace) -> int:
    try:
        accounts = AdminAccounts(args.profiles / "admins.toml")
        if args.name not in accounts.names():  # before asking for a password
            raise AdminAccountsError(f"no administrator {args.name!r} (add one with `spaprov admin add`)")
        accounts.set_password(args.name, _password(args))
    except (AdminAccountsError, ValueError) as error:
        print(f"spaprov admin: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"password changed for administrator {args.name}")
    audit_command(args, "admin", "admin_account", f"password of administrator {args.name}")
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    try:
        AdminAccounts(args.profiles / "admins.toml").delete(args.name)
    except AdminAccountsError as error:
        print(f"spaprov admin: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} is no longer an administrator")
    audit_command(args, "admin", "admin_account", f"administrator {args.name} removed")
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

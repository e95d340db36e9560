"""`spaprov phone`: drive a simulated SPA5x5 against a live server, printing each step — also an
administrator's deployment check.  Passwords come from a prompt or standard input, never argv."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from spaprov.config.models import MODELS
from spaprov.phone import SpaPhone, StepReport


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    phone = subparsers.add_parser(
        "phone",
        help="simulate an SPA5x5 against a server: boot, then the actions given",
        description="Actions run in order after boot: `resync`, `login USER`, `logout`. "
        "Example: spaprov phone --server http://127.0.0.1:8080 --mac 001122334455 "
        "--host-user conf-room-1 login alice logout",
    )
    phone.add_argument("--server", required=True, help="base URL of the server (http://127.0.0.1:8080)")
    phone.add_argument("--mac", required=True, help="the phone's MAC address")
    phone.add_argument(
        "--model",
        default="SPA525G2",
        choices=sorted(MODELS),
        help="the phone model to simulate (default SPA525G2)",
    )
    phone.add_argument(
        "--default-path",
        default="/default.cfg",
        help="path of the default profile, the factory Profile_Rule's target",
    )
    phone.add_argument(
        "--host-user",
        help="EM_Phone_User_ID as typed into the phone (password: $SPAPROV_HOST_PASSWORD, stdin or a prompt)",
    )
    phone.add_argument(
        "--password-stdin",
        action="store_true",
        help="read passwords from standard input, one per line (host first, then each login)",
    )
    phone.add_argument("actions", nargs="*", metavar="ACTION", help="resync | login USER | logout")
    phone.set_defaults(run=run)


def parse_actions(words: list[str]) -> list[tuple[str, str]]:
    actions, index = [], 0
    while index < len(words):
        word = words[index]
        if word == "login":
            if index + 1 >= len(words):
                raise ValueError("login needs a user id")
            actions.append(("login", words[index + 1]))
            index += 2
            continue
        if word not in ("resync", "logout", "boot"):
            raise ValueError(f"unknown action {word!r}: use resync, login USER or logout")
        actions.append((word, ""))
        index += 1
    return actions


def run(args: argparse.Namespace) -> int:
    try:
        actions = parse_actions(args.actions)
        phone = SpaPhone.of_model(args.mac, args.model, args.server.rstrip("/") + args.default_path)
    except ValueError as error:
        print(f"spaprov phone: {error}", file=sys.stderr)
        return EXIT_USAGE
    passwords = _PasswordSource(args.password_stdin)
    if args.host_user:
        host_password = os.environ.get("SPAPROV_HOST_PASSWORD") or passwords.next(
            f"Host password for {args.host_user}: "
        )
        phone.set_host_credentials(args.host_user, host_password)
    return asyncio.run(_drive(phone, actions, passwords))


async def _drive(phone: SpaPhone, actions: list[tuple[str, str]], passwords: _PasswordSource) -> int:
    print(f"phone {phone.user_agent}")
    reports: list[StepReport] = [await phone.boot()]
    print(reports[-1])
    for action, user in actions:
        if action == "login":
            report = await phone.login(user, passwords.next(f"Password for {user}: "))
        elif action == "logout":
            report = await phone.logout()
        else:
            report = await (phone.boot() if action == "boot" else phone.resync())
        reports.append(report)
        print(report)
    return EXIT_OK if all(report.ok for report in reports) else EXIT_FAILED


class _PasswordSource:
    def __init__(self, from_stdin: bool) -> None:
        self._from_stdin = from_stdin

    def next(self, prompt: str) -> str:
        if self._from_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise SystemExit("spaprov phone: no terminal to prompt for a password: use --password-stdin")
        return getpass.getpass(prompt)

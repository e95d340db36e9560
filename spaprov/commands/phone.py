"""`spaprov phone`: drive a simulated SPA5x5 against a live server, printing each step — also an
administrator's deployment check.  Passwords come from a prompt or standard input, never argv."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import TYPE_CHECKING

from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from spaprov.config.models import MODELS

if TYPE_CHECKING:  # the simulator (and aiohttp, its HTTP client) loads only when `phone` runs
    from spaprov.phone import SpaPhone, StepReport


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    phone = subparsers.add_parser(
        "phone",
        help="simulate an SPA5x5 against a server: boot, then the actions given",
        description="Actions run in order after boot: `resync`, `login USER`, `logout`, `wait DURATION` "
        "(simulated time passes: the phone's timers fire), `push-wait SECONDS` (wait for a SIP "
        "NOTIFY resync, needs --sip). Example: spaprov phone --server http://127.0.0.1:8080 "
        "--mac 001122334455 --host-user conf-room-1 login alice logout; from factory state: "
        "spaprov phone --tftp 127.0.0.1:6969 --mac 001122334455",
    )
    phone.add_argument(
        "--server",
        help="base URL of the server (http://127.0.0.1:8080): the phone's Profile_Rule is its --default-path",
    )
    phone.add_argument(
        "--tftp",
        metavar="HOST[:PORT]",
        help="a factory-reset phone (Profile_Rule /spa$PSN.cfg) whose DHCP option 66 names this TFTP server",
    )
    phone.add_argument(
        "--ca-file",
        metavar="PEM",
        help="trust HTTPS servers whose certificate chains to this CA (default: the system's CAs)",
    )
    phone.add_argument(
        "--sip",
        metavar="[ADDR:]PORT",
        help="listen for SIP NOTIFY there (UDP), as the phone does with Resync_From_SIP",
    )
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
    phone.add_argument(
        "actions",
        nargs="*",
        metavar="ACTION",
        help="resync | login USER | logout | wait DURATION (30m, 8h) | push-wait SECONDS",
    )
    phone.set_defaults(run=run)


_WITH_ARGUMENT = {
    "login": "a user id",
    "wait": "a duration (30m, 8h, 2d)",
    "push-wait": "a number of seconds",
}


def parse_actions(words: list[str]) -> list[tuple[str, str]]:
    actions, index = [], 0
    while index < len(words):
        word = words[index]
        if word in _WITH_ARGUMENT:
            if index + 1 >= len(words):
                raise ValueError(f"{word} needs {_WITH_ARGUMENT[word]}")
            argument = words[index + 1]
            if word == "wait":
                duration_seconds(argument)
            if word == "push-wait" and not _positive_number(argument):
                raise ValueError(f"push-wait needs a number of seconds, not {argument!r}")
            actions.append((word, argument))
            index += 2
            continue
        if word not in ("resync", "logout", "boot"):
            raise ValueError(
                f"unknown action {word!r}: use resync, login USER, logout, wait DURATION or push-wait SECONDS"
            )
        actions.append((word, ""))
        index += 1
    return actions


def _positive_number(text: str) -> bool:
    try:
        return 0 < float(text) <= 3600
    except ValueError:
        return False


def duration_seconds(text: str) -> float:
    """`90`, `30m`, `8h`, `2d` -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    if not number.isdigit() or int(number) * unit > 366 * 86400:
        raise ValueError(f"{text!r} is not a duration: use 90, 30m, 8h or 2d (at most a year)")
    return float(int(number) * unit)


def _sip_address(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--sip {text!r}: expected [ADDR:]PORT")
    return (host.strip("[]") if colon else "127.0.0.1") or "127.0.0.1", int(port)


def run(args: argparse.Namespace) -> int:
    from spaprov.phone import SpaPhone
    from spaprov.phone.simulator import FACTORY_PROFILE_RULE

    try:
        actions = parse_actions(args.actions)
        if args.server is None and args.tftp is None:
            raise ValueError("give --server URL, or --tftp HOST[:PORT] for a factory-reset phone")
        if any(action == "push-wait" for action, _ in actions) and not args.sip:
            raise ValueError("push-wait needs --sip [ADDR:]PORT to listen on")
        sip = _sip_address(args.sip) if args.sip else None
        rule = FACTORY_PROFILE_RULE if args.server is None else args.server.rstrip("/") + args.default_path
        phone = SpaPhone.of_model(
            args.mac, args.model, rule, dhcp_tftp_server=args.tftp, ca_file=args.ca_file
        )
    except (ValueError, OSError) as error:  # OSError: an unreadable --ca-file
        print(f"spaprov phone: {error}", file=sys.stderr)
        return EXIT_USAGE
    passwords = _PasswordSource(args.password_stdin)
    if args.host_user:
        host_password = os.environ.get("SPAPROV_HOST_PASSWORD") or passwords.next(
            f"Host password for {args.host_user}: "
        )
        phone.set_host_credentials(args.host_user, host_password)
    return asyncio.run(_drive(phone, actions, passwords, sip))


async def _drive(
    phone: SpaPhone, actions: list[tuple[str, str]], passwords: _PasswordSource, sip: tuple[str, int] | None
) -> int:
    print(f"phone {phone.user_agent}")
    if sip is not None:
        try:
            host, port = await phone.listen_sip(*sip)
        except OSError as error:
            print(f"spaprov phone: cannot listen for SIP on {sip[0]}:{sip[1]}: {error}", file=sys.stderr)
            return EXIT_FAILED
        print(f"listening for SIP NOTIFY on {host}:{port}")
    try:
        reports: list[StepReport] = [await phone.boot()]
        print(reports[-1])
        for action, argument in actions:
            for report in await _act(phone, action, argument, passwords):
                reports.append(report)
                print(report)
    finally:
        await phone.close()
    return EXIT_OK if all(report.ok for report in reports) else EXIT_FAILED


async def _act(phone: SpaPhone, action: str, argument: str, passwords: _PasswordSource) -> list[StepReport]:
    if action == "login":
        return [await phone.login(argument, passwords.next(f"Password for {argument}: "))]
    if action == "logout":
        return [await phone.logout()]
    if action == "wait":  # simulated time: each resync the timers cause is a step of its own
        reports = await phone.advance(duration_seconds(argument))
        return reports or [phone.report_without_fetch(f"wait {argument}", True, "no timer fired")]
    if action == "push-wait":
        try:
            return [await phone.wait_pushed(float(argument))]
        except TimeoutError:
            message = f"no authenticated SIP NOTIFY resync within {argument} s"
            return [phone.report_without_fetch("push-wait", False, message)]
    return [await (phone.boot() if action == "boot" else phone.resync())]


class _PasswordSource:
    def __init__(self, from_stdin: bool) -> None:
        self._from_stdin = from_stdin

    def next(self, prompt: str) -> str:
        if self._from_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise SystemExit("spaprov phone: no terminal to prompt for a password: use --password-stdin")
        return getpass.getpass(prompt)

"""`spaprov user add|passwd|del|list`: manage Digest credentials without ever taking a password
from the command line (it would sit in shell history and `ps`)."""

from __future__ import annotations

import argparse
import getpass
import sys
import tomllib
from pathlib import Path

from spaprov.auth.store import CredentialFileError, CredentialStore
from spaprov.commands.cli_audit import audit_command
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.state_option import add_state_arguments
from spaprov.transaction import recover

PASSWORD_STDIN_HELP = "read the password from the first line of standard input (else prompt twice)"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = subparsers.add_parser("user", help="manage Digest credentials (credentials.htdigest)")
    actions = user.add_subparsers(dest="user_action", required=True, metavar="ACTION")

    def add(name: str, help_text: str, *, needs_user: bool = True, needs_password: bool = False) -> None:
        action = actions.add_parser(name, help=help_text)
        if needs_user:
            action.add_argument(
                "username",
                help="the Digest user name, as the phone sends it "
                "(alice@example.com, conf-room-1@example.com)",
            )
        add_profiles_argument(action)
        if name != "list":
            add_state_arguments(action)  # where the change is audited
        action.add_argument(
            "--credentials", type=Path, help="credential file (default: PROFILES/credentials.htdigest)"
        )
        action.add_argument("--realm", help="Digest realm (default: [site] realm in PROFILES/site.toml)")
        if needs_password:
            action.add_argument(
                "--password-stdin",
                action="store_true",
                help=PASSWORD_STDIN_HELP,
            )
        if name == "del":
            action.add_argument(
                "--force",
                action="store_true",
                help="delete even a device's host user (its phone then cannot fetch its host profile)",
            )
        action.set_defaults(
            run=run, user_action=name, profiles_optional=lambda args: bool(args.credentials and args.realm)
        )

    add("add", "add a user (refuses an existing one)", needs_password=True)
    add("passwd", "set an existing user's password", needs_password=True)
    add("del", "delete a user")
    add("list", "list the users of the realm", needs_user=False)


def run(args: argparse.Namespace) -> int:
    try:
        path = args.credentials or args.profiles / "credentials.htdigest"
        for line in recover(path.parent):  # a change interrupted by a crash: finish it first
            print(f"spaprov user: {line}", file=sys.stderr)
        store = CredentialStore(path, _realm(args))
        return _ACTIONS[args.user_action](store, args)
    except (CredentialFileError, ValueError, OSError) as error:
        print(f"spaprov user: {error}", file=sys.stderr)
        return EXIT_FAILED


def _realm(args: argparse.Namespace) -> str:
    if args.realm:
        return str(args.realm)
    site = args.profiles / "site.toml"
    try:
        realm = tomllib.loads(site.read_text(encoding="utf-8")).get("site", {}).get("realm")
    except FileNotFoundError:
        raise ValueError(f"no --realm given and {site} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{site}: {error}") from None
    if not isinstance(realm, str) or not realm:
        raise ValueError(f"no --realm given and {site} has no [site] realm")
    return realm


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to prompt for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the passwords differ")
    return first


def _site_domain(args: argparse.Namespace) -> str | None:
    """The site's em_user_domain ("@example.com"), when there is a readable site.toml."""
    if args.profiles is None:
        return None
    try:
        site = tomllib.loads((args.profiles / "site.toml").read_text(encoding="utf-8")).get("site", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    domain = site.get("em_user_domain") if isinstance(site, dict) else None
    return domain if isinstance(domain, str) and domain.startswith("@") else None


def _unsendable(username: str, domain: str | None) -> str | None:
    """Why no phone of the site can send `username` as its Digest user, or None."""
    local = username.partition("@")[0]
    if domain is not None and not username.endswith(domain):
        found = f"has the domain @{username.partition('@')[2]}" if "@" in username else "has no domain"
        return (
            f"{username!r} {found}, but phones of this site send USER{domain} (EM_User_Domain): "
            f"use {local}{domain}"
        )
    if domain is None and "@" not in username:
        return (
            f"{username!r} has no domain: phones send USER@DOMAIN (EM_User_Domain), e.g. {local}@example.com"
        )
    return None


def _devices_using(args: argparse.Namespace, username: str) -> list[str]:
    """The devices whose host user (host_user + em_user_domain) is `username`."""
    domain = _site_domain(args)
    if domain is None or not username.endswith(domain):
        return []
    host_user = username.removesuffix(domain)
    using = []
    for path in sorted((args.profiles / "devices").glob("*.toml")):
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if document.get("host_user") == host_user:
            using.append(path.stem)
    return using


def _add(store: CredentialStore, args: argparse.Namespace) -> int:
    if reason := _unsendable(args.username, _site_domain(args)):
        print(f"spaprov user: {reason}", file=sys.stderr)
        return EXIT_FAILED
    if args.username in store:
        print(f"spaprov user: {args.username!r} already exists (use passwd)", file=sys.stderr)
        return EXIT_FAILED
    store.set_password(args.username, _password(args))
    print(f"added {args.username} to realm {store.realm!r}")
    _audit(args, "admin_password", f"password of {args.username} set (a new user)")
    return EXIT_OK


def _passwd(store: CredentialStore, args: argparse.Namespace) -> int:
    if args.username not in store:
        print(f"spaprov user: no user {args.username!r} in realm {store.realm!r}", file=sys.stderr)
        return EXIT_FAILED
    store.set_password(args.username, _password(args))
    print(f"password changed for {args.username}")
    _audit(args, "admin_password", f"password of {args.username}")
    return EXIT_OK


def _delete(store: CredentialStore, args: argparse.Namespace) -> int:
    using = _devices_using(args, args.username)
    if using and not args.force:
        devices = ", ".join(f"{mac} (devices/{mac}.toml)" for mac in using)
        print(
            f"spaprov user: {args.username} is the host user of {devices}: its phone could no longer "
            "fetch its host profile. Change the device's host_user first, or delete with --force",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if not store.delete(args.username):
        print(f"spaprov user: no user {args.username!r} in realm {store.realm!r}", file=sys.stderr)
        return EXIT_FAILED
    print(f"deleted {args.username}")
    _audit(args, "admin_delete", f"credentials of {args.username}")
    return EXIT_OK


def _audit(args: argparse.Namespace, event: str, what: str) -> None:
    domain = _site_domain(args)
    user_id = args.username.removesuffix(domain) if domain and args.username.endswith(domain) else None
    audit_command(args, "user", event, what, user_id=user_id or args.username)


def _list(store: CredentialStore, args: argparse.Namespace) -> int:
    for name in store.users():
        algorithms = [a for a in ("MD5", "SHA-256") if store.ha1(name, a)]
        print(f"{name}\t{','.join(algorithms)}")
    return EXIT_OK


_ACTIONS = {"add": _add, "passwd": _passwd, "del": _delete, "list": _list}

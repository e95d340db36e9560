"""`spaprov sessions list|logout` and `spaprov audit`: the state store, from the command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

from spaprov.commands.cli_audit import CLIENT, attribution
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.state_option import STATE_ENV, add_state_arguments, state_url
from spaprov.logsafe import field, text
from spaprov.mobility import StateStore, StateStoreError, default_state_url, forced_logout, open_state
from spaprov.mobility.audit_events import audit_events_help
from spaprov.timespec import parse_since

DETAIL_LIMIT = 1024  # an audit detail is a sentence; a longer one is cut, marked with its length


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def common(parser: argparse.ArgumentParser) -> None:
        add_profiles_argument(parser)
        add_state_arguments(parser)
        parser.set_defaults(profiles_optional=_state_named)

    sessions = subparsers.add_parser("sessions", help="extension-mobility sessions")
    actions = sessions.add_subparsers(dest="sessions_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="active sessions (--all: ended ones too)")
    listing.add_argument("--all", action="store_true", help="ended sessions too, not only active ones")
    common(listing)
    listing.set_defaults(run=run_list)
    logout = actions.add_parser(
        "logout",
        help="force a logout: a running server pushes the phone a resync (SIP NOTIFY) within "
        "seconds; the phone gets the logout profile then, or at its next resync",
    )
    logout.add_argument("target", metavar="USER|MAC", help="the user id, or the phone's MAC address")
    common(logout)
    logout.set_defaults(run=run_logout)

    audit = subparsers.add_parser(
        "audit",
        help="the audit log, newest first",
        epilog=audit_events_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("--user", help="only this user id")
    audit.add_argument("--since", help="ISO date/time (2026-11-22T08:00) or an age (30m, 8h, 2d)")
    audit.add_argument("--limit", type=int, default=1000, help="the newest N entries (default 1000)")
    common(audit)
    audit.set_defaults(run=run_audit)


def _state_named(args: argparse.Namespace) -> bool:
    """With a state store named, the profile directory is not needed."""
    return bool(args.state or args.state_file or os.environ.get(STATE_ENV))


def _store(args: argparse.Namespace, command: str) -> StateStore | None:
    """The state store, or None after saying on stderr why it cannot be opened."""
    try:
        return open_state(state_url(args) or default_state_url(args.profiles))
    except StateStoreError as error:
        print(f"spaprov {command}: {error}", file=sys.stderr)
        return None


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def run_list(args: argparse.Namespace) -> int:
    store = _store(args, "sessions")
    if store is None:
        return EXIT_FAILED
    with store.transaction(write=False) as tx:
        sessions = tx.sessions(active_only=not args.all)
    columns = (
        ("USER", 16),
        ("DEVICE", 13),
        ("STARTED (UTC)", 20),
        ("LAST SEEN (UTC)", 20),
        ("ENDED (UTC)", 20),
    )
    print(" ".join(f"{title:<{width}}" for title, width in columns) + " REASON")
    for s in sessions:
        print(
            f"{s.user_id:<16} {s.device:<13} {_when(s.started):<20} {_when(s.last_seen):<20} "
            f"{_when(s.ended):<20} {s.end_reason or '-'}"
        )
    return EXIT_OK


def run_logout(args: argparse.Namespace) -> int:
    store = _store(args, "sessions")
    if store is None:
        return EXIT_FAILED
    with store.transaction() as tx:
        ended = forced_logout(tx, args.target, time.time(), client=CLIENT, detail=attribution())
    if not ended:
        print(f"spaprov sessions: no active session for {args.target!r}", file=sys.stderr)
        return EXIT_FAILED
    for session in ended:
        print(f"logged out {session.user_id} on {session.device}")
    return EXIT_OK


def run_audit(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since, time.time()) if args.since else None
    except ValueError as error:
        print(f"spaprov audit: {error}", file=sys.stderr)
        return EXIT_FAILED
    store = _store(args, "audit")
    if store is None:
        return EXIT_FAILED
    with store.transaction(write=False) as tx:
        entries = tx.audit_entries(user_id=args.user, since=since, limit=args.limit)
    for e in entries:  # user names and details may be what a stranger sent: escaped, one line each
        print(
            f"{_when(e.at)}  {e.event:<14} user={field(e.user_id)} device={field(e.device)} "
            f"client={field(e.client)}" + (f"  {text(e.detail, DETAIL_LIMIT)}" if e.detail else "")
        )
    return EXIT_OK

"""`spaprov render`: print exactly what a phone would receive, from the profile directory alone
(no server, no state store)."""

from __future__ import annotations

import argparse
import sys

from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.config import ConfigError, load_profile_directory
from spaprov.config.schema import RouteKind
from spaprov.mac import normalize_mac
from spaprov.profiles import ProfileBuilder, Renderer


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    render = subparsers.add_parser("render", help="print exactly what a phone would receive")
    add_profiles_argument(render)
    render.add_argument("--device", required=True, help="the phone's MAC address")
    render.add_argument(
        "--user", help="the logged-in user: id or id@domain, as a phone sends it (implies --kind mobile)"
    )
    render.add_argument(
        "--kind",
        choices=["default", "host", "mobile"],
        help="which profile (default: mobile with --user, else host)",
    )
    render.add_argument("--secure", action="store_true", help="as if fetched over https")
    render.set_defaults(run=run_render)


def run_render(args: argparse.Namespace) -> int:
    try:
        config = load_profile_directory(args.profiles)
    except ConfigError as error:
        print(f"spaprov render: {error}", file=sys.stderr)
        return EXIT_FAILED
    mac = normalize_mac(args.device)
    device = config.devices.get(mac) if mac else None
    if device is None:
        print(f"spaprov render: no device {args.device} in {args.profiles}/devices", file=sys.stderr)
        return EXIT_FAILED
    kind: RouteKind = args.kind or ("mobile" if args.user else "host")
    user = None
    if kind == "mobile":
        known = ", ".join(sorted(config.users)) or "none"
        if not args.user:
            print(f"spaprov render: a mobile profile needs --user (one of {known})", file=sys.stderr)
            return EXIT_FAILED
        # The user id, or the Digest name a phone sends (alice@example.com) as the CLI takes it.
        user = config.users.get(args.user.removesuffix(config.site.em_user_domain))
        if user is None:
            print(
                f"spaprov render: no user {args.user!r} in {args.profiles}/users (users: {known})",
                file=sys.stderr,
            )
            return EXIT_FAILED
    builder = ProfileBuilder(Renderer())
    for misfit in builder.misfits(config, kind, device, user):  # stdout stays the exact profile
        print(f"spaprov render: warning: {misfit}", file=sys.stderr)
    body = builder.build(config, kind, device, user=user, secure=args.secure)
    sys.stdout.write(body.decode("ascii"))
    return EXIT_OK

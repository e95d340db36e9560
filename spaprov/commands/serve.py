"""`spaprov serve` and `spaprov render`."""

from __future__ import annotations

import argparse
import logging
import ssl
import sys
from pathlib import Path

from aiohttp import web

from spaprov.config import ConfigError, load_profile_directory
from spaprov.config.schema import RouteKind
from spaprov.mobility import StateError
from spaprov.provision import ProfileBuilder
from spaprov.render import Renderer
from spaprov.server.identify import normalize_mac

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = subparsers.add_parser("serve", help="run the provisioning server")
    serve.add_argument(
        "--profiles",
        type=Path,
        default=Path("sample_profiles"),
        help="profile directory (default: sample_profiles)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate: serve https")
    serve.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    serve.add_argument(
        "--state", help="state store URL, sqlite:///PATH (default: sqlite:///PROFILES/.spaprov-state.sqlite3)"
    )
    serve.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    serve.set_defaults(run=run_serve)

    render = subparsers.add_parser("render", help="print exactly what a phone would receive")
    render.add_argument("--profiles", type=Path, default=Path("sample_profiles"))
    render.add_argument("--device", required=True, help="the phone's MAC address")
    render.add_argument("--user", help="the logged-in user's id (implies --kind mobile)")
    render.add_argument(
        "--kind",
        choices=["default", "host", "mobile"],
        help="which profile (default: mobile with --user, else host)",
    )
    render.add_argument("--secure", action="store_true", help="as if fetched over https")
    render.set_defaults(run=run_render)


def run_serve(args: argparse.Namespace) -> int:
    from spaprov.server.app import create_app

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if bool(args.tls_cert) != bool(args.tls_key):
        print("spaprov serve: --tls-cert and --tls-key go together", file=sys.stderr)
        return EXIT_FAILED
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as error:
            print(f"spaprov serve: cannot load the TLS certificate: {error}", file=sys.stderr)
            return EXIT_FAILED
    try:
        app = create_app(args.profiles, state=args.state)
    except StateError as error:
        print(f"spaprov serve: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ConfigError as error:
        print(f"spaprov serve: refusing to start: {error}", file=sys.stderr)
        return EXIT_FAILED
    scheme = "https" if context else "http"
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        ssl_context=context,
        access_log=None,
        print=lambda _: print(
            f"spaprov serving {args.profiles} on {scheme}://{args.host}:{args.port}", flush=True
        ),
    )
    return EXIT_OK


def run_render(args: argparse.Namespace) -> int:
    try:
        config = load_profile_directory(args.profiles)
    except ConfigError as error:
        print(f"spaprov render: {error}", file=sys.stderr)
        return EXIT_FAILED
    device = config.devices.get(normalize_mac(args.device))
    if device is None:
        print(f"spaprov render: no device {args.device} in {args.profiles}/devices", file=sys.stderr)
        return EXIT_FAILED
    kind: RouteKind = args.kind or ("mobile" if args.user else "host")
    user = None
    if kind == "mobile":
        user = config.users.get(args.user or "")
        if user is None:
            print(
                f"spaprov render: a mobile profile needs --user (one of {', '.join(sorted(config.users))})",
                file=sys.stderr,
            )
            return EXIT_FAILED
    body = ProfileBuilder(Renderer()).build(config, kind, device, user=user, secure=args.secure)
    sys.stdout.write(body.decode("ascii"))
    return EXIT_OK

"""`spaprov serve`: the HTTP server (and TFTP), in one process or as `--workers`."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import secrets
import signal
import ssl
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from spaprov.auth.shared_state import SHARED_AUTH_ENV
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.state_option import STATE_ENV, add_state_arguments, state_url
from spaprov.config import ConfigError, load_profile_directory
from spaprov.config.schema import Config
from spaprov.fileio import open_to_others
from spaprov.live.holder import SERVER_STARTED_ENV, WORKER_NONCE_SECRET_ENV
from spaprov.live.listen_check import misdirected
from spaprov.live.site_record import SITE_RECORD_ENV
from spaprov.logsafe import install_redaction, url_secrets
from spaprov.mobility import StateStoreError, default_state_url, open_state
from spaprov.transaction import JournalError, recover

LISTEN_BACKLOG = 4096
PARENT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # as spaprov.server.metrics (not imported here)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = subparsers.add_parser("serve", help="run the provisioning server")
    add_profiles_argument(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate: serve https")
    serve.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    serve.add_argument(
        "--tftp",
        metavar="[ADDR:]PORT",
        type=tftp_address,
        help="also serve the bootstrap profile (spa$PSN.cfg, spa<mac>.cfg) over TFTP, read-only; "
        "ADDR defaults to --host (port 69 needs root or CAP_NET_BIND_SERVICE)",
    )
    add_state_arguments(serve)
    serve.add_argument(
        "--workers", type=int, default=1, help="processes sharing the port (SO_REUSEPORT); default 1"
    )
    serve.add_argument(
        "--watch",
        choices=["notify", "poll"],
        default="notify",
        help="follow the profile directory by change notification (default), or by a stat of "
        "every file each second (poll: a directory edited from other machines, e.g. over NFS)",
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="least severe log level printed (default INFO)",
    )
    serve.set_defaults(run=run_serve)


def tftp_address(text: str) -> tuple[str | None, int]:
    """`69`, `0.0.0.0:69`, `[::]:69` -> (address or None for --host's, port)."""
    host: str | None = None
    port_text = text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not rest.startswith(":"):
            raise argparse.ArgumentTypeError(f"{text!r}: an IPv6 address is written [ADDR]:PORT")
        port_text = rest[1:]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536 or host == "":
        raise argparse.ArgumentTypeError(f"{text!r}: expected [ADDR:]PORT with PORT in 1..65535")
    return host, int(port_text)


def run_serve(args: argparse.Namespace) -> int:
    from spaprov.server.access_log import configure_serve_logging

    configure_serve_logging(args.log_level, PARENT_LOG_FORMAT)
    install_redaction()
    if args.state and url_secrets(args.state):
        logging.getLogger("spaprov.serve").warning(
            "the --state URL holds a password, which every local user can read in `ps`: use "
            "--state-file PATH, $%s, or a URL without one and libpq's ~/.pgpass or PGPASSFILE",
            STATE_ENV,
        )
    if args.tls_key and (mode := open_to_others(args.tls_key)):
        logging.getLogger("spaprov.serve").warning(
            "the TLS private key %s is readable by group or others (mode %04o): run chmod 600 %s",
            args.tls_key,
            mode,
            args.tls_key,
        )
    try:
        # Resolved once, here: --workers children get it through multiprocessing's pipe (spawn
        # pickles `args`), never on their command line or in their environment.
        args.state, args.state_file = state_url(args), None
    except StateStoreError as error:
        print(f"spaprov serve: {error}", file=sys.stderr)
        return EXIT_FAILED
    if bool(args.tls_cert) != bool(args.tls_key):
        print("spaprov serve: --tls-cert and --tls-key go together", file=sys.stderr)
        return EXIT_FAILED
    if args.workers < 1:
        print("spaprov serve: --workers must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    if args.workers == 1:
        return _serve_one(args, reuse_port=False, announce=True)
    return _serve_workers(args)


def _serve_one(args: argparse.Namespace, *, reuse_port: bool, announce: bool) -> int:
    from aiohttp import web

    from spaprov.server.app import HOLDER, create_app
    from spaprov.server.event_loop import new_event_loop

    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as error:
            print(f"spaprov serve: cannot load the TLS certificate: {error}", file=sys.stderr)
            return EXIT_FAILED
    if announce and not _recover(args.profiles):  # --workers: done once, by the parent
        return EXIT_FAILED
    try:
        tftp = None if args.tftp is None else (args.tftp[0] or args.host, args.tftp[1])
        app = create_app(
            args.profiles,
            state=args.state,
            listen=(args.host, args.port),
            watch_notify=getattr(args, "watch", "notify") != "poll",
            tftp=tftp,
            tftp_reuse_port=reuse_port,
        )
    except StateStoreError as error:
        print(f"spaprov serve: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ConfigError as error:
        print(f"spaprov serve: refusing to start: {error}", file=sys.stderr)
        return EXIT_FAILED
    if announce:
        _warn_misdirected(app[HOLDER].config.site.profile_rule, args.host, args.port)
        _advise(app[HOLDER].config)
    scheme = "https" if context else "http"
    where = f"spaprov serving {args.profiles} on {scheme}://{args.host}:{args.port}"
    web.run_app(
        app,
        loop=new_event_loop(),
        # A boot storm opens thousands of connections at once: with aiohttp's 128 the kernel
        # drops SYNs and phones wait out 1, 3, 7 s retransmissions (capped by somaxconn).
        backlog=LISTEN_BACKLOG,
        host=args.host,
        port=args.port,
        ssl_context=context,
        access_log=None,
        reuse_port=reuse_port,
        print=(lambda _: print(where, flush=True)) if announce else None,
    )
    return EXIT_OK


def _warn_misdirected(profile_rule: str, host: str, port: int) -> None:
    """Say once, at start-up, when the site's rule sends phones to another server."""
    for warning in misdirected(profile_rule, host, port):
        logging.getLogger("spaprov.serve").warning("%s", warning)


def _advise(config: Config) -> None:
    """Say once, at start-up, what the site will do badly on some phones (it is served anyway)."""
    from spaprov.profiles.advice import startup_advice

    for line in startup_advice(config):
        logging.getLogger("spaprov.serve").warning("%s", line)


def _recover(profiles: Path) -> bool:
    """Finish a write a crash interrupted and remove stale temporaries, under the writers' lock
    (a `spaprov import` running in another process is waited for, never raced)."""
    try:
        for line in recover(profiles):
            logging.getLogger("spaprov.serve").warning("%s", line)
    except (JournalError, OSError) as error:
        print(f"spaprov serve: refusing to start: {error}", file=sys.stderr)
        return False
    return True


def _worker(args: argparse.Namespace) -> None:
    from spaprov.server.access_log import configure_serve_logging

    configure_serve_logging(args.log_level, "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    install_redaction()
    sys.exit(_serve_one(args, reuse_port=True, announce=False))


def _serve_workers(args: argparse.Namespace) -> int:
    """N processes listening on one port with SO_REUSEPORT; the kernel spreads connections.
    They share the profile directory, the state store, (for a "random" site secret) one nonce
    secret drawn here, their replay claims and failure counts (spaprov.auth.shared_state), and
    the site's record of its generation and health (spaprov.live.site_record, in a private
    directory made here).  SIGHUP is passed on to every worker; SIGTERM/SIGINT stop them."""
    if not _recover(args.profiles):
        return EXIT_FAILED
    # Refuse here, once, rather than in N workers; in a process of its own, so that the parent
    # (which only supervises) does not keep a whole site's configuration in memory.
    from spaprov.server.access_log import configure_serve_logging

    with ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=configure_serve_logging,
        initargs=(args.log_level, PARENT_LOG_FORMAT),
    ) as checker:
        problem, profile_rule, advice = checker.submit(_check_site, args.profiles).result()
    if problem is not None:
        print(f"spaprov serve: refusing to start: {problem}", file=sys.stderr)
        return EXIT_FAILED
    _warn_misdirected(profile_rule, args.host, args.port)
    for line in advice:
        logging.getLogger("spaprov.serve").warning("%s", line)
    try:
        # Created and migrated here, once: N workers creating one fresh database at the same
        # moment raced ("database is locked", one worker exited and took the others down).
        open_state(args.state or default_state_url(args.profiles)).close()
    except StateStoreError as error:
        print(f"spaprov serve: {error}", file=sys.stderr)
        return EXIT_FAILED
    with tempfile.TemporaryDirectory(prefix="spaprov-site-") as record:
        os.environ[SITE_RECORD_ENV] = record
        # prometheus_client's multiprocess mode: each worker keeps its metrics in files there and
        # a scrape adds up every worker's (spaprov.server.metrics); removed with the directory.
        metrics = Path(record) / "metrics"
        metrics.mkdir()
        os.environ[MULTIPROCESS_ENV] = str(metrics)
        return _run_workers(args)


def _check_site(profiles: Path) -> tuple[str | None, str, list[str]]:
    """(Why the directory cannot be served or None, the site's Profile_Rule, start-up advice)."""
    from spaprov.profiles.advice import startup_advice

    try:
        config = load_profile_directory(profiles)
    except ConfigError as error:
        return str(error), "", []
    return None, config.site.profile_rule, startup_advice(config)


def _run_workers(args: argparse.Namespace) -> int:
    os.environ.setdefault(WORKER_NONCE_SECRET_ENV, secrets.token_hex(32))
    # Workers start a moment apart: a nonce one issued before another started is not stale.
    os.environ.setdefault(SERVER_STARTED_ENV, repr(time.time()))
    os.environ[SHARED_AUTH_ENV] = "1"  # workers share replay claims and failure counts
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=_worker, args=(args,), name=f"spaprov-worker-{n}") for n in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    scheme = "https" if args.tls_cert else "http"
    print(
        f"spaprov serving {args.profiles} on {scheme}://{args.host}:{args.port} with {args.workers} workers",
        flush=True,
    )
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        if signum != signal.SIGHUP:
            stopping = True
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                os.kill(worker.pid, signal.SIGHUP if signum == signal.SIGHUP else signal.SIGTERM)

    for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    failed = False
    while any(worker.is_alive() for worker in workers):
        for worker in workers:
            worker.join(timeout=0.5)
            if worker.exitcode not in (None, 0) and not stopping:
                failed = True
                stopping = True
                forward(signal.SIGTERM, None)
    return EXIT_FAILED if failed else EXIT_OK

"""The aiohttp application: provisioning routes from the site's rule, health, hot reload."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from spaprov.auth.admins import AdminAccounts
from spaprov.auth.shared_state import POLL_INTERVAL, SharedAuth, shared_store_factory, sharing_needed
from spaprov.clock import Clock, system_clock
from spaprov.live.cache import RenderCache
from spaprov.live.holder import ConfigHolder
from spaprov.live.listen_check import misdirected
from spaprov.live.reload import reload_now
from spaprov.live.watch import watch
from spaprov.logsafe import install_redaction
from spaprov.mobility import (
    Mobility,
    SqliteStateStore,
    StateStore,
    StateStoreError,
    default_state_url,
    open_state,
)
from spaprov.profiles import ProfileBuilder, Renderer
from spaprov.push.service import ResyncPusher
from spaprov.server.admin_auth import require_admin
from spaprov.server.api import Api
from spaprov.server.console import Console
from spaprov.server.em_password import EmPassword
from spaprov.server.metrics import Metrics
from spaprov.server.metrics_page import MetricsPage
from spaprov.server.middleware import log_and_contain
from spaprov.server.parser_errors import install_parser_error_filter
from spaprov.server.phone_fetch import PhoneFetch
from spaprov.tftp import BootstrapFiles, Limits, TftpServer

log = logging.getLogger("spaprov.server")
HOLDER = web.AppKey("spaprov.holder", ConfigHolder)
CACHE = web.AppKey("spaprov.cache", RenderCache)
MOBILITY = web.AppKey("spaprov.mobility", Mobility)
METRICS = web.AppKey("spaprov.metrics", Metrics)
ACCOUNTS = web.AppKey("spaprov.accounts", AdminAccounts)
SHARED_AUTH = web.AppKey("spaprov.shared_auth", SharedAuth)
LISTEN = web.AppKey("spaprov.listen", tuple[str, int])
TFTP = web.AppKey("spaprov.tftp", TftpServer)
PUSHER = web.AppKey("spaprov.pusher", ResyncPusher)
MAX_REQUEST_BODY = 64 * 1024  # phones GET; nothing legitimate sends more


def create_app(
    profiles: Path,
    *,
    clock: Clock = system_clock,
    watch_interval: float | None = 1.0,
    watch_notify: bool = True,
    template_dir: Path | None = None,
    state: str | StateStore | None = None,
    shared_auth: bool | None = None,
    listen: tuple[str, int] | None = None,
    tftp: tuple[str, int] | None = None,
    tftp_limits: Limits | None = None,
    tftp_reuse_port: bool = False,
    push_interval: float | None = 2.0,
) -> web.Application:
    """Raises ConfigError when the profile directory cannot be served at all, and StateStoreError
    when the state store cannot be opened.  `state` defaults to sqlite in the profile directory
    (a dot file, so the reload watcher ignores it).  `shared_auth`: share replay claims and
    failure counts with other processes (spaprov.auth.shared_state); by default only when
    needed: under `serve --workers N` (N > 1) or with a PostgreSQL state store.  The directory
    is watched by change notification, or polled every `watch_interval` seconds when
    `watch_notify` is False or notification fails (None: not watched at all).  `listen`: the
    (host, port) `serve` binds, so /healthz can warn when the site's rule sends phones elsewhere.
    `tftp`: also answer TFTP read requests there, with the bootstrap profile (spaprov.tftp).
    `push_interval`: how often ended sessions are looked for to push a resync to their phones
    (spaprov.push); None: no sweeping task (tests call the pusher's sweep themselves)."""
    install_redaction()  # aiohttp logs a rejected request's header lines: mask credentials in them
    install_parser_error_filter()  # ...with a traceback each: one rate-limited line instead
    cache = RenderCache()
    store = state if isinstance(state, StateStore) else open_state(state or default_state_url(profiles))
    url = state if isinstance(state, str) else default_state_url(profiles) if state is None else None
    if url is None and isinstance(store, SqliteStateStore):
        url = f"sqlite:///{store.path}"
    shared = _open_shared_auth(url, shared_auth, clock)
    mobility = Mobility(store, clock)

    metrics = Metrics()
    metrics.add_gauges(store.health.gauges)

    current: list[ConfigHolder] = []

    def audit_auth(event: str, user: str, client: str) -> None:
        metrics.auth_event(event)
        name = current[0].config.audit_name(user) if current else user
        mobility.audit_soon("failed_auth" if event == "auth_failed" else event, name[:128], None, client)

    accounts = AdminAccounts(profiles / "admins.toml", clock=clock, on_event=audit_auth)

    def swapped() -> None:
        cache.clear()
        if current:  # admin Basic logins follow the site's [auth] limits, reloads included
            auth = current[0].config.site.auth
            accounts.throttle.configure(
                max_failures=auth.max_failures, window=auth.failure_window, cooldown=auth.lockout
            )

    holder = ConfigHolder(profiles, clock, on_swap=swapped, on_auth_event=audit_auth)
    current.append(holder)
    swapped()
    holder.authenticator.attach_shared(shared)
    accounts.attach_shared(shared)
    phone_fetch = PhoneFetch(holder, ProfileBuilder(Renderer(template_dir)), cache, mobility)
    app = web.Application(middlewares=[log_and_contain(metrics)], client_max_size=MAX_REQUEST_BODY)
    app[HOLDER] = holder
    app[CACHE] = cache
    app[MOBILITY] = mobility
    app[METRICS] = metrics
    app[ACCOUNTS] = accounts
    if listen is not None:
        app[LISTEN] = listen
    if shared is not None:
        app[SHARED_AUTH] = shared
        metrics.add_gauges(lambda: shared.health.gauges("spaprov_shared_auth_store"))
        app.cleanup_ctx.append(_sharing_lockouts)
    pusher = ResyncPusher(
        lambda: holder.config,
        mobility,
        clock,
        on_outcome=metrics.outcome_counter(
            "spaprov_resync_push_total", "SIP NOTIFY resync pushes by outcome"
        ),
        interval=push_interval or 2.0,
    )
    app[PUSHER] = pusher
    phone_fetch.on_seen = pusher.seen
    mobility.end_listeners.append(pusher.wake)
    if push_interval:
        app.cleanup_ctx.append(_pushing(pusher))
    app.router.add_get("/healthz", health)
    Api(holder, mobility, accounts, clock).register(app)
    Console(holder, accounts, mobility, metrics, listen, clock).register(app)
    MetricsPage(holder, accounts, metrics, cache, mobility).register(app)
    EmPassword(holder, mobility, clock).register(app)
    app.router.add_get("/{tail:.*}", phone_fetch.get)
    app.router.add_route("*", "/{tail:.*}", phone_fetch.other_method)
    if tftp is not None:
        files = BootstrapFiles(holder, phone_fetch.builder)
        count = metrics.outcome_counter("spaprov_tftp_transfers_total", "TFTP read requests by outcome")
        server = TftpServer(files, limits=tftp_limits, on_outcome=count)
        app[TFTP] = server
        app.cleanup_ctx.append(_tftp_listener(server, tftp, tftp_reuse_port))
    app.cleanup_ctx.append(_reloading(watch_interval, watch_notify))
    app.on_cleanup.append(_close_state)
    return app


def _open_shared_auth(url: str | None, wanted: bool | None, clock: Clock) -> SharedAuth | None:
    if url is None or not (sharing_needed(url) if wanted is None else wanted):
        return None
    factory = shared_store_factory(url)
    if factory is None:
        return None
    try:
        return SharedAuth(factory, clock)
    except (OSError, ImportError, sqlite3.Error) as error:
        raise StateStoreError(f"cannot open the shared auth store: {error}") from None


async def _sharing_lockouts(app: web.Application) -> AsyncIterator[None]:
    """Read the lockouts other workers started, every POLL_INTERVAL; expire old rows each minute."""
    shared, holder, accounts = app[SHARED_AUTH], app[HOLDER], app[ACCOUNTS]

    async def poll() -> None:
        rounds = 0
        while True:
            lockouts = await shared.lockouts()
            holder.authenticator.apply_lockouts(lockouts)
            accounts.apply_lockouts(lockouts)
            rounds += 1
            if rounds % int(60 / POLL_INTERVAL) == 0:
                await shared.expire()
            await asyncio.sleep(POLL_INTERVAL)

    task = asyncio.get_running_loop().create_task(poll())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await asyncio.to_thread(shared.close)


def _tftp_listener(server: TftpServer, address: tuple[str, int], reuse_port: bool):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        host, port = address
        transport, _ = await loop.create_datagram_endpoint(
            lambda: server, local_addr=(host, port), reuse_port=reuse_port or None
        )
        bound = transport.get_extra_info("sockname")
        log.info("tftp: serving bootstrap profiles on %s port %d (read-only)", bound[0], bound[1])
        yield
        transport.close()
        for task in list(server.transfers.values()):
            task.cancel()

    return context


def _pushing(pusher: ResyncPusher):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(pusher.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pusher.close()

    return context


async def _close_state(app: web.Application) -> None:
    await app[MOBILITY].close()


async def health(request: web.Request) -> web.Response:
    """Status, generation and counts for anyone (a load balancer, a monitor); the routes and the
    text of refused-reload problems only for an administrator (any role), since a problem names
    files and fields of a directory that holds secrets."""
    holder = request.app[HOLDER]
    config, site = holder.config, holder.site  # the site's record: every worker answers alike
    store_ok = await request.app[MOBILITY].probe()
    report: dict[str, object] = {
        "status": "degraded" if site.problems or not store_ok else "ok",
        "store": "ok" if store_ok else "unavailable",
        "generation": site.generation,
        "devices": len(config.devices),
        "users": len(config.users),
        "reload_problem_count": len(site.problems),
    }
    listen = request.app.get(LISTEN)
    if listen is not None:  # the rule as served now, so a reload that fixes it clears it
        report["warnings"] = misdirected(config.site.profile_rule, *listen)
    if "Authorization" in request.headers:
        refusal = await require_admin(request, request.app[ACCOUNTS], as_json=True)
        if refusal is not None:
            return refusal
        report["routes"] = [{"path": r.path, "kind": r.kind} for r in config.routes]
        report["reload_problems"] = list(site.problems)
    return web.json_response(report)


def _reloading(watch_interval: float | None, notify: bool):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        holder = app[HOLDER]
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[bool]] = set()

        def on_sighup() -> None:
            log.info("SIGHUP: reloading %s", holder.root)
            task = loop.create_task(reload_now(holder, full=True))
            pending.add(task)
            task.add_done_callback(pending.discard)

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, on_sighup)
        watcher = loop.create_task(watch(holder, watch_interval, notify=notify)) if watch_interval else None
        yield
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGHUP)

    return context

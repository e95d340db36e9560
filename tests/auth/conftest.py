from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore, DigestAuthenticator
from spaprov.clock import ManualClock
from spaprov.server.digest_guard import DigestGuard, PendingAuth
from spaprov.server.keys import IDENTITY
from tests.helpers.auth import REALM, SECRET, USERS


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    store = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    for user, password in USERS.items():
        store.set_password(user, password)
    return store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def authenticator(store: CredentialStore, clock: ManualClock) -> DigestAuthenticator:
    return DigestAuthenticator(REALM, store, SECRET, clock=clock)


def protected_app(guard: DigestGuard) -> web.Application:
    async def profile(request: web.Request) -> web.Response:
        refusal = guard.check(request)  # as the provisioning handler does
        if isinstance(refusal, PendingAuth):
            refusal = await refusal.result()
        if refusal is not None:
            return refusal
        return web.Response(text=f"profile for {request[IDENTITY]}\n")

    app = web.Application()
    app.router.add_get("/mobilephone.cfg", profile)
    return app


@pytest.fixture
async def server(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]], authenticator: DigestAuthenticator
) -> TestServer:
    return await aiohttp_server(protected_app(DigestGuard(authenticator)))

"""Digest authentication for aiohttp handlers: challenge, verify, and put the identity on the
request (`request[IDENTITY]`).

`check()` decides synchronously, with no I/O, except where workers share their auth state
(spaprov.auth.shared_state) and the request is a nonce's first use in this worker or a failure:
then it returns a PendingAuth, whose `result()` the handler awaits (the store is reached in a
thread of its own, never on the event loop).  A phone's resync on a nonce this worker already
admitted is always decided at once."""

from __future__ import annotations

import re

from aiohttp import web
from multidict import CIMultiDict

from spaprov.auth.digest import AuthResult, DigestAuthenticator, Verdict
from spaprov.mac import SPA_USER_AGENT_START
from spaprov.server.keys import AUTH_REASON, IDENTITY

# SPA5x5 firmware (2013) speaks MD5 only and may read just the first challenge, so phones get an
# MD5 challenge alone; everyone else gets SHA-256 first, then MD5 (RFC 7616 §3.7).  This only
# orders what is offered: MD5 is accepted from anyone either way, so it is no downgrade.
SPA_USER_AGENTS = re.compile(SPA_USER_AGENT_START)


class DigestGuard:
    def __init__(
        self, authenticator: DigestAuthenticator, *, md5_only_agents: re.Pattern[str] | None = SPA_USER_AGENTS
    ) -> None:
        self.authenticator = authenticator
        self._md5_only_agents = md5_only_agents

    def check(self, request: web.Request) -> web.Response | PendingAuth | None:
        """None when the request is authenticated (identity stored on it), else the answer, or
        a PendingAuth to await when the shared store must be consulted first."""
        headers = request.headers.getall("Authorization", [])
        if len(headers) > 1:
            request[AUTH_REASON] = "several Authorization headers"
            return web.Response(status=400, text="400: Bad Request: several Authorization headers\n")
        result = self.authenticator.authenticate(
            request.method, request.raw_path, headers[0] if headers else None, request.remote or "?"
        )
        if result.verdict is Verdict.CLAIM or result.pending is not None:
            return PendingAuth(self, request, result)
        return self.answer(request, result)

    def answer(self, request: web.Request, result: AuthResult) -> web.Response | None:
        request[AUTH_REASON] = result.reason
        if result.verdict is Verdict.OK:
            request[IDENTITY] = result.identity or ""
            return None
        if result.verdict is Verdict.BAD_REQUEST:
            return web.Response(status=400, text=f"400: Bad Request: {result.reason}\n")
        if result.verdict is Verdict.LOCKED:
            return web.Response(
                status=429,
                text="429: Too Many Requests: too many failed logins\n",
                headers={"Retry-After": str(result.retry_after)},
            )
        return self.challenge(request, stale=result.stale)

    def challenge(self, request: web.Request, *, stale: bool = False) -> web.Response:
        agent = request.headers.get("User-Agent", "")
        md5_only = self._md5_only_agents is not None and self._md5_only_agents.match(agent)
        algorithms = ("MD5",) if md5_only and "MD5" in self.authenticator.algorithms else None
        headers: CIMultiDict[str] = CIMultiDict()
        for value in self.authenticator.challenges(stale=stale, algorithms=algorithms):
            headers.add("WWW-Authenticate", value)
        return web.Response(status=401, text="401: Unauthorized\n", headers=headers)


class PendingAuth:
    """A Digest decision waiting for the shared auth store (a claim, or a failure's count)."""

    __slots__ = ("_guard", "_request", "_result")

    def __init__(self, guard: DigestGuard, request: web.Request, result: AuthResult) -> None:
        self._guard, self._request, self._result = guard, request, result

    async def result(self) -> web.Response | None:
        authenticator, result = self._guard.authenticator, self._result
        client = self._request.remote or "?"
        if result.verdict is Verdict.CLAIM:
            result = await authenticator.settle_claim(result, client)
        elif result.pending is not None:
            result = await authenticator.settle_failure(result.pending) or result
        return self._guard.answer(self._request, result)

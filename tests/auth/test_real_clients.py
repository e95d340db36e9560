"""Real Digest clients against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest
import requests
from aiohttp.test_utils import TestServer

SPA_AGENT = "Cisco/SPA525G2-7.5.5 (001122334455)(CBT1234567)"


def url(server: TestServer) -> str:
    return str(server.make_url("/mobilephone.cfg"))


async def curl(server: TestServer, user: str, password: str, *extra: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "curl",
        "--silent",
        "--show-error",
        "--digest",
        "--user",
        f"{user}:{password}",
        "--write-out",
        "\n%{http_code}",
        *extra,
        url(server),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err
    body, _, status = out.decode().rpartition("\n")
    return int(status), body


@pytest.mark.parametrize("agent", [None, SPA_AGENT])
async def test_curl(server: TestServer, agent: str | None) -> None:
    extra = ("--user-agent", agent) if agent else ()
    assert await curl(server, "alice@example.com", "1234", *extra) == (200, "profile for alice@example.com\n")
    status, _ = await curl(server, "alice@example.com", "wrong", *extra)
    assert status == 401


async def test_requests(server: TestServer) -> None:
    def fetch(password: str) -> requests.Response:
        return requests.get(
            url(server), auth=requests.auth.HTTPDigestAuth("alice@example.com", password), timeout=10
        )

    good = await asyncio.to_thread(fetch, "1234")
    assert (good.status_code, good.text) == (200, "profile for alice@example.com\n")
    assert (await asyncio.to_thread(fetch, "wrong")).status_code == 401


async def test_httpx(server: TestServer) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        good = await client.get(url(server), auth=httpx.DigestAuth("bob@example.com", "5678"))
        assert (good.status_code, good.text) == (200, "profile for bob@example.com\n")
        bad = await client.get(url(server), auth=httpx.DigestAuth("bob@example.com", "1234"))
        assert bad.status_code == 401


async def test_aiohttp_digest_middleware(server: TestServer) -> None:
    for password, status in (("host-secret", 200), ("wrong", 401)):
        middleware = aiohttp.DigestAuthMiddleware("conf-room-1@example.com", password)
        async with (
            aiohttp.ClientSession(middlewares=(middleware,)) as session,
            session.get(url(server)) as response,
        ):
            assert response.status == status
            if status == 200:
                assert await response.text() == "profile for conf-room-1@example.com\n"


async def test_challenge_headers_for_browsers_and_for_spa_phones(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(url(server)) as response:
            assert response.status == 401
            challenges = response.headers.getall("WWW-Authenticate")
            assert [c.split("algorithm=")[1].split(",")[0] for c in challenges] == ["SHA-256", "MD5"]
        async with session.get(url(server), headers={"User-Agent": SPA_AGENT}) as response:
            (only,) = response.headers.getall("WWW-Authenticate")
            assert "algorithm=MD5" in only and 'qop="auth"' in only


async def test_lockout_answers_429_with_retry_after(server: TestServer) -> None:
    for _ in range(5):
        assert (await curl(server, "alice@example.com", "wrong"))[0] == 401
    status, _ = await curl(server, "alice@example.com", "1234")
    assert status == 429
    async with (
        aiohttp.ClientSession(middlewares=(aiohttp.DigestAuthMiddleware("alice@example.com", "1234"),)) as s,
        s.get(url(server)) as response,
    ):
        assert response.status in (401, 429)  # first leg is the challenge; the answer is 429
    async with httpx.AsyncClient() as client:
        locked = await client.get(url(server), auth=httpx.DigestAuth("alice@example.com", "1234"))
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == "300"

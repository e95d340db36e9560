"""The three profile kinds, end to end: a real server on 127.0.0.1, curl --digest and httpx."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from tests.helpers.site import CONF_ROOM, SPA_AGENT, ServerFactory, add_credentials, flat_profile

CASES = [
    # (path, user, password, expected User_ID_1_, expected Station_Name)
    ("/default.cfg", None, None, "", "Conference Room 1"),
    ("/hostphone.cfg", "conf-room-1@example.com", "host-secret", "1000", "Conference Room 1"),
    ("/mobilephone.cfg", "alice@example.com", "1234", "2001", "Conference Room 1"),
    ("/mobilephone.cfg", "bob@example.com", "5678", "2002", "Conference Room 1"),
]


def assert_carries_em_parameters(params: dict[str, str]) -> None:
    assert params["EM_Enable"] == "Yes"
    assert params["EM_User_Domain"] == "@example.com"
    assert params["Profile_Rule"].startswith('("$EMS" eq "mobile"')
    assert params["Resync_Periodic"] == "3600"


async def curl(url: str, *args: str) -> tuple[int, bytes, str]:
    process = await asyncio.create_subprocess_exec(
        "curl",
        "--silent",
        "--show-error",
        "--dump-header",
        "/dev/stderr",
        "--user-agent",
        SPA_AGENT,
        *args,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    headers = err.decode(errors="replace")
    status = int(headers.strip().split("\r\n\r\n")[-1].split()[1])
    return status, out, headers


@pytest.mark.parametrize(("path", "user", "password", "line_1", "station"), CASES)
async def test_curl_fetches_each_kind(
    start: ServerFactory,
    site: Path,
    path: str,
    user: str | None,
    password: str | None,
    line_1: str,
    station: str,
) -> None:
    server = await start(site)
    args = ["--digest", "--user", f"{user}:{password}"] if user else []
    status, body, headers = await curl(str(server.make_url(path)), *args)
    assert status == 200, body
    assert "content-type: text/xml" in headers.lower()
    params = flat_profile(body)
    assert_carries_em_parameters(params)
    assert params["User_ID_1_"] == line_1
    assert params["Station_Name"] == station


@pytest.mark.parametrize(("path", "user", "password", "line_1", "station"), CASES)
async def test_httpx_fetches_each_kind(
    start: ServerFactory,
    site: Path,
    path: str,
    user: str | None,
    password: str | None,
    line_1: str,
    station: str,
) -> None:
    server = await start(site)
    auth = httpx.DigestAuth(user, password) if user and password else None
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(str(server.make_url(path)), auth=auth)
    assert response.status_code == 200
    params = flat_profile(response.content)
    assert_carries_em_parameters(params)
    assert params["User_ID_1_"] == line_1


async def test_mobile_profile_has_the_users_keys_and_display_name(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(
            str(server.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "1234")
        )
    params = flat_profile(response.content)
    assert params["Extended_Function_2_"] == "fnc=blf+sd+cp;sub=2002@$PROXY;nme=Bob"
    assert params["Station_Display_Name"] == "Alice Example"
    # The SPA525G2 has no Speed_Dial_n ([FUSION] export): the speed dial takes the first free key.
    assert "Speed_Dial_2" not in params
    assert params["Extended_Function_3_"] == "fnc=sd;ext=2002@$PROXY;nme=Bob"
    assert params["Short_Name_3_"] == "Bob"
    assert params["Line_Enable_5_"] == "No" and "Line_Enable_6_" not in params  # SPA525G2: 5 keys


async def test_default_profile_clears_lines_a_mobile_user_left(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        params = flat_profile((await client.get(str(server.make_url("/default.cfg")))).content)
    assert all(params[f"User_ID_{n}_"] == "" and params[f"Line_Enable_{n}_"] == "No" for n in range(1, 6))
    assert "EM_Phone_Password" not in params


async def get(
    server: TestServer,
    path: str,
    *,
    agent: str | None = SPA_AGENT,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> httpx.Response:
    all_headers = {"User-Agent": agent} if agent else {}
    all_headers.update(headers or {})
    async with httpx.AsyncClient(headers=all_headers) as client:
        return await client.request(
            method, str(server.make_url(path)), auth=httpx.DigestAuth(*auth) if auth else None
        )


async def test_unknown_device_and_missing_mac(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    stranger = "Cisco/SPA504G-7.5.5 (00AABBCCDDEE)(CBT0000000)"
    assert (await get(server, "/default.cfg", agent=stranger)).status_code == 404
    assert (
        await get(server, "/mobilephone.cfg", agent=stranger, auth=("alice@example.com", "1234"))
    ).status_code == 404
    missing = await get(server, "/default.cfg", agent="curl/8")
    assert missing.status_code == 400 and "no MAC address" in missing.text


async def test_wrong_domain_is_forbidden(start: ServerFactory, site: Path) -> None:
    add_credentials(site, "alice@other.example", "1234")
    server = await start(site)
    response = await get(server, "/mobilephone.cfg", auth=("alice@other.example", "1234"))
    assert response.status_code == 403


async def test_host_user_cannot_fetch_the_mobile_profile(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    assert (
        await get(server, "/mobilephone.cfg", auth=("conf-room-1@example.com", "host-secret"))
    ).status_code == 403


async def test_another_phones_host_credentials_are_forbidden(start: ServerFactory, site: Path) -> None:
    (site / "devices" / "00aabbccddee.toml").write_text('model = "SPA504G"\nhost_user = "conf-room-2"\n')
    add_credentials(site, "conf-room-2@example.com", "other-secret")
    server = await start(site)
    foreign = await get(server, "/hostphone.cfg", auth=("conf-room-2@example.com", "other-secret"))
    assert foreign.status_code == 403
    own = await get(
        server,
        "/hostphone.cfg",
        auth=("conf-room-2@example.com", "other-secret"),
        agent="Cisco/SPA504G-7.5.5 (00AABBCCDDEE)(CBT0000000)",
    )
    assert own.status_code == 200
    assert flat_profile(own.content)["Line_Enable_4_"] == "No"


async def test_wrong_password_is_401_and_mobile_user_cannot_use_host_route(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site)
    assert (await get(server, "/hostphone.cfg", auth=("conf-room-1@example.com", "nope"))).status_code == 401
    assert (await get(server, "/hostphone.cfg", auth=("alice@example.com", "1234"))).status_code == 403


async def test_etag_304_head_404_405(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    first = await get(server, "/default.cfg")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "private, no-cache"
    again = await get(server, "/default.cfg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert (
        await get(server, "/default.cfg", headers={"If-None-Match": '"other", W/' + etag})
    ).status_code == 304
    assert (await get(server, "/default.cfg", headers={"If-None-Match": '"other"'})).status_code == 200
    head = await get(server, "/default.cfg", method="HEAD")
    assert (
        head.status_code == 200
        and head.content == b""
        and int(head.headers["Content-Length"]) == len(first.content)
    )
    assert (await get(server, "/nothing.cfg")).status_code == 404
    for method in ("POST", "PUT", "DELETE"):
        refused = await get(server, "/default.cfg", method=method)
        assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


async def test_render_cache_serves_repeat_fetches(start: ServerFactory, site: Path) -> None:
    from spaprov.server.app import CACHE

    server = await start(site)
    for _ in range(3):
        await get(server, "/mobilephone.cfg", auth=("alice@example.com", "1234"))
    cache = server.app[CACHE]
    assert (cache.misses, cache.hits) == (1, 2)


async def test_oversize_request_body_is_refused(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    async with httpx.AsyncClient() as client:
        response = await client.request(
            "GET",
            str(server.make_url("/default.cfg")),
            content=b"x" * 200_000,
            headers={"User-Agent": SPA_AGENT},
        )
    assert response.status_code in (200, 413)  # GET bodies are never read; the limit guards readers


async def test_one_log_line_per_request_without_secrets(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    server = await start(site)
    with caplog.at_level(logging.INFO, logger="spaprov.access"):
        await get(server, "/mobilephone.cfg", auth=("alice@example.com", "1234"))
    lines = [r.getMessage() for r in caplog.records if r.name == "spaprov.access"]
    assert len(lines) == 2  # the 401 challenge, then the authenticated fetch
    assert "200 device=001122334455 identity=alice@example.com route=mobile" in lines[1]
    assert all("1234" not in line and "Digest" not in line and "response=" not in line for line in lines)
    assert CONF_ROOM in lines[1]

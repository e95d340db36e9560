"""The API additions the console is built on: search and paging, lock/unlock, host passwords,
saving the site's rule, the rule impact preview, audit filters; viewers and other origins
refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.live.reload import reload_now
from spaprov.server.app import MOBILITY
from tests.helpers.api import VIEWER, assert_error, call
from tests.helpers.site import CONF_ROOM, SPA_AGENT, flat_profile, holder_of

SEED_MOBILE = f"http://127.0.0.1:8080/mobilephone.cfg?mac={CONF_ROOM}"  # the sample rule's URL


async def phone_get(server: TestServer, path: str, user: str, password: str) -> int:
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(str(server.make_url(path)), auth=httpx.DigestAuth(user, password))
        return response.status_code


async def add_devices(server: TestServer, count: int) -> None:
    for n in range(count):
        body = {
            "mac": f"0a0b0c0d{n:04x}",
            "model": "SPA502G",
            "station_name": f"Desk {n}",
            "host_user": f"desk-{n}",
        }
        assert (await call(server, "POST", "/api/v1/devices", body)).status_code == 201


async def test_lists_search_and_page(api: TestServer) -> None:
    await add_devices(api, 5)
    everything = (await call(api, "GET", "/api/v1/devices")).json()
    assert everything["total"] == 6 and len(everything["items"]) == 6 and everything["limit"] is None
    first = (await call(api, "GET", "/api/v1/devices?q=desk&limit=2")).json()
    assert first["total"] == 5 and [d["station_name"] for d in first["items"]] == ["Desk 0", "Desk 1"]
    last = (await call(api, "GET", "/api/v1/devices?q=DESK&offset=4&limit=2")).json()
    assert [d["station_name"] for d in last["items"]] == ["Desk 4"]
    by_host = (await call(api, "GET", "/api/v1/devices?q=conf-room")).json()
    assert [d["mac"] for d in by_host["items"]] == [CONF_ROOM]
    users = (await call(api, "GET", "/api/v1/users?q=alice%20ex")).json()
    assert [u["id"] for u in users["items"]] == ["alice"]  # the display name "Alice Example"
    for query in ("limit=0", "limit=1001", "offset=-1", "limit=x", "q=" + "a" * 201):
        assert_error(await call(api, "GET", f"/api/v1/users?{query}"), 400, "bad_request")


ROOM_2 = "0a0b0c0d0000"  # add_devices' first


async def phone_fetch(server: TestServer, mac: str, user: str, password: str) -> httpx.Response:
    agent = SPA_AGENT.replace(CONF_ROOM.upper(), mac.upper()).replace("SPA525G2", "SPA502G")
    async with httpx.AsyncClient(headers={"User-Agent": agent}) as client:
        return await client.get(
            str(server.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth(user, password)
        )


async def test_lock_refuses_logins_and_logs_the_phone_out_unlock_restores(
    api: TestServer, site: Path
) -> None:
    await add_devices(api, 1)
    assert await phone_get(api, "/mobilephone.cfg", "alice@example.com", "1234") == 200
    locked = (await call(api, "PUT", "/api/v1/users/alice/lock")).json()
    assert locked["locked"] is True and [s["user"] for s in locked["ended"]] == ["alice"]
    assert "locked = true" in (site / "users" / "alice.toml").read_text()
    assert (await call(api, "GET", "/api/v1/users/alice")).json()["locked"] is True
    # Her phone is told to log out (back to its host profile), not left on her profile.
    told = await phone_fetch(api, CONF_ROOM, "alice@example.com", "1234")
    assert told.status_code == 200 and flat_profile(told.content)["EM_Login_State"] == "host"
    refused = await phone_fetch(api, ROOM_2, "alice@example.com", "1234")  # a new login anywhere
    assert refused.status_code == 403 and "locked" in refused.text
    assert (await call(api, "GET", "/api/v1/sessions")).json()["items"] == []
    assert (await call(api, "DELETE", "/api/v1/users/alice/lock")).json()["locked"] is False
    assert "locked" not in (site / "users" / "alice.toml").read_text()
    assert (await phone_fetch(api, ROOM_2, "alice@example.com", "1234")).status_code == 200
    assert_error(await call(api, "PUT", "/api/v1/users/nobody/lock"), 404, "not_found")
    assert_error(await call(api, "PUT", "/api/v1/users/alice/lock", auth=VIEWER), 403, "forbidden")
    await api.app[MOBILITY].drain()
    audit = (await call(api, "GET", "/api/v1/audit?user=alice&event=admin_lock")).json()["items"]
    assert [e["event"] for e in audit] == ["admin_lock"]
    denied = (await call(api, "GET", "/api/v1/audit?user=alice&event=denied")).json()["items"]
    assert [(e["device"], e["detail"]) for e in denied] == [(ROOM_2, "the account is locked")]


async def test_a_lock_written_in_the_file_also_logs_the_phone_out(api: TestServer, site: Path) -> None:
    assert await phone_get(api, "/mobilephone.cfg", "alice@example.com", "1234") == 200
    with (site / "users" / "alice.toml").open("a") as file:
        file.write("locked = true\n")
    await reload_now(holder_of(api))
    assert holder_of(api).config.users["alice"].locked
    told = await phone_fetch(api, CONF_ROOM, "alice@example.com", "1234")
    assert told.status_code == 200 and flat_profile(told.content)["EM_Login_State"] == "host"
    await api.app[MOBILITY].drain()
    (forced,) = (await call(api, "GET", "/api/v1/audit?event=forced_logout")).json()["items"]
    assert (forced["user"], forced["detail"]) == ("alice", "the account is locked")


async def test_a_host_users_password_is_set_through_its_device(api: TestServer) -> None:
    host = "conf-room-1@example.com"
    path = f"/api/v1/devices/{CONF_ROOM}/host_password"
    assert (await call(api, "PUT", path, {"password": "new-host-pw"})).status_code == 204
    assert await phone_get(api, "/hostphone.cfg", host, "host-secret") == 401
    assert await phone_get(api, "/hostphone.cfg", host, "new-host-pw") == 200
    error = assert_error(await call(api, "PUT", path, {"password": ""}), 400, "bad_request")
    assert error["details"][0]["field"] == "password"
    assert_error(
        await call(api, "PUT", "/api/v1/devices/0a0b0c0d0e0f/host_password", {"password": "x"}),
        404,
        "not_found",
    )
    assert_error(await call(api, "PUT", path, {"password": "x"}, auth=VIEWER), 403, "forbidden")
    await api.app[MOBILITY].drain()
    events = (await call(api, "GET", f"/api/v1/audit?device={CONF_ROOM}&event=admin_host_password")).json()
    assert len(events["items"]) == 1 and "conf-room-1" in events["items"][0]["detail"]
    assert_error(await call(api, "GET", "/api/v1/audit?device=nonsense"), 400, "bad_request")


async def test_saving_the_rule_keeps_site_toml_comments_and_refuses_a_bad_rule(
    api: TestServer, site: Path
) -> None:
    rule = (await call(api, "GET", "/api/v1/site/rule")).json()["rule"]
    new = rule.replace("/mobilephone.cfg", "/em/mobile.cfg")
    saved = await call(api, "PUT", "/api/v1/site/rule", {"rule": new})
    assert saved.status_code == 200 and saved.json()["rule"] == new
    text = (site / "site.toml").read_text()
    assert "# The seed rule of extension mobility" in text and "/em/mobile.cfg" in text
    assert holder_of(api).config.site.profile_rule == new
    assert await phone_get(api, "/em/mobile.cfg", "alice@example.com", "1234") == 200
    before = (site / "site.toml").read_bytes()
    assert_error(await call(api, "PUT", "/api/v1/site/rule", {"rule": "(nonsense"}), 422, "validation_failed")
    assert_error(await call(api, "PUT", "/api/v1/site/rule", {"rule": new}, auth=VIEWER), 403, "forbidden")
    assert (site / "site.toml").read_bytes() == before


async def test_impact_preview_counts_the_phones_that_change(api: TestServer) -> None:
    await add_devices(api, 3)
    assert await phone_get(api, "/mobilephone.cfg", "alice@example.com", "1234") == 200
    rule = holder_of(api).config.site.profile_rule
    new = rule.replace("/mobilephone.cfg", "/em/mobile.cfg")
    answer = (await call(api, "POST", "/api/v1/rules/impact", {"rule": new}, auth=VIEWER)).json()
    assert (answer["devices"], answer["changed"]) == (4, 1)  # only the phone alice is on
    (item,) = answer["items"]
    assert item["mac"] == CONF_ROOM and item["old"] == {"url": SEED_MOBILE, "kind": "mobile", "error": None}
    assert item["new"]["url"] == SEED_MOBILE.replace("/mobilephone.cfg", "/em/mobile.cfg")
    assert sum(t["devices"] for t in answer["transitions"]) == 4
    host_only = rule.split(" | ", 1)[1]  # no mobile alternative: alice's phone fetches its host profile
    answer = (await call(api, "POST", "/api/v1/rules/impact", {"rule": host_only})).json()
    assert answer["changed"] == 1 and answer["items"][0]["new"]["kind"] == "host"
    assert_error(await call(api, "POST", "/api/v1/rules/impact", {"rule": "(x"}), 422, "rule_syntax")
    assert_error(
        await call(api, "POST", "/api/v1/rules/impact", {"rule": new, "limit": -1}), 400, "bad_request"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/users/alice/lock", None),
        ("PUT", "/api/v1/site/rule", {"rule": "http://x/y.cfg"}),
        ("PUT", f"/api/v1/devices/{CONF_ROOM}/host_password", {"password": "x"}),
    ],
)
async def test_the_additions_refuse_another_origin(
    api: TestServer, site: Path, method: str, path: str, body: object
) -> None:
    before = {p: p.read_bytes() for p in site.rglob("*.toml")}
    async with httpx.AsyncClient(auth=("admin", "admin-secret")) as client:
        response = await client.request(
            method,
            str(api.make_url(path)),
            json=body,
            headers={"Origin": "http://evil.example", "Content-Type": "application/json"},
        )
    assert_error(response, 403, "cross_origin")
    assert {p: p.read_bytes() for p in site.rglob("*.toml")} == before

"""The JSON API: happy paths, every error shape, roles, OpenAPI, metrics, /em/password."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer
from openapi_spec_validator import validate

from spaprov.live.reload import reload_now
from spaprov.server.api import ROUTES
from spaprov.server.app import MOBILITY
from spaprov.transaction import locked
from tests.helpers.api import VIEWER, assert_error, call
from tests.helpers.rule_corpus import SEED_RULE
from tests.helpers.site import SPA_AGENT, holder_of


# -- rules ------------------------------------------------------------------------------------------
async def test_rule_endpoints_match_the_cli(api: TestServer) -> None:
    state = {"EMS": "mobile", "MUID": "alice", "MPWD": "1234", "PDOM": "@example.com"}
    evaluated = await call(api, "POST", "/api/v1/rules/eval", {"rule": SEED_RULE, "state": state})
    args = [f"{k}={v}" for k, v in state.items()]
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "spaprov",
            "rule",
            "eval",
            SEED_RULE,
            "--json",
            *(x for a in args for x in ("--set", a)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert evaluated.json() == json.loads(cli.stdout)
    assert evaluated.json()["options"]["uid"] == "alice@example.com"
    assert (await call(api, "POST", "/api/v1/rules/check", {"rule": SEED_RULE})).json() == {
        "ok": True,
        "alternatives": 3,
    }
    linted = (await call(api, "POST", "/api/v1/rules/lint", {"rule": "($SWVER < 2)? /a | /b"})).json()
    assert sorted(w["code"] for w in linted["warnings"]) == [
        *["unserved-path"] * 2,
        "xml-escape",
    ]
    served_without_mac = "[--uid $MUID$PDOM --pwd $MPWD] http://127.0.0.1:8080/mobilephone.cfg"
    linted = (await call(api, "POST", "/api/v1/rules/lint", {"rule": served_without_mac})).json()
    assert sorted(w["code"] for w in linted["warnings"]) == ["plaintext-credentials", "unidentified-phone"]
    fmt = await call(api, "POST", "/api/v1/rules/fmt", {"rule": '(a="1")!/x', "kind": "profile"})
    assert fmt.json() == {"rule": '(GPP_A = "1")! /x'}
    traced = (await call(api, "POST", "/api/v1/rules/eval", {"rule": SEED_RULE, "trace": True})).json()
    assert [t["matched"] for t in traced["trace"]] == [False, False, True]


async def test_rule_errors(api: TestServer) -> None:
    error = assert_error(
        await call(api, "POST", "/api/v1/rules/check", {"rule": '("$A" eq "1") /x'}), 422, "rule_syntax"
    )
    detail = error["details"][0]
    assert (detail["line"], detail["column"]) == (1, 15) and detail["rendered"].endswith("^")
    assert_error(await call(api, "POST", "/api/v1/rules/eval", {"rule": 5}), 400, "bad_request")
    assert_error(
        await call(api, "POST", "/api/v1/rules/eval", {"rule": "/x", "kind": "firmware"}), 400, "bad_request"
    )
    assert_error(
        await call(api, "POST", "/api/v1/rules/eval", {"rule": "/x", "state": {"EMX": "1"}}), 400, "bad_state"
    )
    assert_error(
        await call(api, "POST", "/api/v1/rules/eval", {"rule": "/x", "state": []}), 400, "bad_request"
    )
    assert_error(await call(api, "POST", "/api/v1/rules/eval", raw=b"{not json"), 400, "invalid_json")
    assert_error(await call(api, "POST", "/api/v1/rules/eval", [1, 2]), 400, "invalid_json")


# -- devices, users, EM profiles ----------------------------------------------------------------------
NEW_DEVICE = {
    "mac": "00:AA:BB:CC:DD:EE",
    "model": "SPA504G",
    "station_name": "Lobby",
    "host_user": "lobby",
    "em_enabled": True,
    "lines": [{"number": 1, "user_id": "1200", "display_name": "Lobby"}],
}


async def test_device_create_read_update_delete(api: TestServer, site: Path) -> None:
    created = await call(api, "POST", "/api/v1/devices", NEW_DEVICE)
    assert created.status_code == 201 and created.json()["mac"] == "00aabbccddee"
    assert (site / "devices" / "00aabbccddee.toml").exists()
    async with httpx.AsyncClient() as client:  # the server serves it at once
        profile = await client.get(
            str(api.make_url("/default.cfg")), headers={"User-Agent": "Cisco/SPA504G-7.5.5 (00AABBCCDDEE)(X)"}
        )
    assert profile.status_code == 200 and b"<Station_Name>Lobby</Station_Name>" in profile.content
    read = (await call(api, "GET", "/api/v1/devices/00aabbccddee")).json()
    assert read["lines"] == [{"number": 1, "user_id": "1200", "display_name": "Lobby"}]
    updated = await call(api, "PUT", "/api/v1/devices/00aabbccddee", {**NEW_DEVICE, "station_name": "Front"})
    assert updated.status_code == 200 and updated.json()["station_name"] == "Front"
    listed = (await call(api, "GET", "/api/v1/devices")).json()["items"]
    assert [d["mac"] for d in listed] == ["001122334455", "00aabbccddee"]
    assert (await call(api, "DELETE", "/api/v1/devices/00aabbccddee")).status_code == 204
    assert not (site / "devices" / "00aabbccddee.toml").exists()
    assert_error(await call(api, "GET", "/api/v1/devices/00aabbccddee"), 404, "not_found")


COMMENTED_DEVICE = """\
# Lobby phone -- keep the host password in sync with the badge system!
model      = "SPA504G"      # replaced in 2024
station_name = "Lobby"
host_user  = "lobby"
em_enabled = true

# ---- lines ----
[[lines]]
number  = 1
user_id = "1200"   # the reception hunt group
display_name = "Lobby"

[[speed_dials]]
slot = 2      # top button
name = "Security"
number = "1999"
"""


async def test_an_edit_keeps_the_files_comments_and_layout(api: TestServer, site: Path) -> None:
    path = site / "devices" / "00aabbccddee.toml"
    path.write_text(COMMENTED_DEVICE, encoding="utf-8")
    await reload_now(holder_of(api))  # the server serves the hand-written file
    read = (await call(api, "GET", "/api/v1/devices/00aabbccddee")).json()
    read.pop("mac")
    updated = await call(api, "PUT", "/api/v1/devices/00aabbccddee", {**read, "station_name": "Front Desk"})
    assert updated.status_code == 200, updated.text
    after = path.read_text(encoding="utf-8").splitlines()
    before = COMMENTED_DEVICE.splitlines()
    assert len(after) == len(before)
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed == [('station_name = "Lobby"', 'station_name = "Front Desk"')]


async def test_a_bad_edit_changes_nothing_and_lists_every_problem(api: TestServer, site: Path) -> None:
    bad = {**NEW_DEVICE, "model": "SPA999", "host_user": "conf-room-1", "colour": "red"}
    error = assert_error(await call(api, "POST", "/api/v1/devices", bad), 422, "validation_failed")
    reasons = {(d["file"], d["field"]): d["reason"] for d in error["details"]}
    assert reasons[("devices/00aabbccddee.toml", "model")].startswith("'SPA999' is not one of")
    assert reasons[("devices/00aabbccddee.toml", "colour")] == "unknown field"
    assert (
        reasons[("devices/00aabbccddee.toml", "host_user")]
        == "'conf-room-1' is already the host user of 001122334455"
    )
    assert not (site / "devices" / "00aabbccddee.toml").exists()
    before = (site / "devices" / "001122334455.toml").read_bytes()
    refused = await call(
        api,
        "PUT",
        "/api/v1/devices/001122334455",
        {"model": "SPA502G", "host_user": "conf-room-1", "lines": [{"number": 3, "user_id": "1"}]},
    )
    assert_error(refused, 422, "validation_failed")
    assert (site / "devices" / "001122334455.toml").read_bytes() == before
    assert_error(
        await call(api, "PUT", "/api/v1/devices/001122334455", {"model": None}), 422, "validation_failed"
    )


async def test_resource_errors(api: TestServer) -> None:
    assert_error(
        await call(api, "POST", "/api/v1/devices", {**NEW_DEVICE, "mac": "001122334455"}), 409, "exists"
    )
    assert_error(await call(api, "POST", "/api/v1/devices", {**NEW_DEVICE, "mac": "nope"}), 400, "bad_id")
    assert_error(await call(api, "GET", "/api/v1/users/Not An Id"), 400, "bad_id")
    assert_error(await call(api, "PUT", "/api/v1/users/nobody", {}), 404, "not_found")
    assert_error(await call(api, "DELETE", "/api/v1/em_profiles/nobody"), 404, "not_found")


async def test_users_and_profiles_keep_references_valid(api: TestServer, site: Path) -> None:
    created = await call(
        api, "POST", "/api/v1/users", {"id": "carol", "display_name": "Carol", "em_profiles": ["bob"]}
    )
    assert created.status_code == 201 and created.json()["default_profile"] == "bob"
    refused = await call(api, "DELETE", "/api/v1/em_profiles/bob")
    error = assert_error(refused, 422, "validation_failed")
    assert any(d["file"] == "users/carol.toml" for d in error["details"])
    assert (site / "em_profiles" / "bob.toml").exists()
    profile = await call(
        api, "POST", "/api/v1/em_profiles", {"name": "carol", "lines": [{"number": 1, "user_id": "2003"}]}
    )
    assert profile.status_code == 201


async def test_set_a_users_password(api: TestServer) -> None:
    assert (
        await call(api, "PUT", "/api/v1/users/alice/password", {"password": "new-pin"})
    ).status_code == 204
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        url = str(api.make_url("/mobilephone.cfg"))
        assert (await client.get(url, auth=httpx.DigestAuth("alice@example.com", "1234"))).status_code == 401
        assert (
            await client.get(url, auth=httpx.DigestAuth("alice@example.com", "new-pin"))
        ).status_code == 200
    assert_error(await call(api, "PUT", "/api/v1/users/alice/password", {"password": ""}), 400, "bad_request")
    assert_error(await call(api, "PUT", "/api/v1/users/nobody/password", {"password": "x"}), 404, "not_found")


# -- sessions and audit ---------------------------------------------------------------------------------
async def test_sessions_and_forced_logout_and_audit(api: TestServer) -> None:
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(
            str(api.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("bob@example.com", "5678")
        )
    assert response.status_code == 200
    (session,) = (await call(api, "GET", "/api/v1/sessions")).json()["items"]
    assert (session["user"], session["device"], session["ended"]) == ("bob", "001122334455", None)
    ended = (await call(api, "DELETE", "/api/v1/sessions/bob")).json()["ended"]
    assert [s["user"] for s in ended] == ["bob"]
    assert (await call(api, "GET", "/api/v1/sessions")).json()["items"] == []
    assert len((await call(api, "GET", "/api/v1/sessions?all=true")).json()["items"]) == 1
    assert_error(await call(api, "DELETE", "/api/v1/sessions/bob"), 404, "not_found")
    await api.app[MOBILITY].drain()
    events = [e["event"] for e in (await call(api, "GET", "/api/v1/audit?user=bob&since=1h")).json()["items"]]
    assert events == ["forced_logout", "login"]  # newest first
    assert_error(await call(api, "GET", "/api/v1/audit?since=someday"), 400, "bad_request")


# -- who may do what ------------------------------------------------------------------------------------
async def test_unauthenticated_and_wrong_role_are_refused(api: TestServer) -> None:
    anonymous = await call(api, "GET", "/api/v1/devices", auth=None)
    assert_error(anonymous, 401, "unauthenticated")
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    assert_error(await call(api, "GET", "/api/v1/devices", auth=("admin", "wrong")), 401, "unauthenticated")
    assert_error(
        await call(api, "GET", "/api/v1/devices", auth=("nobody", "admin-secret")), 401, "unauthenticated"
    )
    assert (await call(api, "GET", "/api/v1/devices", auth=VIEWER)).status_code == 200
    assert (await call(api, "POST", "/api/v1/rules/eval", {"rule": "/x"}, auth=VIEWER)).status_code == 200
    assert_error(await call(api, "POST", "/api/v1/devices", NEW_DEVICE, auth=VIEWER), 403, "forbidden")
    assert_error(await call(api, "DELETE", "/api/v1/sessions/bob", auth=VIEWER), 403, "forbidden")
    device = (await call(api, "GET", "/api/v1/devices/001122334455", auth=VIEWER)).json()
    assert device["lines"][0]["password"] == "********"  # SIP secrets are for the admin role
    admin_view = (await call(api, "GET", "/api/v1/devices/001122334455")).json()
    assert admin_view["lines"][0]["password"] == "sip-conf-room-1"
    for path in ("/admin", "/metrics"):
        async with httpx.AsyncClient() as client:
            assert (await client.get(str(api.make_url(path)))).status_code == 401


# -- OpenAPI ----------------------------------------------------------------------------------------------
async def test_openapi_document_validates_and_covers_every_route(api: TestServer) -> None:
    document = (await call(api, "GET", "/api/v1/openapi.json", auth=None)).json()
    validate(document)
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    registered = {
        (route.method, route.resource.canonical)
        for route in api.app.router.routes()
        if isinstance(route.resource, web.Resource)
        and route.resource.canonical.startswith("/api/v1")
        and route.method != "HEAD"
    }
    assert documented == registered == {(op.method, op.path) for op in ROUTES}


# -- metrics ---------------------------------------------------------------------------------------------
def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


async def test_metrics_move_when_requests_are_made(api: TestServer) -> None:
    before = (await call(api, "GET", "/metrics", auth=VIEWER)).text
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        for _ in range(3):
            await client.get(str(api.make_url("/default.cfg")))
        await client.get(
            str(api.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "no")
        )
        await client.get(
            str(api.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "1234")
        )
    after = (await call(api, "GET", "/metrics", auth=VIEWER)).text
    assert (
        metric(after, 'spaprov_requests_total{route="default",status="200"}')
        - metric(before, 'spaprov_requests_total{route="default",status="200"}')
        == 3
    )
    assert metric(after, "spaprov_auth_failures_total") - metric(before, "spaprov_auth_failures_total") == 1
    assert metric(after, "spaprov_render_cache_hits_total") >= 2
    assert metric(after, "spaprov_active_sessions") == 1
    assert metric(after, "spaprov_auth_failures_per_name_total") == 0  # the counters' table is not full
    # prometheus_client writes the labels in name order (the order carries no meaning)
    assert 'spaprov_request_duration_seconds_bucket{le="+Inf",route="default"}' in after
    assert "# TYPE spaprov_requests_total counter" in after


async def test_a_password_set_waiting_for_the_writer_lock_does_not_stop_the_server(
    api: TestServer, site: Path
) -> None:
    """A `spaprov import` holds the directory's writer lock for seconds (2,000 rows: ~7 s).  A
    password set through the API meanwhile waits for that lock; it waited on the event loop, so
    every phone's fetch waited too (a /default.cfg took 2.6 s behind a 2,000-row import).  Now
    it waits in a thread: the server answers while the PUT is still pending."""
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:  # another process's writer, as far as the lock can tell
        with locked(site, who="test import"):
            holding.set()
            release.wait(timeout=10)  # bounded: the test never hangs, even on the old code

    writer = threading.Thread(target=other_writer)
    writer.start()
    try:
        assert holding.wait(timeout=10)
        put = asyncio.create_task(call(api, "PUT", "/api/v1/users/alice/password", {"password": "new-pin"}))
        await asyncio.sleep(0.3)  # the PUT reaches the lock
        async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}, timeout=30) as client:
            fetched = await client.get(str(api.make_url("/default.cfg")))
        assert fetched.status_code == 200
        assert not put.done(), "the fetch was answered only after the lock was released"
    finally:
        release.set()
        writer.join()
    assert (await put).status_code == 204
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        url = str(api.make_url("/mobilephone.cfg"))
        answer = await client.get(url, auth=httpx.DigestAuth("alice@example.com", "new-pin"))
        assert answer.status_code == 200


# -- a user's own password --------------------------------------------------------------------------------
async def test_em_password_change(api: TestServer) -> None:
    url = str(api.make_url("/em/password"))
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 401
        page = await client.get(url, auth=httpx.DigestAuth("alice@example.com", "1234"))
        assert page.status_code == 200 and "Signed in as alice@example.com" in page.text
        bad = await client.post(
            url,
            data={"current": "1234", "password": "12", "confirm": "12"},
            auth=httpx.DigestAuth("alice@example.com", "1234"),
        )
        assert bad.status_code == 400
        changed = await client.post(
            url,
            data={"current": "1234", "password": "2468", "confirm": "2468"},
            auth=httpx.DigestAuth("alice@example.com", "1234"),
        )
        assert changed.status_code == 200 and "was changed" in changed.text
        assert (await client.get(url, auth=httpx.DigestAuth("alice@example.com", "2468"))).status_code == 200
        host = await client.get(url, auth=httpx.DigestAuth("conf-room-1@example.com", "host-secret"))
        assert host.status_code == 403

"""The phone's SIP NOTIFY listener: a challenged, Digest-authenticated `Event: resync` makes it
resync at once ([LSPG30] p.41); nothing else does."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from spaprov.phone import SpaPhone
from tests.helpers.mobility import Live, Starter
from tests.helpers.phones import conference_phone, names
from tests.helpers.sip import answer, authenticated_notify, exchange, header, notify_request, status

LINE_1 = ("1000", "sip-conf-room-1")  # the sample device's line 1


async def booted(server: Live) -> SpaPhone:
    phone = conference_phone(server)
    assert (await phone.boot()).ok and phone.parameters["User_ID_1_"] == LINE_1[0]
    return phone


async def test_an_authenticated_notify_resync_makes_the_phone_resync_now(live: Starter) -> None:
    server = await live()
    phone = await booted(server)
    address = await phone.listen_sip()
    try:
        challenge, final = await authenticated_notify(address, "resync", *LINE_1)
        assert 'qop="auth"' in header(challenge, "WWW-Authenticate") and status(final) == 200
        pushed = await phone.wait_pushed()
        assert pushed.action == "pushed resync (SIP NOTIFY)" and pushed.ok
        assert names(pushed.fetches) == ["hostphone.cfg"]
        assert pushed.at == server.clock()  # at once, not at the next periodic resync
    finally:
        await phone.close()


@pytest.mark.parametrize("case", ["unauthenticated", "wrong password", "replayed nonce", "disabled"])
async def test_other_notifies_change_nothing(live: Starter, case: str) -> None:
    server = await live()
    phone = await booted(server)
    address = await phone.listen_sip()
    try:
        if case == "unauthenticated":
            (reply,) = await exchange(address, [notify_request(address, "resync", 1, secrets.token_hex(4))])
            assert status(reply) == 401
        elif case == "wrong password":
            _, reply = await authenticated_notify(address, "resync", LINE_1[0], "guess")
            assert status(reply) == 401
        elif case == "replayed nonce":
            _, first = await authenticated_notify(address, "resync", *LINE_1)
            assert status(first) == 200
            await phone.wait_pushed()
            # the same Authorization again (its nonce is spent): answered with a new challenge
            call_id = secrets.token_hex(4)
            (challenge,) = await exchange(address, [notify_request(address, "resync", 1, call_id)])
            (fresh,) = await exchange(address, [notify_request(address, "resync", 1, call_id)])
            assert status(challenge) == status(fresh) == 401
            assert header(challenge, "WWW-Authenticate") != header(fresh, "WWW-Authenticate")
        else:
            phone.parameters["Resync_From_SIP"] = "No"
            _, reply = await authenticated_notify(address, "resync", *LINE_1)
            assert status(reply) == 403
        with pytest.raises(TimeoutError):
            await phone.wait_pushed(timeout=0.3)
    finally:
        await phone.close()


async def test_a_replayed_authorization_is_refused(live: Starter) -> None:
    server = await live()
    phone = await booted(server)
    address = await phone.listen_sip()
    try:
        call_id = secrets.token_hex(4)
        (challenge,) = await exchange(address, [notify_request(address, "resync", 1, call_id)])
        authorization = answer(
            header(challenge, "WWW-Authenticate"), f"sip:{address[0]}:{address[1]}", *LINE_1
        )
        first, again = await exchange(
            address,
            [
                notify_request(address, "resync", 2, call_id, authorization),
                notify_request(address, "resync", 3, call_id, authorization),
            ],
        )
        assert (status(first), status(again)) == (200, 401)
        await phone.wait_pushed()
        with pytest.raises(TimeoutError):
            await phone.wait_pushed(timeout=0.3)
    finally:
        await phone.close()


async def test_unknown_events_and_methods_are_refused(live: Starter) -> None:
    server = await live()
    phone = await booted(server)
    address = await phone.listen_sip()
    try:
        (bad_event,) = await exchange(address, [notify_request(address, "dance", 1, "c1")])
        assert status(bad_event) == 489
        options = notify_request(address, "resync", 1, "c2").replace(b"NOTIFY", b"OPTIONS", 1)
        (refused,) = await exchange(address, [options])
        assert status(refused) == 501
        await asyncio.sleep(0)
        assert phone.notify_log == [("dance", 489), ("resync", 501)]
    finally:
        await phone.close()

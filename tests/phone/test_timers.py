"""The simulated phone's timers against a real server, in simulated time: the phone and the
server share one ManualClock, so hours pass without sleeping."""

from __future__ import annotations

import random

from spaprov.phone import SpaPhone
from spaprov.phone.schedule import RANDOM_DELAY_UNIT, TRIGGER_POLL
from tests.helpers.mobility import Live, Starter
from tests.helpers.phones import conference_phone, names
from tests.helpers.site import CONF_ROOM


def missing_file_phone(server: Live, rng: random.Random | None = None, **parameters: str) -> SpaPhone:
    phone = SpaPhone.of_model(
        CONF_ROOM, "SPA525G2", f"http://127.0.0.1:{server.port}/no-such.cfg", clock=server.clock, rng=rng
    )
    phone.parameters.update({"Resync_Random_Delay": "0", **parameters})
    return phone


async def test_periodic_resync_every_resync_periodic_seconds_after_a_success(live: Starter) -> None:
    server = await live()
    phone = conference_phone(server)
    booted = await phone.boot()
    assert booted.ok and phone.parameters["Resync_Periodic"] == "3600"  # from the sample's [resync]
    reports = await phone.advance(3 * 3600)
    assert [r.action for r in reports] == ["periodic resync"] * 3
    assert [r.at - booted.at for r in reports] == [3600.0, 7200.0, 10800.0]
    assert all(r.ok and names(r.fetches) == ["hostphone.cfg"] for r in reports)


async def test_failures_retry_after_each_error_retry_delay_in_turn_the_last_repeating(live: Starter) -> None:
    server = await live()
    phone = missing_file_phone(server, Resync_Error_Retry_Delay="30,60,120")
    start = server.clock()
    first = await phone.boot()
    assert not first.ok and first.fetches[0].status == 404
    retries = await phone.advance(30 + 60 + 120 + 120)
    assert [r.action for r in retries] == ["retry resync"] * 4
    assert [r.at - start for r in retries] == [30.0, 90.0, 210.0, 330.0]
    assert phone.macros()["PRVST"] == "1"  # a macro of the moment; during the retries it was 2


async def test_a_random_part_is_added_to_the_retry_and_the_periodic_delay(live: Starter) -> None:
    server = await live()
    phone = missing_file_phone(server, Resync_Error_Retry_Delay="100+50")
    start = server.clock()
    await phone.boot()
    (retry,) = await phone.advance(150)
    assert 100 <= retry.at - start <= 150


async def test_file_not_found_is_a_success_when_resync_fails_on_fnf_is_no(live: Starter) -> None:
    server = await live()
    phone = missing_file_phone(server, Resync_Fails_On_FNF="No", Resync_Periodic="900")
    start = server.clock()
    assert (await phone.boot()).ok
    reports = await phone.advance(1800)
    assert [(r.action, r.at - start) for r in reports] == [
        ("periodic resync", 900.0),
        ("periodic resync", 1800.0),
    ]


async def test_a_zero_error_retry_delay_means_no_retry(live: Starter) -> None:
    """CONFLICT in the sources ([LSPG301] vs [LSPG30] p.42); the simulator does not retry."""
    server = await live()
    phone = missing_file_phone(server, Resync_Error_Retry_Delay="0")
    assert not (await phone.boot()).ok
    assert phone.next_event_at() is None and await phone.advance(86400) == []


async def test_first_contact_waits_a_random_delay_in_units_of_20_seconds(live: Starter) -> None:
    server = await live()
    delays = []
    for seed in range(12):
        phone = missing_file_phone(server, random.Random(seed), Resync_Random_Delay="2")
        before = server.clock()
        report = await phone.boot()
        delays.append(report.at - before)
    assert all(0 <= delay <= 2 * RANDOM_DELAY_UNIT for delay in delays)
    assert len(set(delays)) > 1  # random, not a constant


async def test_resync_on_reset_no_means_no_fetch_at_power_up(live: Starter) -> None:
    server = await live()
    phone = conference_phone(server)
    phone.parameters["Resync_On_Reset"] = "No"
    report = await phone.boot()
    assert report.ok and report.fetches == () and "Resync_On_Reset is No" in report.message
    assert await phone.advance(7 * 86400) == []  # the periodic timer starts only after a success


async def test_provision_enable_no_stops_every_resync(live: Starter) -> None:
    server = await live()
    phone = conference_phone(server)
    assert (await phone.boot()).ok
    phone.parameters["Provision_Enable"] = "No"
    refused = await phone.resync()
    assert not refused.ok and refused.fetches == () and "Provision_Enable is No" in refused.message
    assert await phone.advance(86400) == []


async def test_em_enable_no_blocks_login(live: Starter) -> None:
    server = await live()
    phone = conference_phone(server)
    assert (await phone.boot()).ok
    phone.parameters["EM_Enable"] = "No"
    refused = await phone.login("alice", "1234")
    assert not refused.ok and refused.fetches == () and "EM_Enable is No" in refused.message
    assert phone.parameters["EM_Login_State"] == "" and await server.sessions() == []


async def test_a_resync_trigger_fires_as_if_the_periodic_timer_had_expired(live: Starter) -> None:
    server = await live()
    phone = conference_phone(server)
    phone.parameters["Resync_Trigger_1"] = "$PRVTMR ge 600"
    booted = await phone.boot()
    reports = await phone.advance(1300)
    assert [r.action for r in reports] == ["triggered resync", "triggered resync"]
    first, second = (r.at - booted.at for r in reports)
    assert 600 <= first < 600 + TRIGGER_POLL and 600 <= second - first < 600 + TRIGGER_POLL


async def test_a_trigger_that_never_holds_does_nothing_until_the_periodic_timer(live: Starter) -> None:
    server = await live()
    phone = conference_phone(server)
    phone.parameters["Resync_Trigger_2"] = "$REGTMR1 gt 300"  # REGTMR1 is empty: false
    booted = await phone.boot()
    (only,) = await phone.advance(3600)
    assert only.action == "periodic resync" and only.at - booted.at == 3600.0


async def test_eight_hours_of_max_login_time_pass_in_simulated_time(live: Starter) -> None:
    """The server's policy and the phone share the clock: the periodic resync after 8:00 gets the
    logout profile, and the phone returns to its host profile, without a second of sleeping
    (bench/phone_simulated_day.py prints how long it takes)."""
    server = await live(max_login_time='"8:00"')
    phone = conference_phone(server)
    await phone.boot()
    login = await phone.login("alice", "1234")
    assert login.ok and login.line_1 == "2001"
    reports = await phone.advance(7 * 3600)
    assert len(reports) == 7 and all(r.line_1 == "2001" for r in reports)
    (expired,) = await phone.advance(3600)
    assert (expired.login_state, expired.line_1) == ("host", "1000")
    assert names(expired.fetches) == [
        "mobilephone.cfg",
        "hostphone.cfg",
        "hostphone.cfg",
    ]
    (auto,) = await server.audit("auto_logout")
    assert auto.detail == "maximum login time 8:00 reached"


async def test_an_unreadable_timer_fails_the_step_with_the_reason_not_a_traceback(live: Starter) -> None:
    server = await live()
    phone = missing_file_phone(server, Resync_Fails_On_FNF="No", Resync_Periodic="soon")
    report = await phone.boot()
    assert (
        not report.ok
        and "timer not running: Resync_Periodic: 'soon' is not a number of seconds" in report.message
    )
    assert phone.next_event_at() is None  # no periodic timer runs from it

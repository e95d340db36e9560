"""The seed rule of extension mobility, for every phone state that matters."""

from __future__ import annotations

import pytest

from spaprov.rules import evaluate, parse
from tests.helpers.rule_corpus import SEED_RULE

MOBILE = "http://domain.com/mobilephone.cfg"
HOST = "http://domain.com/hostphone.cfg"
DEFAULT = "http://domain.com/default.cfg"
HOST_CREDS = {"PUID": "conf-room-1", "PPWD": "host-secret"}
MOBILE_CREDS = {"MUID": "alice", "MPWD": "1234"}
DOMAIN = {"PDOM": "@example.com"}


def test_logged_in_user_fetches_mobile_profile_with_digest_identity() -> None:
    result = evaluate(SEED_RULE, {"EMS": "mobile", **MOBILE_CREDS, **HOST_CREDS, **DOMAIN})
    assert result.alternative == 0
    assert result.url == MOBILE
    assert (result.scheme, result.server, result.port, result.path) == (
        "http",
        "domain.com",
        80,
        "/mobilephone.cfg",
    )
    assert result.options.uid == "alice@example.com"
    assert result.options.pwd == "1234"


@pytest.mark.parametrize(
    ("state", "expected_url", "expected_uid"),
    [
        pytest.param(
            {"EMS": "mobile", "MUID": "alice", "MPWD": "", **HOST_CREDS, **DOMAIN},
            HOST,
            "conf-room-1@example.com",
            id="mobile-state-empty-password-falls-to-host",
        ),
        pytest.param(
            {"EMS": "mobile", "MUID": "", "MPWD": "1234", **HOST_CREDS, **DOMAIN},
            HOST,
            "conf-room-1@example.com",
            id="mobile-state-empty-user-falls-to-host",
        ),
        pytest.param({**HOST_CREDS, **DOMAIN}, HOST, "conf-room-1@example.com", id="host-credentials-only"),
        pytest.param({}, DEFAULT, None, id="nothing-set"),
        pytest.param(
            {"EMS": "", **MOBILE_CREDS, **HOST_CREDS, **DOMAIN},
            HOST,
            "conf-room-1@example.com",
            id="ems-empty-with-stale-mobile-credentials",
        ),
        pytest.param(
            {"EMS": "host", **MOBILE_CREDS, **HOST_CREDS, **DOMAIN},
            HOST,
            "conf-room-1@example.com",
            id="ems-host-with-stale-mobile-credentials",
        ),
        pytest.param(
            {"EMS": "host", **MOBILE_CREDS, **DOMAIN}, DEFAULT, None, id="ems-host-no-host-credentials"
        ),
        pytest.param(
            {"EMS": "mobile", "MUID": "alice", "MPWD": "", **DOMAIN},
            DEFAULT,
            None,
            id="mobile-state-empty-password-no-host",
        ),
        pytest.param(
            {"EMS": "MOBILE", **MOBILE_CREDS, **HOST_CREDS, **DOMAIN},
            HOST,
            "conf-room-1@example.com",
            id="string-comparison-is-case-sensitive",
        ),
        pytest.param(
            {"PUID": "conf-room-1", "PPWD": "", **DOMAIN}, DEFAULT, None, id="host-user-without-password"
        ),
    ],
)
def test_each_phone_state_fetches_the_right_profile(
    state: dict[str, str], expected_url: str, expected_uid: str | None
) -> None:
    result = evaluate(SEED_RULE, state)
    assert result.url == expected_url
    assert result.options.uid == expected_uid
    assert result.errors == ()


def test_flat_profile_names_are_the_same_state_as_macro_names() -> None:
    flat = {
        "EM_Login_State": "mobile",
        "EM_Mobile_User_ID": "alice",
        "EM_Mobile_Password": "1234",
        "EM_User_Domain": "@example.com",
    }
    by_macro = {"EMS": "mobile", "MUID": "alice", "MPWD": "1234", "PDOM": "@example.com"}
    assert evaluate(SEED_RULE, flat) == evaluate(SEED_RULE, by_macro)
    assert evaluate(SEED_RULE, flat).options.uid == "alice@example.com"


def test_trace_shows_why_the_host_profile_was_chosen() -> None:
    result = evaluate(SEED_RULE, {"EMS": "host", **MOBILE_CREDS, **HOST_CREDS, **DOMAIN}, trace=True)
    assert result.trace is not None
    first, second = result.trace
    assert not first.matched
    assert (first.comparisons[0].left, first.comparisons[0].right) == ("host", "mobile")
    assert first.comparisons[0].result is False
    assert second.matched and all(c.result for c in second.comparisons)
    assert result.alternative == 1


def test_parsed_rule_and_text_give_the_same_answer() -> None:
    state = {"EMS": "mobile", **MOBILE_CREDS, **DOMAIN}
    assert evaluate(parse(SEED_RULE), state) == evaluate(SEED_RULE, state)

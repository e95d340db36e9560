"""DigestAuthenticator decisions, with an injected clock (no sleeping)."""

from __future__ import annotations

import logging

import pytest

from spaprov.auth import DigestAuthenticator, Verdict
from spaprov.clock import ManualClock
from tests.helpers.auth import REALM, SECRET
from tests.helpers.digest_client import authorization, parse_challenge

URI = "/mobilephone.cfg"
CLIENT = "192.0.2.10"


def fresh(auth: DigestAuthenticator, algorithm: str = "SHA-256") -> dict[str, str]:
    challenges = [parse_challenge(c) for c in auth.challenges()]
    return next(c for c in challenges if c["algorithm"] == algorithm)


def attempt(
    auth: DigestAuthenticator, header: str, *, uri: str = URI, method: str = "GET", client: str = CLIENT
) -> Verdict:
    return auth.authenticate(method, uri, header, client).verdict


def test_challenges_offer_sha256_then_md5_with_one_nonce(authenticator: DigestAuthenticator) -> None:
    first, second = (parse_challenge(c) for c in authenticator.challenges())
    assert (first["algorithm"], second["algorithm"]) == ("SHA-256", "MD5")
    assert first["nonce"] == second["nonce"] and first["qop"] == "auth" and first["realm"] == REALM
    assert "stale" not in first


def test_right_password_with_each_algorithm(authenticator: DigestAuthenticator) -> None:
    for algorithm in ("SHA-256", "MD5", "md5", "sha-256"):
        challenge = fresh(authenticator)
        result = authenticator.authenticate(
            "GET", URI, authorization(challenge, "alice@example.com", "1234", algorithm=algorithm), CLIENT
        )
        assert result.verdict is Verdict.OK and result.identity == "alice@example.com", algorithm


def test_wrong_password_and_unknown_user_look_the_same(authenticator: DigestAuthenticator) -> None:
    wrong = authenticator.authenticate(
        "GET", URI, authorization(fresh(authenticator), "alice@example.com", "x"), CLIENT
    )
    unknown = authenticator.authenticate(
        "GET", URI, authorization(fresh(authenticator), "eve@example.com", "x"), CLIENT
    )
    assert wrong.verdict is unknown.verdict is Verdict.CHALLENGE
    assert not wrong.stale and not unknown.stale


def test_no_header_is_challenged(authenticator: DigestAuthenticator) -> None:
    assert authenticator.authenticate("GET", URI, None, CLIENT).verdict is Verdict.CHALLENGE


def test_replayed_authorization_is_refused(authenticator: DigestAuthenticator) -> None:
    header = authorization(fresh(authenticator), "alice@example.com", "1234")
    assert attempt(authenticator, header) is Verdict.OK
    result = authenticator.authenticate("GET", URI, header, CLIENT)
    assert result.verdict is Verdict.CHALLENGE and not result.stale
    assert result.reason == "replayed nonce count"


def test_nonce_count_must_increase(authenticator: DigestAuthenticator) -> None:
    challenge = fresh(authenticator)
    assert attempt(authenticator, authorization(challenge, "alice@example.com", "1234", nc=1)) is Verdict.OK
    assert (
        attempt(authenticator, authorization(challenge, "alice@example.com", "1234", nc=2, cnonce="b"))
        is Verdict.OK
    )
    backwards = authorization(challenge, "alice@example.com", "1234", nc=1, cnonce="c")
    assert attempt(authenticator, backwards) is Verdict.CHALLENGE
    assert (
        attempt(authenticator, authorization(challenge, "alice@example.com", "1234", nc=7, cnonce="d"))
        is Verdict.OK
    )


def test_expired_nonce_with_right_password_is_stale(
    authenticator: DigestAuthenticator, clock: ManualClock
) -> None:
    challenge = fresh(authenticator)
    clock.advance(301)
    result = authenticator.authenticate(
        "GET", URI, authorization(challenge, "alice@example.com", "1234"), CLIENT
    )
    assert result.verdict is Verdict.CHALLENGE and result.stale
    wrong = authenticator.authenticate(
        "GET", URI, authorization(challenge, "alice@example.com", "nope"), CLIENT
    )
    assert wrong.verdict is Verdict.CHALLENGE and not wrong.stale


def test_stale_challenge_carries_stale_true(authenticator: DigestAuthenticator) -> None:
    assert all("stale=true" in c for c in authenticator.challenges(stale=True))


def test_forged_nonce_is_a_plain_challenge(authenticator: DigestAuthenticator) -> None:
    challenge = fresh(authenticator)
    for forged in ("bm90LW91ci1ub25jZQ==", challenge["nonce"][:-4] + "AAAA", "%%%", ""):
        result = authenticator.authenticate(
            "GET", URI, authorization(challenge, "alice@example.com", "1234", nonce=forged), CLIENT
        )
        assert result.verdict is Verdict.CHALLENGE and not result.stale, forged
        assert result.reason == "nonce not issued by this server"


def test_nonce_from_another_secret_is_forged(store: object, clock: ManualClock) -> None:
    ours = DigestAuthenticator(REALM, store, SECRET, clock=clock)  # type: ignore[arg-type]
    theirs = DigestAuthenticator(REALM, store, b"another-secret-of-32-bytes......", clock=clock)  # type: ignore[arg-type]
    header = authorization(fresh(theirs), "alice@example.com", "1234", opaque=fresh(ours)["opaque"])
    assert ours.authenticate("GET", URI, header, CLIENT).reason == "nonce not issued by this server"


def test_any_worker_with_the_same_secret_accepts_the_nonce(store: object, clock: ManualClock) -> None:
    first = DigestAuthenticator(REALM, store, SECRET, clock=clock)  # type: ignore[arg-type]
    second = DigestAuthenticator(REALM, store, SECRET, clock=clock)  # type: ignore[arg-type]
    assert (
        second.authenticate(
            "GET", URI, authorization(fresh(first), "alice@example.com", "1234"), CLIENT
        ).verdict
        is Verdict.OK
    )


def test_uri_and_method_are_bound(authenticator: DigestAuthenticator) -> None:
    header = authorization(fresh(authenticator), "alice@example.com", "1234", uri="/hostphone.cfg")
    assert (
        authenticator.authenticate("GET", URI, header, CLIENT).reason
        == "uri does not match the request target"
    )
    query = authorization(fresh(authenticator), "alice@example.com", "1234", uri=URI + "?x=1")
    assert attempt(authenticator, query, uri=URI) is Verdict.CHALLENGE
    assert (
        attempt(
            authenticator,
            authorization(fresh(authenticator), "alice@example.com", "1234", uri=URI + "?x=1"),
            uri=URI + "?x=1",
        )
        is Verdict.OK
    )
    post = authorization(fresh(authenticator), "alice@example.com", "1234", method="POST")
    assert attempt(authenticator, post, method="GET") is Verdict.CHALLENGE


def test_wrong_realm_algorithm_qop_and_opaque(authenticator: DigestAuthenticator) -> None:
    clients = iter(f"192.0.2.{n}" for n in range(100, 200))  # keep clear of the lockout

    def reason(**kwargs: object) -> str:
        header = authorization(fresh(authenticator), "alice@example.com", "1234", **kwargs)  # type: ignore[arg-type]
        return authenticator.authenticate("GET", URI, header, next(clients)).reason

    assert reason(realm="other") == "wrong realm"
    assert reason(algorithm="SHA-512-256") == "algorithm 'SHA-512-256' not offered"
    assert reason(algorithm="MD5-sess") == "algorithm 'MD5-sess' not offered"
    assert reason(qop="auth-int") == "qop 'auth-int' not offered"
    assert reason(opaque="not-ours") == "wrong opaque"
    assert reason(qop=None) == "RFC 2069 response (no qop) not enabled"


def test_rfc2069_responses_when_the_site_enables_them(store: object, clock: ManualClock) -> None:
    auth = DigestAuthenticator(REALM, store, SECRET, clock=clock, allow_rfc2069=True)  # type: ignore[arg-type]
    challenge = fresh(auth, "MD5")
    header = authorization(challenge, "alice@example.com", "1234", qop=None)
    assert attempt(auth, header) is Verdict.OK
    again = auth.authenticate("GET", URI, header, CLIENT)  # no nc: a legacy nonce serves once
    assert again.verdict is Verdict.CHALLENGE and again.stale


def test_sha256_only_site_refuses_md5(store: object, clock: ManualClock) -> None:
    auth = DigestAuthenticator(REALM, store, SECRET, clock=clock, algorithms=("SHA-256",))  # type: ignore[arg-type]
    assert len(auth.challenges()) == 1
    header = authorization(fresh(auth), "alice@example.com", "1234", algorithm="MD5")
    assert attempt(auth, header) is Verdict.CHALLENGE


def test_lockout_after_five_failures_then_recovery(
    authenticator: DigestAuthenticator, clock: ManualClock
) -> None:
    for _ in range(4):
        assert (
            attempt(authenticator, authorization(fresh(authenticator), "alice@example.com", "bad"))
            is Verdict.CHALLENGE
        )
    assert (
        attempt(authenticator, authorization(fresh(authenticator), "alice@example.com", "bad"))
        is Verdict.CHALLENGE
    )
    locked = authenticator.authenticate(
        "GET", URI, authorization(fresh(authenticator), "alice@example.com", "1234"), CLIENT
    )
    assert locked.verdict is Verdict.LOCKED and locked.retry_after == 300
    # Another client address is not locked out, nor is another user from this one.
    assert (
        attempt(
            authenticator,
            authorization(fresh(authenticator), "alice@example.com", "1234"),
            client="192.0.2.99",
        )
        is Verdict.OK
    )
    assert (
        attempt(authenticator, authorization(fresh(authenticator), "bob@example.com", "5678")) is Verdict.OK
    )
    clock.advance(120)
    probe = authorization(fresh(authenticator), "alice@example.com", "1234")
    assert authenticator.authenticate("GET", URI, probe, CLIENT).retry_after == 180
    clock.advance(181)
    assert (
        attempt(authenticator, authorization(fresh(authenticator), "alice@example.com", "1234")) is Verdict.OK
    )


def test_failures_outside_the_window_do_not_add_up(
    authenticator: DigestAuthenticator, clock: ManualClock
) -> None:
    for _ in range(4):
        attempt(authenticator, authorization(fresh(authenticator), "alice@example.com", "bad"))
    clock.advance(301)
    attempt(authenticator, authorization(fresh(authenticator), "alice@example.com", "bad"))
    assert (
        attempt(authenticator, authorization(fresh(authenticator), "alice@example.com", "1234")) is Verdict.OK
    )


def test_unknown_users_are_locked_out_the_same_way(authenticator: DigestAuthenticator) -> None:
    for _ in range(5):
        attempt(authenticator, authorization(fresh(authenticator), "eve@example.com", "guess"))
    assert (
        authenticator.authenticate(
            "GET", URI, authorization(fresh(authenticator), "eve@example.com", "x"), CLIENT
        ).retry_after
        == 300
    )


def test_failures_are_logged_without_secrets(
    authenticator: DigestAuthenticator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="spaprov.auth"):
        header = authorization(fresh(authenticator), "alice@example.com", "s3cr3t-guess")
        attempt(authenticator, header)
    text = caplog.text
    assert "alice@example.com" in text and "wrong password" in text
    assert "s3cr3t-guess" not in text and 'response="' not in text


def test_replay_table_stays_bounded_and_fails_safe(store: object, clock: ManualClock) -> None:
    from spaprov.auth.replay import ReplayGuard, ReplayVerdict

    guard = ReplayGuard(clock, lifetime=300, capacity=3)
    for index in range(5):
        assert guard.admit(f"n{index}", clock(), 1) == ReplayVerdict.FRESH
        clock.advance(1)
    assert len(guard) == 3
    # n0 and n1 were dropped while still live: using them again must not pass unchecked.
    assert guard.admit("n0", clock() - 5, 2) == ReplayVerdict.FORGOTTEN
    assert guard.admit("n4", clock() - 1, 1) == ReplayVerdict.REPLAYED
    clock.advance(400)
    assert guard.admit("new", clock(), 1) == ReplayVerdict.FRESH
    assert len(guard) == 1

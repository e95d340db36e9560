"""Workers of one server start a moment apart.  A nonce the first worker issued before the second
started is not stale there: the second takes the server's start (not its own) as the point before
which it knows no nonce.  A single process still treats every nonce from before it as stale."""

from __future__ import annotations

from spaprov.auth import CredentialStore, DigestAuthenticator, Verdict
from spaprov.clock import ManualClock
from tests.helpers.auth import REALM, SECRET
from tests.helpers.digest_client import authorization, parse_challenge

PATH = "/mobilephone.cfg"


def _answer(issuer: DigestAuthenticator) -> str:
    return authorization(parse_challenge(issuer.challenges()[0]), "alice@example.com", "1234", uri=PATH)


def test_a_worker_started_later_accepts_a_nonce_issued_after_the_server_started(
    store: CredentialStore,
) -> None:
    clock = ManualClock()
    server_started = clock()
    first = DigestAuthenticator(REALM, store, SECRET, clock=clock, replay_since=server_started)
    clock.advance(1)
    header = _answer(first)  # issued by the first worker before the second exists
    clock.advance(1)
    second = DigestAuthenticator(REALM, store, SECRET, clock=clock, replay_since=server_started)
    assert second.authenticate("GET", PATH, header, "127.0.0.1").verdict is Verdict.OK


def test_a_lone_process_treats_nonces_from_before_it_started_as_stale(store: CredentialStore) -> None:
    clock = ManualClock()
    earlier = DigestAuthenticator(REALM, store, SECRET, clock=clock)
    header = _answer(earlier)
    clock.advance(1)
    restarted = DigestAuthenticator(REALM, store, SECRET, clock=clock)
    result = restarted.authenticate("GET", PATH, header, "127.0.0.1")
    assert result.verdict is Verdict.CHALLENGE and result.stale

"""Digest verification speed: verifications per second (MD5, SHA-256) and the cost of a challenge.

Run from the repository root: `python bench/digest.py`.  The baseline, measured in the same run,
is the bare hashing a verifier cannot avoid (HA2 and the response) — the ratio is spaprov's
overhead for parsing, nonce HMAC, replay and lockout bookkeeping.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.digest_client import authorization, parse_challenge
from spaprov.auth import CredentialStore, DigestAuthenticator, Verdict
from spaprov.clock import ManualClock

COUNT = 60_000
ROUNDS = 3


def timed(action: object, items: list[str]) -> float:
    started = time.perf_counter()
    for item in items:
        action(item)  # type: ignore[operator]
    return len(items) / (time.perf_counter() - started)


def headers_for(auth: DigestAuthenticator, algorithm: str, *, fresh_nonces: bool) -> list[str]:
    """COUNT valid Authorization headers: each on its own nonce (a boot storm: every phone is
    challenged once) or all on one nonce with nc counting up (a client reusing its nonce)."""

    def challenge() -> dict[str, str]:
        return next(parse_challenge(c) for c in auth.challenges() if f"algorithm={algorithm}" in c)

    shared = challenge()
    return [
        authorization(
            challenge() if fresh_nonces else shared,
            "alice@example.com",
            "1234",
            nc=1 if fresh_nonces else n,
            algorithm=algorithm,
        )
        for n in range(1, COUNT + 1)
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = CredentialStore(Path(directory) / "credentials.htdigest", "bench")
        store.set_password("alice@example.com", "1234")
        clock = ManualClock()
        print(
            f"python {sys.version.split()[0]}, one core, {COUNT:,} verifications per round, best of {ROUNDS}"
        )
        for algorithm in ("MD5", "SHA-256"):
            name = "md5" if algorithm == "MD5" else "sha256"
            for fresh in (True, False):
                rates, baselines = [], []
                for _ in range(ROUNDS):
                    auth = DigestAuthenticator("bench", store, b"s" * 32, clock=clock, max_failures=10**9)
                    headers = headers_for(auth, algorithm, fresh_nonces=fresh)
                    assert auth.authenticate("GET", "/mobilephone.cfg", headers[0], "c").verdict is Verdict.OK
                    rates.append(
                        timed(
                            lambda h, a=auth: a.authenticate("GET", "/mobilephone.cfg", h, "c"), headers[1:]
                        )
                    )
                    baselines.append(
                        timed(
                            lambda h, n=name: hashlib.new(
                                n, (hashlib.new(n, b"GET:/mobilephone.cfg").hexdigest() + h[-90:]).encode()
                            ).hexdigest(),
                            headers,
                        )
                    )
                case = "new nonce each" if fresh else "nonce reused, nc+1"
                print(
                    f"{algorithm:8} {case:19} verifications/s {max(rates):9,.0f}   "
                    f"bare hashing {max(baselines):9,.0f}/s (ratio {max(rates) / max(baselines):.2f})"
                )
        auth = DigestAuthenticator("bench", store, b"s" * 32, clock=clock)
        started = time.perf_counter()
        for _ in range(COUNT):
            auth.challenges()
        print(f"challenge (2 headers, one nonce): {(time.perf_counter() - started) / COUNT * 1e6:.1f} µs")


if __name__ == "__main__":
    main()

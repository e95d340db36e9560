"""Rule-language speed: uncached parse time and evaluations per second.

Run from the repository root: `python bench/rules.py`.  Prints figures for the seed rule of
extension mobility and the longest corpus rule, and a hand-written Python equivalent of the seed
rule measured in the same run as the baseline (machines here are noisy: compare ratios).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaprov.rules import caches, evaluate, parse

# The seed rule of extension mobility, and the longest rule of the reference corpus (#26); the
# same texts as tests/helpers/rule_corpus.py, copied: bench does not import tests.
SEED_RULE = (
    '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "") ? '
    "[--uid $MUID$PDOM --pwd $MPWD] http://domain.com/mobilephone.cfg | "
    '("$PUID" ne "" and "$PPWD" ne "") ? '
    "[--uid $PUID$PDOM --pwd $PPWD] http://domain.com/hostphone.cfg | http://domain.com/default.cfg"
)
LONGEST_NUMBER, LONGEST = (
    26,
    (
        '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "")?[--uid $MUID$PDOM --pwd $MPWD] '
        "http://10.74.121.51:80/dms/CP-8851-3PCC/8851System.xml|"
        "http://10.74.121.51:80/dms/CP-8851-3PCC/8851System.xml"
    ),
)

MOBILE_STATE = {
    "EMS": "mobile",
    "MUID": "alice",
    "MPWD": "1234",
    "PUID": "conf-room-1",
    "PPWD": "host-secret",
    "PDOM": "@example.com",
}


def best_rate(action: Callable[[], object], *, seconds: float = 1.0, rounds: int = 5) -> float:
    """Calls per second: the best of `rounds` timed runs (the least disturbed by other load)."""
    batch = 1
    while True:  # size a batch to take ~seconds/rounds
        started = time.perf_counter()
        for _ in range(batch):
            action()
        if (elapsed := time.perf_counter() - started) > seconds / rounds / 4:
            break
        batch *= 4
    batch = max(1, int(batch * (seconds / rounds) / elapsed))
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(batch):
            action()
        rates.append(batch / (time.perf_counter() - started))
    return max(rates)


def parse_cold(text: str, kind: str) -> None:
    caches.clear(caches.TEMPLATES, caches.NUMBERS)
    parse(text, kind)


def hand_written_seed(state: dict[str, str]) -> tuple[str, str | None]:
    """The seed rule written directly in Python: what evaluation costs with no interpreter."""
    if state.get("EMS", "") == "mobile" and state.get("MUID", "") != "" and state.get("MPWD", "") != "":
        return "http://domain.com/mobilephone.cfg", state["MUID"] + state.get("PDOM", "")
    if state.get("PUID", "") != "" and state.get("PPWD", "") != "":
        return "http://domain.com/hostphone.cfg", state["PUID"] + state.get("PDOM", "")
    return "http://domain.com/default.cfg", None


def main() -> None:
    print(f"python {sys.version.split()[0]}, one core")
    baseline = best_rate(lambda: hand_written_seed(MOBILE_STATE))
    print(f"baseline: hand-written seed rule       {baseline:12,.0f} /s")
    for label, text, kind in (
        ("seed rule", SEED_RULE, "profile"),
        (f"longest corpus rule (#{LONGEST_NUMBER}, {len(LONGEST)} chars)", LONGEST, "profile"),
    ):
        parsed = parse(text, kind)
        cold = best_rate(lambda t=text, k=kind: parse_cold(t, k))  # type: ignore[misc]
        warm = best_rate(lambda t=text, k=kind: parse(t, k))  # type: ignore[misc]
        evals = best_rate(lambda r=parsed: evaluate(r, MOBILE_STATE))  # type: ignore[misc]
        by_text = best_rate(lambda t=text, k=kind: evaluate(t, MOBILE_STATE, kind=k))  # type: ignore[misc]
        traced = best_rate(lambda r=parsed: evaluate(r, MOBILE_STATE, trace=True))  # type: ignore[misc]
        print(f"{label}:")
        print(f"  parse, no caches                   {1e3 / cold:10.3f} ms")
        print(f"  parse, macro-template cache warm   {1e3 / warm:10.3f} ms")
        ratio = baseline / evals
        print(f"  evaluate(parsed rule)              {evals:12,.0f} /s   ({ratio:.1f}x the baseline's cost)")
        print(f"  evaluate(rule text, cached parse)  {by_text:12,.0f} /s")
        print(f"  evaluate with trace                {traced:12,.0f} /s")
    samples = [1e3 / best_rate(lambda: parse_cold(SEED_RULE, "profile"), seconds=0.3) for _ in range(3)]
    print(
        f"seed parse repeat spread: {min(samples):.3f}..{max(samples):.3f} ms (median "
        f"{statistics.median(samples):.3f})"
    )


if __name__ == "__main__":
    main()

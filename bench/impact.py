"""Rule impact preview speed: 100,000 generated phone states, the seed rule against an edited
one (the mobile path moved), grouped as spaprov.rules.impact does.

Run from the repository root: `python bench/impact.py`.  Prints the phones per second, the time
for the 100,000 states (best of 3), how many groups were evaluated, and one plain evaluation
rate (evaluate() per state, no grouping) for comparison.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaprov.rules import parse
from spaprov.rules.impact import impact, outcome

SEED = (
    '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "") ? '
    "[--uid $MUID$PDOM --pwd $MPWD] http://prov.example.com/mobilephone.cfg | "
    '("$PUID" ne "" and "$PPWD" ne "") ? '
    "[--uid $PUID$PDOM --pwd $PPWD] http://prov.example.com/hostphone.cfg | "
    "http://prov.example.com/default.cfg"
)
EDITED = SEED.replace("/mobilephone.cfg", "/em/mobile.cfg")
PHONES = 100_000


def states(count: int) -> list[tuple[str, dict[str, str]]]:
    """A site like the sample, scaled: every phone has its own host user; 40% have someone
    logged in, each a different user; 5% have no host user at all."""
    chooser = random.Random(2026)
    result = []
    for n in range(count):
        mac = f"{0x0011_2200_0000 + n:012x}"
        user = f"user{n}" if chooser.random() < 0.4 else ""
        host = f"desk-{n}" if chooser.random() >= 0.05 else ""
        result.append(
            (
                mac,
                {
                    "MA": mac,
                    "MAU": mac.upper(),
                    "PN": "SPA525G2",
                    "PDOM": "@example.com",
                    "EMS": "mobile" if user else "host",
                    "MUID": user,
                    "MPWD": "(set)" if user else "",
                    "PUID": host,
                    "PPWD": "(set)" if host else "",
                },
            )
        )
    return result


def main() -> None:
    phones = states(PHONES)
    old, new = parse(SEED), parse(EDITED)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = impact(old, new, phones)
        best = min(best, time.perf_counter() - started)
    sample = phones[:20_000]
    started = time.perf_counter()
    for _, state in sample:
        outcome(old, state)
    plain = len(sample) / (time.perf_counter() - started)
    print(f"python {sys.version.split()[0]}, one core")
    print(f"impact preview, {PHONES:,} phone states:  {best:.3f} s  ({PHONES / best:,.0f} phones/s)")
    print(f"  groups evaluated (x2 rules):       {result.groups}")
    print(f"  phones that change:                {result.changed:,}")
    print(f"plain evaluation, no grouping:       {plain:,.0f} evaluations/s")


if __name__ == "__main__":
    main()

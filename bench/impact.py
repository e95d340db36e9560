"""Rule impact preview speed: 100,000 generated phone states, the seed rule against an edited
one (the mobile path moved), grouped as spaprov.rules.impact does; once with plain URLs and
once with `?mac=$MA` on every URL (as the sample site's rule has), where each phone's URL
differs.

Run from the repository root: `python bench/impact.py`.  Prints, for each, the time for the
100,000 states (best of 3) and phones per second, how many groups were evaluated, and one plain
evaluation rate (one evaluate() per state, no grouping) for comparison.
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
WITH_MAC = SEED.replace(".cfg", ".cfg?mac=$MA")
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
                    "MAC": ":".join(mac[i : i + 2] for i in range(0, 12, 2)),
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
    print(f"python {sys.version.split()[0]}, one core, {PHONES:,} phone states, best of 3")
    for label, rule in (("plain URLs", SEED), ("URLs with ?mac=$MA", WITH_MAC)):
        old, new = parse(rule), parse(rule.replace("/mobilephone.cfg", "/em/mobile.cfg"))
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            result = impact(old, new, phones)
            best = min(best, time.perf_counter() - started)
        print(f"impact preview, {label + ':':<20} {best:.3f} s  ({PHONES / best:,.0f} phones/s)")
        print(f"  groups evaluated (x2 rules): {result.groups}; phones that change: {result.changed:,}")
    sample = phones[:20_000]
    old = parse(WITH_MAC)
    started = time.perf_counter()
    for _, state in sample:
        outcome(old, state)
    plain = len(sample) / (time.perf_counter() - started)
    print(f"plain evaluation, no grouping:  {plain:,.0f} evaluations/s")


if __name__ == "__main__":
    main()

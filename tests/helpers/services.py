"""The services a plain machine may lack (PostgreSQL, Chromium), as skip reasons name them: the
conftest's end-of-run summary counts what did not run for want of each."""

from __future__ import annotations

# What a plain machine lacks, recognised in skip reasons; `make test-all` provides both.
_MISSING = {"PostgreSQL": ("SPAPROV_TEST_POSTGRES", "pg_ctlcluster"), "Chromium": ("chromium",)}
RUN_EVERYTHING = "make test-all"


def skipped_for_missing_services(reasons: list[str]) -> dict[str, int]:
    """How many skips each missing service caused (PostgreSQL, Chromium), from the skip reasons."""
    counts: dict[str, int] = {}
    for reason in reasons:
        for service, words in _MISSING.items():
            if any(word.lower() in reason.lower() for word in words):
                counts[service] = counts.get(service, 0) + 1
                break
    return counts

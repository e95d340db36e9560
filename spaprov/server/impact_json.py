"""The JSON answer of POST /api/v1/rules/impact: totals, the phones counted by transition (old
URL and kind → new URL and kind), and the first `limit` phones that change."""

from __future__ import annotations

from collections import Counter
from typing import Any

from spaprov.rules.impact import Impact, Outcome


def impact_document(result: Impact, limit: int) -> dict[str, Any]:
    transitions: Counter[tuple[Outcome, Outcome]] = Counter((phone.old, phone.new) for phone in result.phones)
    changed = [phone for phone in result.phones if phone.changed]
    return {
        "devices": len(result.phones),
        "changed": len(changed),
        "groups": result.groups,
        "transitions": [
            {"old": _outcome(old), "new": _outcome(new), "devices": count, "changed": old != new}
            for (old, new), count in sorted(transitions.items(), key=lambda item: (-item[1], str(item[0])))
        ],
        "items": [
            {"mac": phone.key, "old": _outcome(phone.old), "new": _outcome(phone.new)}
            for phone in changed[:limit]
        ],
    }


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {"url": outcome.url, "kind": outcome.kind, "error": outcome.error}

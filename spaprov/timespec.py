"""A point in time as an administrator types it: ISO date/time, or an age (30m, 8h, 2d)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RELATIVE = re.compile(r"([0-9]+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float) -> float:
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return now - int(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: use an ISO date/time or an age such as 30m, 8h, 2d") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

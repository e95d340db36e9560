"""site.toml with a new `[site] profile_rule`, and nothing else changed (tomlkit keeps the
administrator's comments and layout)."""

from __future__ import annotations

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table


def site_rule_bytes(existing: bytes, rule: str) -> bytes:
    """`existing` (site.toml's bytes) with profile_rule set to `rule`; ValueError when the file
    is not TOML or has no [site] table (the directory could not be loaded either)."""
    try:
        document = tomlkit.parse(existing.decode("utf-8"))
    except (UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as error:
        raise ValueError(f"site.toml is not readable TOML: {error}") from None
    site = document.get("site")
    if not isinstance(site, Table):
        raise ValueError("site.toml has no [site] table")
    site["profile_rule"] = rule
    return tomlkit.dumps(document).encode("utf-8")

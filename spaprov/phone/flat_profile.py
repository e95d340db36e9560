"""Parse an XML flat profile the way SPA firmware does (Linksys SPA Provisioning Guide v3.0 p.28,
v3.01 Example 2-2).

The `<flat-profile>` element may sit inside other elements; each child element's tag names a
parameter; values are trimmed and inner newlines become spaces; when a parameter occurs twice the
last one wins; attributes (ua=, group=) are ignored.  Which parameters the phone knows, and that
absent ones stay unchanged, is the parameter table's business (spaprov.phone.parameters).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

MAX_PROFILE_BYTES = 1024 * 1024
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


class ProfileFormatError(ValueError):
    """A body that is not an XML flat profile (a corrupt profile: the resync fails)."""


def parse_flat_profile(body: bytes) -> dict[str, str]:
    if len(body) > MAX_PROFILE_BYTES:
        raise ProfileFormatError(f"profile larger than {MAX_PROFILE_BYTES} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:  # no entity expansion from a server
        raise ProfileFormatError("DOCTYPE and ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise ProfileFormatError(f"not well-formed XML: {error}") from None
    profile = (
        root
        if _local(root.tag) == "flat-profile"
        else next((element for element in root.iter() if _local(element.tag) == "flat-profile"), None)
    )
    if profile is None:
        raise ProfileFormatError("no <flat-profile> element")
    values: dict[str, str] = {}
    for child in profile:
        name = _local(child.tag)
        values.pop(name, None)  # last occurrence wins (and moves to the end)
        values[name] = _NEWLINES.sub(" ", child.text or "").strip()
    return values


def _local(tag: str) -> str:
    """`{http://www.sipura.net/xsd/SPA50x-30x-SIP}Profile_Rule` → `Profile_Rule`."""
    return tag.rsplit("}", 1)[-1]

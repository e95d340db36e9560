"""The SPA5x5 models spaprov provisions, with their programmable line-key counts.

Source for the counts: wazo-platform/wazo-doc, source/ecosystem/community_devices.rst, table
"Cisco Small Business SPA500 series" (SPA501G 8, SPA502G 1, SPA504G 4, SPA508G 8, SPA509G 12,
SPA525G 5, SPA525G2 5), which also notes that on SPA phones function keys share the line keys.
The SPA501G has no display (Cisco SPA501G data sheet), so display-only parameters are left out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhoneModel:
    name: str
    line_keys: int
    has_display: bool = True


MODELS: dict[str, PhoneModel] = {
    model.name: model
    for model in (
        PhoneModel("SPA501G", 8, has_display=False),
        PhoneModel("SPA502G", 1),
        PhoneModel("SPA504G", 4),
        PhoneModel("SPA508G", 8),
        PhoneModel("SPA509G", 12),
        PhoneModel("SPA525G", 5),
        PhoneModel("SPA525G2", 5),
    )
}
MAX_LINE_KEYS = max(model.line_keys for model in MODELS.values())

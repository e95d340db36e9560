"""The SPA5x5 models spaprov provisions: what each one's flat profile can carry.

Sources (tags as in the shared reference, spa-provisioning.md):
- Line keys: wazo-platform/wazo-doc, community_devices.rst, "Cisco Small Business SPA500 series"
  (SPA501G 8, SPA502G 1, SPA504G 4, SPA508G 8, SPA509G 12, SPA525G 5, SPA525G2 5; on SPA phones
  function keys share the line keys).  SPA512G and SPA514G are the gigabit SPA502G and SPA504G:
  [WAZO] common.py `_NB_FKEY` gives them the same function-key counts as those (SPA512G 0 like
  SPA502G, whose one key is line 1; SPA514G 4), and [FUSION]'s spa512g/spa514g templates carry
  1 and 4 extensions (`Line_Enable_n_`).  Each line key n is extension n (`Extension_n_` = n).
- Display: the SPA501G has none (Cisco SPA501G data sheet), so display-only parameters are left out.
- Speed dials: `Speed_Dial_2`..`Speed_Dial_9` (no `_n_` suffix) are in [FUSION]'s templates of
  every model but the SPA525G2, whose 7.x export has no speed-dial group at all ([FUSION]
  spa525g2/{$mac}.xml: User/ holds Audio_Volume, Call_Forward, Camera_Profile_n, Screen,
  Supplementary_Services, Web_Information_Service_Settings).  On a model without them a speed
  dial is put on a free key instead (spaprov.profiles.layout).
- Attendant consoles (SPA500S, 32 keys; SPA500DS): `Unit_1_Key_1`..`Unit_2_Key_32`, 2 units of
  32 keys, no trailing underscore ([WAZO] xivo-cisco-spa spa.xml clears exactly these; [FUSION]
  spa525g2 export lists them under Att_Console/Unit_1, Unit_2).  Which models take one: the
  SPA504G, SPA508G, SPA509G, SPA525G and SPA525G2 (Cisco's SPA500S documentation), and the
  SPA514G, for which [WAZO] `_NB_FKEY` gives 2 expansion modules (UNCONFIRMED by a Cisco
  document).  [WAZO] also lists 2 for the SPA501G, SPA502G and SPA512G; spaprov does not put
  keys there (UNCONFIRMED either way), so a profile that needs them is warned about instead.
"""

from __future__ import annotations

from dataclasses import dataclass

SIDECAR_KEYS = 32  # keys per attendant-console unit: Unit_u_Key_1 .. Unit_u_Key_32
SPEED_DIAL_SLOTS = range(2, 10)  # Speed_Dial_2 .. Speed_Dial_9


@dataclass(frozen=True)
class PhoneModel:
    name: str
    line_keys: int
    has_display: bool = True
    speed_dials: bool = True  # whether the firmware has Speed_Dial_2 .. Speed_Dial_9
    sidecar_units: int = 0  # attendant consoles (SPA500S/SPA500DS) it takes

    @property
    def sidecar_keys(self) -> int:
        return self.sidecar_units * SIDECAR_KEYS

    @property
    def max_key(self) -> int:
        """The highest key number a profile may use on this model: its line keys, then the keys
        of its attendant consoles (key line_keys + 1 is Unit_1_Key_1, as [WAZO] numbers them)."""
        return self.line_keys + self.sidecar_keys


MODELS: dict[str, PhoneModel] = {
    model.name: model
    for model in (
        PhoneModel("SPA501G", 8, has_display=False),
        PhoneModel("SPA502G", 1),
        PhoneModel("SPA504G", 4, sidecar_units=2),
        PhoneModel("SPA508G", 8, sidecar_units=2),
        PhoneModel("SPA509G", 12, sidecar_units=2),
        PhoneModel("SPA512G", 1),
        PhoneModel("SPA514G", 4, sidecar_units=2),
        PhoneModel("SPA525G", 5, sidecar_units=2),
        PhoneModel("SPA525G2", 5, speed_dials=False, sidecar_units=2),
    )
}
MAX_LINE_KEYS = max(model.line_keys for model in MODELS.values())
# An EM profile is not tied to a model: its keys may reach as far as the largest phone's.
MAX_KEY = max(model.max_key for model in MODELS.values())

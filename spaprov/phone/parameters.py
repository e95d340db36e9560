"""The simulated phone's parameter table: factory defaults, and which names it knows.

Defaults from the reference's tables (section 3.1: [SIPURA]; [LSPG301] p.4-2; [LSPG30] p.41-43)
where it gives them; a parameter the simulator does not model is not in the table, so a profile
setting it is ignored, as the firmware ignores names it does not know."""

from __future__ import annotations

from spaprov.config.models import SIDECAR_KEYS, SPEED_DIAL_SLOTS, PhoneModel
from spaprov.rules.macros import GPP_LETTERS

_PER_LINE = (
    "Line_Enable",
    "Display_Name",
    "User_ID",
    "Password",
    "Use_Auth_ID",
    "Auth_ID",
    "Proxy",
    "Extension",
    "Short_Name",
    "Extended_Function",
)


def factory_defaults(model: PhoneModel, profile_rule: str) -> dict[str, str]:
    """What a factory-reset SPA5x5 of `model` holds, pointed at `profile_rule`."""
    values = {
        "Provision_Enable": "Yes",
        "Resync_On_Reset": "Yes",
        "Resync_Random_Delay": "2",
        "Resync_Periodic": "3600",
        "Resync_Error_Retry_Delay": "3600",
        "Resync_Fails_On_FNF": "Yes",
        "Resync_From_SIP": "Yes",
        "Resync_Trigger_1": "",
        "Resync_Trigger_2": "",
        "Profile_Rule": profile_rule,
        "Profile_Rule_B": "",
        "Profile_Rule_C": "",
        "Profile_Rule_D": "",
        "EM_Enable": "No",
        "EM_User_Domain": "",
        "EM_Login_State": "",
        "EM_Phone_User_ID": "",
        "EM_Phone_Password": "",
        "EM_Mobile_User_ID": "",
        "EM_Mobile_Password": "",
        "Station_Name": "",
        "Station_Display_Name": "",
        "Text_Logo": "",
        **{f"GPP_{letter}": "" for letter in GPP_LETTERS},
        **{f"GPP_S{letter}": "" for letter in "ABCD"},
    }
    if model.speed_dials:  # not on the SPA525G2 (spaprov.config.models cites why)
        values.update({f"Speed_Dial_{n}": "" for n in SPEED_DIAL_SLOTS})
    for unit in range(1, model.sidecar_units + 1):  # attendant consoles: Unit_u_Key_k, no trailing _
        values.update({f"Unit_{unit}_Key_{key}": "" for key in range(1, SIDECAR_KEYS + 1)})
    for n in range(1, model.line_keys + 1):
        for name in _PER_LINE:
            values[f"{name}_{n}_"] = ""
        values[f"Line_Enable_{n}_"] = "Yes" if n == 1 else "No"
        values[f"Use_Auth_ID_{n}_"] = "No"
        values[f"Extension_{n}_"] = str(n)
    if not model.has_display:
        del values["Text_Logo"]
    return values

"""CSV files for `spaprov import`, a generated site of many devices, and a site as TOML reads
it and as it loads (to compare a site before and after an export, import, backup or restore)."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

from spaprov.config import load_profile_directory

HEADER = ["id", "display_name", "em_profiles", "default_profile", "password"]  # users
DEVICE_HEADER = ["mac", "model", "station_name", "host_user", "em_enabled"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def parsed(site: Path) -> dict[str, Any]:
    """Every device's and user's file as TOML reads it, and the loaded documents."""
    files = {
        f"{kind}/{path.name}": tomllib.loads(path.read_text("utf-8"))
        for kind in ("devices", "users", "em_profiles")
        for path in sorted((site / kind).glob("*.toml"))
    }
    config = load_profile_directory(site)
    return {"files": files, "devices": dict(config.devices), "users": dict(config.users)}


def generated_site(site: Path, count: int) -> None:
    for n in range(count):
        mac = f"00aabb{n:06x}"
        (site / "devices" / f"{mac}.toml").write_text(
            f"# desk {n}\n"
            f'model = "SPA504G"\nstation_name = "Desk {n}"\nhost_user = "desk-{n}"\n'
            f'em_enabled = {"true" if n % 3 else "false"}\nhost_password = "hp-{n}"\n\n'
            f'[[lines]]\nnumber = 1\nuser_id = "{2000 + n}"\npassword = "sip-{n}"\n\n'
            f'[[speed_dials]]\nslot = 2\nname = "Reception"\nnumber = "1001"\n\n'
            f'[[line_keys]]\nkey = 3\nkind = "blf"\nname = "Boss"\ntarget = "1002"\n',
            encoding="utf-8",
        )

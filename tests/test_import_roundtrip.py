"""`spaprov export` then `spaprov import` changes nothing: the CSV carries the flat fields only,
and an import merges them into the existing documents (lines, speed dials, line keys,
host_password, … are kept); `--dry-run` reports what would change and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from spaprov.config import load_profile_directory
from tests.helpers.bulk import DEVICE_HEADER, generated_site, parsed, write_csv
from tests.helpers.cli import spaprov


def files_of(site: Path) -> dict[Path, bytes]:
    """Every file but the writer lock (which an import's validation takes)."""
    return {p: p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file() and p.name != ".spaprov.lock"}


def round_trip(site: Path, tmp_path: Path) -> list[str]:
    """Export and import back devices then users; the imports' reports."""
    reports = []
    for kind in ("devices", "users"):
        exported = spaprov("export", kind, "--profiles", str(site))
        assert exported.returncode == 0, exported.stderr
        csv_file = tmp_path / f"{kind}.csv"
        csv_file.write_text(exported.stdout, encoding="utf-8")
        done = spaprov("import", str(csv_file), "--profiles", str(site))
        assert done.returncode == 0, done.stderr
        reports.append(done.stdout)
    return reports


def test_export_then_import_keeps_the_sample(site: Path, tmp_path: Path) -> None:
    before = parsed(site)
    raw_before = {p: p.read_bytes() for p in sorted(site.rglob("*.toml"))}
    reports = round_trip(site, tmp_path)
    assert load_profile_directory(site).devices["001122334455"].content.lines  # the phone has its line
    assert parsed(site) == before
    assert {p: p.read_bytes() for p in sorted(site.rglob("*.toml"))} == raw_before  # not even rewritten
    assert "(0 created, 0 updated, 1 unchanged)" in reports[0]


@pytest.mark.slow
def test_export_then_import_keeps_a_1000_device_site(site: Path, tmp_path: Path) -> None:
    generated_site(site, 1000)
    before = parsed(site)
    reports = round_trip(site, tmp_path)
    assert parsed(site) == before
    assert "imported 1001 devices (0 created, 0 updated, 1001 unchanged)" in reports[0]


def test_a_csv_update_keeps_what_the_csv_does_not_carry(site: Path, tmp_path: Path) -> None:
    rows = [["001122334455", "SPA525G2", "Boardroom", "conf-room-1", "yes"]]
    done = spaprov("import", str(write_csv(tmp_path / "d.csv", rows, DEVICE_HEADER)), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    assert "0 created, 1 updated, 0 unchanged" in done.stdout
    device = load_profile_directory(site).devices["001122334455"]
    assert device.station_name == "Boardroom"
    assert [line.user_id for line in device.content.lines] == ["1000"]
    assert device.content.speed_dials and device.content.line_keys
    text = (site / "devices" / "001122334455.toml").read_text()
    assert text.startswith("# The conference-room phone.")  # the file's comment is kept


def test_a_user_update_keeps_fields_the_csv_does_not_carry(site: Path, tmp_path: Path) -> None:
    done = spaprov(
        "import",
        str(write_csv(tmp_path / "u.csv", [["alice", "Alice New"]], ["id", "display_name"])),
        "--profiles",
        str(site),
    )
    assert done.returncode == 0, done.stderr
    alice = load_profile_directory(site).users["alice"]
    assert (alice.display_name, alice.em_profiles, alice.default_profile) == (
        "Alice New",
        ("alice",),
        "alice",
    )


def test_dry_run_reports_and_writes_nothing(site: Path, tmp_path: Path) -> None:
    rows = [
        ["001122334455", "SPA525G2", "Boardroom", "conf-room-1", "no"],
        ["00aabbcc0001", "SPA504G", "Desk 1", "desk-1", "yes"],
    ]
    raw_before = files_of(site)
    done = spaprov(
        "import",
        str(write_csv(tmp_path / "d.csv", rows, DEVICE_HEADER)),
        "--profiles",
        str(site),
        "--dry-run",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "001122334455: updated station_name, em_enabled" in lines
    assert "00aabbcc0001: created" in lines
    assert "1 created, 1 updated, 0 unchanged" in done.stdout and "nothing written" in done.stdout
    assert files_of(site) == raw_before
    again = spaprov("export", "devices", "--profiles", str(site))
    (tmp_path / "same.csv").write_text(again.stdout)
    same = spaprov("import", str(tmp_path / "same.csv"), "--profiles", str(site), "--dry-run")
    assert "001122334455: unchanged" in same.stdout.splitlines()

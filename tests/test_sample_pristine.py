"""Tests use the sample as committed, not as the administrator left it (issue 12, item 4): the
README walkthrough edits sample_profiles/ in place, and `make test` must still pass."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from tests.helpers.site import ROOT, SAMPLE, pristine_sample, write_sample

# Test files that read the sample and failed on an edited one before (7 of their tests).
READERS = ("tests/config/test_validation.py", "tests/server/test_phone_fetch.py")
PASSWORD_FILES = ("credentials.htdigest", "credentials.htdigest.sha256", "admins.toml")


def spaprov(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def committed_repo(tmp_path: Path) -> Path:
    """A checkout whose committed sample_profiles/ is the project's pristine sample."""
    repo = tmp_path / "repo"
    write_sample(pristine_sample(), repo / "sample_profiles")
    git(repo, "init", "-q")
    git(repo, "add", "sample_profiles")
    git(repo, "commit", "-q", "-m", "sample")
    return repo


def walk_through(sample: Path) -> None:
    """What the README walkthrough has an administrator do to sample_profiles/ in place."""
    for name in ("devices/001122334455.toml", "em_profiles/alice.toml", *PASSWORD_FILES):  # make serve
        os.chmod(sample / name, 0o600)
    (sample / ".spaprov-state.sqlite3").write_bytes(b"SQLite format 3\0")  # serve's state database
    (sample / ".spaprov.lock").write_bytes(b"")
    profiles = ("--profiles", str(sample), "--password-stdin")
    done = spaprov("user", "passwd", "alice@example.com", *profiles, stdin="9999\n")
    assert done.returncode == 0, done.stderr
    site = sample / "site.toml"
    site.write_text(site.read_text().replace('name = "', 'name = "Edited ', 1))
    (sample / "users" / "carol.toml").write_text('display_name = "Carol"\nem_profiles = ["alice"]\n')


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_edited_checkout_still_gives_the_committed_sample(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path)
    committed = files(repo / "sample_profiles")
    walk_through(repo / "sample_profiles")
    assert files(repo / "sample_profiles") != committed  # the walkthrough did change the tree

    copy = write_sample(pristine_sample(repo), tmp_path / "copy")
    assert files(copy) == committed  # byte for byte, without the state database or carol
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in copy.rglob("*") if p.is_file())


def test_outside_a_checkout_the_directory_is_used_without_its_state(tmp_path: Path) -> None:
    unpacked = tmp_path / "sdist"
    write_sample(pristine_sample(), unpacked / "sample_profiles")
    walk_through(unpacked / "sample_profiles")
    copy = write_sample(pristine_sample(unpacked), tmp_path / "copy")
    assert ".spaprov-state.sqlite3" not in files(copy) and ".spaprov.lock" not in files(copy)
    assert "users/carol.toml" in files(copy)  # no git to know better: the edit is taken


def test_the_shared_sample_is_the_committed_one() -> None:
    """SAMPLE (what read-only tests load) matches git's index, not the tree's files."""
    assert SAMPLE != ROOT / "sample_profiles"
    assert {name: content for name, (_, content) in pristine_sample().items()} == files(SAMPLE)


def test_no_test_reads_the_trees_sample() -> None:
    """Only tests/helpers/site.py may name the tree's sample_profiles/ directory as a path (this
    file names the ones of its own scratch checkouts)."""
    naming = re.compile(r"""/\s*["']sample_profiles["']""")
    allowed = {ROOT / "tests" / "helpers" / "site.py", Path(__file__).resolve()}
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if path not in allowed and naming.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_walkthrough_edit_in_a_clone_leaves_its_tests_passing(tmp_path: Path) -> None:
    """End to end: a clone of this checkout, its sample edited as the walkthrough does, runs a
    test file that reads the sample, and it passes."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return  # an sdist: the two unit tests above cover the fallback
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    for name in ("tests", "spaprov"):  # this checkout's working tree, committed or not
        shutil.rmtree(clone / name)
        shutil.copytree(ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    walk_through(clone / "sample_profiles")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *READERS],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(clone)},
    )
    assert done.returncode == 0, done.stdout[-3000:]

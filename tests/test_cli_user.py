"""`spaprov user …` as a subprocess: passwords only from stdin or a prompt, never argv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spaprov.auth import CredentialStore, ha1


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", "user", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.mark.slow
def test_add_passwd_list_del(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text('[site]\nrealm = "example"\n')
    common = ("--profiles", str(tmp_path))
    assert run("add", "alice@example.com", *common, "--password-stdin", stdin="1234\n").returncode == 0
    store = CredentialStore(tmp_path / "credentials.htdigest", "example")
    assert store.ha1("alice@example.com", "MD5") == ha1("MD5", "alice@example.com", "example", "1234")
    again = run("add", "alice@example.com", *common, "--password-stdin", stdin="x\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert run("passwd", "alice@example.com", *common, "--password-stdin", stdin="9999\n").returncode == 0
    store.load()
    assert store.ha1("alice@example.com", "SHA-256") == ha1("SHA-256", "alice@example.com", "example", "9999")
    assert run("list", *common).stdout == "alice@example.com\tMD5,SHA-256\n"
    assert run("del", "alice@example.com", *common).returncode == 0
    missing = run("del", "alice@example.com", *common)
    assert missing.returncode == 1 and "no user" in missing.stderr


def test_password_is_never_taken_from_argv(tmp_path: Path) -> None:
    done = run("add", "bob", "--profiles", str(tmp_path), "--realm", "r", "5678")
    assert done.returncode == 2  # argparse: unrecognized argument


def test_no_terminal_and_no_stdin_flag_is_a_clear_error(tmp_path: Path) -> None:
    done = run("add", "bob@example.com", "--profiles", str(tmp_path), "--realm", "r")
    assert done.returncode == 1 and "use --password-stdin" in done.stderr
    assert not (tmp_path / "credentials.htdigest").exists()


def test_realm_must_come_from_somewhere(tmp_path: Path) -> None:
    done = run("list", "--profiles", str(tmp_path))
    assert done.returncode == 1 and "no --realm given" in done.stderr


def test_corrupt_file_is_reported_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "credentials.htdigest").write_text("nonsense\n")
    done = run("list", "--profiles", str(tmp_path), "--realm", "r")
    assert done.returncode == 1
    assert "credentials.htdigest:1: expected user:realm:HA1" in done.stderr
    assert "Traceback" not in done.stderr

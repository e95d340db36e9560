"""The credential store: HA1 only, 0600, atomic, clear errors for corrupt files."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from spaprov.auth import CredentialFileError, CredentialStore, ha1
from spaprov.auth.store import SHA256_SUFFIX

REALM = "spaprov-test"


def test_stores_md5_and_sha256_ha1_and_never_the_password(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    store.set_password("alice@example.com", "correct horse")
    md5_text = (tmp_path / "credentials.htdigest").read_text()
    sha_text = (tmp_path / ("credentials.htdigest" + SHA256_SUFFIX)).read_text()
    expected_md5 = hashlib.md5(f"alice@example.com:{REALM}:correct horse".encode()).hexdigest()
    assert md5_text == f"alice@example.com:{REALM}:{expected_md5}\n"
    assert (
        sha_text
        == f"alice@example.com:{REALM}:{ha1('SHA-256', 'alice@example.com', REALM, 'correct horse')}\n"
    )
    assert "correct horse" not in md5_text + sha_text
    assert store.ha1("alice@example.com", "MD5") == expected_md5


def test_files_are_mode_0600_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    os.umask(0o022)
    store = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    store.set_password("a", "1")
    store.set_password("b", "2")
    store.delete("a")
    for path in (store.path, store.sha256_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".spaprov.lock",
        "credentials.htdigest",
        "credentials.htdigest.sha256",
    ]


def test_users_passwd_delete_and_other_realms_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "credentials.htdigest"
    other = hashlib.md5(b"carol:elsewhere:pw").hexdigest()
    path.write_text(f"carol:elsewhere:{other}\n")
    store = CredentialStore(path, REALM)
    store.set_password("alice", "1")
    store.set_password("bob", "2")
    old = store.ha1("alice", "MD5")
    store.set_password("alice", "3")
    assert store.ha1("alice", "MD5") != old
    assert store.users() == ["alice", "bob"]
    assert store.delete("bob") and not store.delete("bob")
    assert store.users() == ["alice"]
    assert f"carol:elsewhere:{other}" in path.read_text()


def test_apache_only_user_authenticates_with_md5_only(tmp_path: Path) -> None:
    path = tmp_path / "credentials.htdigest"
    path.write_text(f"dave:{REALM}:{ha1('MD5', 'dave', REALM, 'pw')}\n")
    store = CredentialStore(path, REALM)
    assert store.ha1("dave", "MD5") and store.ha1("dave", "SHA-256") is None
    assert "dave" in store


def test_two_stores_on_one_file_do_not_lose_each_others_changes(tmp_path: Path) -> None:
    first = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    second = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    first.set_password("alice", "1")
    second.set_password("bob", "2")  # second re-reads under the lock before writing
    first.load()
    assert first.users() == ["alice", "bob"]


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("alice:spaprov-test\n", 1, "expected user:realm:HA1"),
        ("# comment\n\nalice:spaprov-test:abc\n", 3, "must be 32 lower-case hex digits"),
        ("a:r:" + "0" * 32 + "\n:r:" + "0" * 32 + "\n", 2, "empty user name"),
        ("a:r:" + "0" * 32 + "\na:r:" + "1" * 32 + "\n", 2, "already defined on line 1"),
        ("a:r:" + "G" * 32 + "\n", 1, "must be 32 lower-case hex digits"),
        ("a:b:c:" + "0" * 32 + "\n", 1, "expected user:realm:HA1"),
    ],
)
def test_corrupt_file_names_file_line_and_reason(
    tmp_path: Path, content: str, line: int, reason: str
) -> None:
    path = tmp_path / "credentials.htdigest"
    path.write_text(content)
    with pytest.raises(CredentialFileError) as raised:
        CredentialStore(path, "r")
    assert raised.value.line == line
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"{path}:{line}: ")


def test_corrupt_sha256_file_is_named(tmp_path: Path) -> None:
    (tmp_path / ("credentials.htdigest" + SHA256_SUFFIX)).write_text("a:r:" + "0" * 32 + "\n")
    with pytest.raises(
        CredentialFileError, match=r"credentials.htdigest.sha256:1: the SHA-256 HA1 must be 64"
    ):
        CredentialStore(tmp_path / "credentials.htdigest", "r")


def test_binary_garbage_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "credentials.htdigest").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CredentialFileError, match="not UTF-8"):
        CredentialStore(tmp_path / "credentials.htdigest", "r")


def test_a_failed_reload_keeps_the_previous_credentials(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    store.set_password("alice", "1")
    store.path.write_text("broken\n")
    with pytest.raises(CredentialFileError):
        store.load()
    assert store.ha1("alice", "MD5") == ha1("MD5", "alice", REALM, "1")


@pytest.mark.parametrize(("user", "password"), [("", "x"), ("a:b", "x"), ("a\nb", "x"), ("alice", "")])
def test_bad_user_or_password_is_refused(tmp_path: Path, user: str, password: str) -> None:
    store = CredentialStore(tmp_path / "credentials.htdigest", REALM)
    with pytest.raises(ValueError):
        store.set_password(user, password)
    assert not store.path.exists()

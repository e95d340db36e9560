"""The `[--key]` profile codec is byte-compatible with `openssl enc -aes-256-cbc -md md5`, both ways,
checked against the real openssl binary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from spaprov.profiles.encryption import (
    ProfileDecryptionError,
    decrypt_profile,
    derive_key_iv,
    encrypt_profile,
)

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")

PROFILE = b'<?xml version="1.0"?>\n<flat-profile>\n  <Profile_Rule>http://x/$MA.cfg</Profile_Rule>\n</flat-profile>\n'
PHRASE = "SecretPhrase1234"


def openssl(args: list[str], data: bytes, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    """Run openssl with the phrase in a file (never on argv: the test shows the safe way)."""
    assert OPENSSL is not None
    phrase_file = tmp_path / "phrase"
    phrase_file.write_text(PHRASE)
    return subprocess.run(
        [OPENSSL, "enc", "-aes-256-cbc", "-md", "md5", "-pass", f"file:{phrase_file}", *args],
        input=data,
        capture_output=True,
        timeout=30,
        check=False,
    )


@needs_openssl
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4096])
def test_openssl_decrypts_what_we_encrypt(tmp_path: Path, size: int) -> None:
    plain = (PROFILE * 100)[:size]
    done = openssl(["-d"], encrypt_profile(plain, PHRASE), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == plain


@needs_openssl
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4096])
def test_we_decrypt_what_openssl_encrypts(tmp_path: Path, size: int) -> None:
    plain = (PROFILE * 100)[:size]
    done = openssl(["-e"], plain, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"Salted__")
    assert decrypt_profile(done.stdout, PHRASE) == plain


@needs_openssl
def test_same_salt_gives_openssls_exact_bytes(tmp_path: Path) -> None:
    salt = bytes.fromhex("0011223344556677")
    done = openssl(["-e", "-S", salt.hex()], PROFILE, tmp_path)
    assert done.returncode == 0, done.stderr
    # openssl 3 leaves the "Salted__" header out when the salt is given with -S
    body = done.stdout.removeprefix(b"Salted__" + salt)
    assert encrypt_profile(PROFILE, PHRASE, salt=salt) == b"Salted__" + salt + body


@needs_openssl
def test_key_and_iv_derivation_match_openssl(tmp_path: Path) -> None:
    salt = bytes.fromhex("0011223344556677")
    done = openssl(["-e", "-S", salt.hex(), "-P"], b"", tmp_path)
    printed = dict(
        line.replace(" ", "").split("=", 1) for line in done.stdout.decode().splitlines() if "=" in line
    )
    key, iv = derive_key_iv(PHRASE.encode(), salt)
    assert (printed["key"], printed["iv"]) == (key.hex().upper(), iv.hex().upper())


@needs_openssl
def test_a_phrase_with_spaces_and_non_ascii_matches_openssl(tmp_path: Path) -> None:
    phrase = "my secret phrase é"
    (tmp_path / "p").write_text(phrase, encoding="utf-8")
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, "enc", "-d", "-aes-256-cbc", "-md", "md5", "-pass", f"file:{tmp_path / 'p'}"],
        input=encrypt_profile(PROFILE, phrase),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == PROFILE


def test_a_fresh_salt_each_time() -> None:
    first, second = encrypt_profile(PROFILE, PHRASE), encrypt_profile(PROFILE, PHRASE)
    assert first[:8] == second[:8] == b"Salted__"
    assert first[8:16] != second[8:16]
    assert decrypt_profile(first, PHRASE) == decrypt_profile(second, PHRASE) == PROFILE


def test_wrong_phrase_is_a_clear_error() -> None:
    # a fixed salt for which the wrong phrase's padding check fails (as openssl's "bad decrypt";
    # 1 in 256 wrong phrases pass it, with either tool)
    data = encrypt_profile(PROFILE, PHRASE, salt=b"\x00" * 8)
    with pytest.raises(ProfileDecryptionError, match="wrong key phrase"):
        decrypt_profile(data, "not-the-phrase")


@pytest.mark.parametrize(
    ("cut", "message"),
    [(0, "no 'Salted__' header"), (10, "no 'Salted__' header"), (16, "truncated"), (-1, "truncated")],
)
def test_truncated_input_is_a_clear_error(cut: int, message: str) -> None:
    data = encrypt_profile(PROFILE, PHRASE)
    with pytest.raises(ProfileDecryptionError, match=message):
        decrypt_profile(data[:cut], PHRASE)


def test_plain_xml_is_not_taken_for_an_encrypted_profile() -> None:
    with pytest.raises(ProfileDecryptionError, match="Salted__"):
        decrypt_profile(PROFILE, PHRASE)


def test_empty_phrase_and_bad_salt_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        encrypt_profile(PROFILE, "")
    with pytest.raises(ValueError, match="8 bytes"):
        encrypt_profile(PROFILE, PHRASE, salt=b"short")

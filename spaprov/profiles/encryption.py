"""Profiles encrypted for `[--key PHRASE]`: the `openssl enc -aes-256-cbc -k PHRASE -md md5` format.

The SPA provisioning guide ([LSPG30] p.32) has the operator encrypt a profile with
`openssl enc -e -aes-256-cbc -k PHRASE`; the phone decrypts it with the phrase its rule names in
`--key`. The container is openssl's salted one: `Salted__`, an 8-byte salt, then AES-256-CBC with
PKCS#7 padding, key and IV from EVP_BytesToKey over (phrase, salt) with one round of MD5.

Which digest the firmware's EVP_BytesToKey uses is UNCONFIRMED: SPA firmware predates openssl 1.1
(which made SHA-256 the default of `openssl enc`), so MD5 is the likely one, and it is what we use.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAGIC = b"Salted__"
SALT_SIZE = 8
KEY_SIZE = 32
IV_SIZE = 16
BLOCK = 16


class ProfileDecryptionError(ValueError):
    """The data is not an encrypted profile, or the phrase is wrong."""


def derive_key_iv(phrase: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """EVP_BytesToKey(MD5, count=1): D_i = MD5(D_{i-1} || phrase || salt), concatenated."""
    material = b""
    block = b""
    while len(material) < KEY_SIZE + IV_SIZE:
        block = hashlib.md5(block + phrase + salt, usedforsecurity=False).digest()
        material += block
    return material[:KEY_SIZE], material[KEY_SIZE : KEY_SIZE + IV_SIZE]


def _phrase_bytes(phrase: str) -> bytes:
    if not phrase:
        raise ValueError("the key phrase is empty")
    return phrase.encode("utf-8")


def encrypt_profile(plain: bytes, phrase: str, *, salt: bytes | None = None) -> bytes:
    """Encrypt as `openssl enc -aes-256-cbc -k PHRASE -md md5` would (a fresh random salt unless
    one is given, for reproducible output)."""
    if salt is None:
        salt = os.urandom(SALT_SIZE)
    if len(salt) != SALT_SIZE:
        raise ValueError(f"the salt must be {SALT_SIZE} bytes, not {len(salt)}")
    key, iv = derive_key_iv(_phrase_bytes(phrase), salt)
    padder = padding.PKCS7(BLOCK * 8).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return MAGIC + salt + encryptor.update(padded) + encryptor.finalize()


def decrypt_profile(data: bytes, phrase: str) -> bytes:
    """Decrypt what `openssl enc -aes-256-cbc -k PHRASE -md md5` wrote. A wrong phrase or a
    damaged or truncated input raises ProfileDecryptionError (a wrong phrase is caught by the
    padding check, as openssl's "bad decrypt"; about 1 in 256 wrong phrases slip through it and
    give garbage, exactly as with openssl)."""
    header = len(MAGIC) + SALT_SIZE
    if len(data) < header or not hmac.compare_digest(data[: len(MAGIC)], MAGIC):
        raise ProfileDecryptionError("not an encrypted profile: no 'Salted__' header")
    body = data[header:]
    if not body or len(body) % BLOCK:
        raise ProfileDecryptionError(
            f"truncated encrypted profile: {len(body)} bytes of cipher text, not a multiple of {BLOCK}"
        )
    key, iv = derive_key_iv(_phrase_bytes(phrase), data[len(MAGIC) : header])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(BLOCK * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise ProfileDecryptionError("bad decrypt: wrong key phrase or damaged profile") from None

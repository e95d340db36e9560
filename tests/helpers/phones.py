"""Simulated phones on a live server's clock."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

from spaprov.phone import SpaPhone
from tests.helpers.mobility import Live
from tests.helpers.site import CONF_ROOM


def conference_phone(server: Live, **kwargs: object) -> SpaPhone:
    phone = SpaPhone.of_model(
        CONF_ROOM, "SPA525G2", f"http://127.0.0.1:{server.port}/default.cfg", clock=server.clock, **kwargs
    )
    phone.set_host_credentials("conf-room-1", "host-secret")
    return phone


def names(fetches: object) -> list[str]:
    """The file names a step fetched, without directories or query: `hostphone.cfg`."""
    return [f.url.rsplit("/", 1)[1].split("?")[0] for f in fetches]  # type: ignore[attr-defined]


def openssl_encrypt(tmp_path: Path, plain: bytes, phrase: str) -> bytes:
    """The operator's command ([LSPG30] p.32), run by the real openssl binary."""
    source = tmp_path / "profile.xml"
    source.write_bytes(plain)
    return subprocess.run(
        ["openssl", "enc", "-e", "-aes-256-cbc", "-md", "md5", "-k", phrase, "-in", str(source)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout


def self_signed(directory: Path) -> tuple[ssl.SSLContext, str]:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and the CA file a
    client must trust for it (the real openssl binary makes it)."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl binary is needed (apt-get install openssl)"
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, str(cert)

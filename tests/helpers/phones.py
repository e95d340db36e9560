"""Simulated phones on a live server's clock."""

from __future__ import annotations

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

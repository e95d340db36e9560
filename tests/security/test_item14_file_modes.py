"""Item 14: file modes.  The SQLite state database and its -wal/-shm files were created 0644
(sessions and audit readable by every local user); profile files holding SIP and host passwords
were accepted at 0644 without a word.  Now the database is created 0600 and readable secrets are
named in a warning with the fix (the site is still served: refusing would take it down)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from spaprov.config import load_profile_directory
from spaprov.mobility import SqliteStateStore
from tests.helpers.cli import serve
from tests.helpers.phones import self_signed
from tests.helpers.site import SPA_AGENT, ServerFactory

STATE = ".spaprov-state.sqlite3"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask of an administrator's shell, whatever the test runner's is."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
async def test_state_database_and_its_wal_are_created_0600(start: ServerFactory, site: Path) -> None:
    server = await start(site)
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(
            str(server.make_url("/mobilephone.cfg")), auth=httpx.DigestAuth("alice@example.com", "1234")
        )
    assert response.status_code == 200  # a login: a committed write, so the WAL files exist
    files = {path.name: mode(path) for path in site.glob(f"{STATE}*")}
    assert set(files) == {STATE, f"{STATE}-wal", f"{STATE}-shm"}
    assert files == dict.fromkeys(files, 0o600)


@pytest.mark.usefixtures("umask_022")
def test_an_existing_database_keeps_its_mode_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    SqliteStateStore(path).close()
    path.chmod(0o640)  # the administrator's choice (a backup group, say): not ours to change
    caplog.set_level(logging.WARNING)
    store = SqliteStateStore(path)
    with store.transaction() as tx:
        tx.audit(1.0, "test")
    store.close()
    assert mode(path) == 0o640
    assert f"chmod 600 {path}" in caplog.text

    caplog.clear()
    path.chmod(0o600)
    SqliteStateStore(path).close()
    assert "chmod" not in caplog.text


@pytest.mark.usefixtures("umask_022")
def test_readable_password_files_are_named_with_the_fix(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets = [
        site / "em_profiles" / "alice.toml",  # SIP password
        site / "em_profiles" / "bob.toml",
        site / "devices" / "001122334455.toml",  # its line's SIP password
        site / "admins.toml",  # password hashes
    ]
    for path in site.rglob("*.toml"):
        path.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="spaprov.config")
    config = load_profile_directory(site)  # served anyway: a warning, not a refusal
    assert "alice" in config.users
    warned = [r.getMessage() for r in caplog.records if r.name == "spaprov.config"]
    assert len(warned) == len(secrets)
    for path in secrets:
        assert any(str(path) in line and f"chmod 600 {path}" in line for line in warned), path
    assert not any("users/" in line or "site.toml" in line for line in warned)  # no secret in them

    caplog.clear()
    for path in secrets:
        path.chmod(0o600)
    load_profile_directory(site)
    assert not [r for r in caplog.records if r.name == "spaprov.config"]


@pytest.mark.usefixtures("umask_022")
async def test_serving_warns_about_a_readable_host_password(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    device = site / "devices" / "001122334455.toml"
    text = device.read_text()
    if "host_password" not in text:  # the sample device has one since issue 11's bootstrap
        text = text.replace("em_enabled = true", 'em_enabled = true\nhost_password = "host-secret"')
    device.write_text(text)
    device.chmod(0o604)
    caplog.set_level(logging.WARNING, logger="spaprov.config")
    await start(site)
    assert f"(mode 0604): run chmod 600 {device}" in caplog.text


def test_serve_warns_about_a_readable_tls_key_and_nonce_secret_file(site: Path, tmp_path: Path) -> None:
    """Two more secrets spaprov reads but does not write: the TLS private key (whoever reads it
    can pose as the server) and a `nonce_secret = "file:PATH"` (whoever reads it can mint the
    server's nonces).  Readable by group or others, each is named with the fix."""
    _, cert = self_signed(tmp_path)
    key, secret = tmp_path / "key.pem", tmp_path / "nonce.secret"
    secret.write_text("n" * 32 + "\n")
    site_toml = site / "site.toml"
    site_toml.write_text(
        site_toml.read_text().replace('nonce_secret = "random"', f'nonce_secret = "file:{secret}"')
    )
    tls = ("--tls-cert", cert, "--tls-key", str(key))
    warnings = {
        key: f"the TLS private key {key} is readable by group or others (mode 0640): run chmod 600 {key}",
        secret: f"{secret} holds the nonce secret and is readable by group or others (mode 0604)",
    }
    for private in (False, True):
        key.chmod(0o600 if private else 0o640)
        secret.chmod(0o600 if private else 0o604)
        for served in serve("--profiles", str(site), *tls):
            served.process.terminate()
        output = served.process.communicate(timeout=30)[0]
        for text in warnings.values():
            assert (text in output) is not private, output

"""Issue 15 item 1: a `user passwd` killed between the writes of its two credential files must
never leave a pair that is served torn (MD5 of the old password, SHA-256 of the new one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spaprov.auth import CredentialStore, ha1
from spaprov.auth.store import CredentialFileError
from tests.helpers.crash import Killed

REALM = "prov.example.com"
USER = "alice@example.com"


@pytest.mark.parametrize("rename", [1, 2])
def test_a_passwd_killed_at_any_rename_is_refused_or_whole(
    site: Path, die_on_rename: list[int], rename: int
) -> None:
    CredentialStore(site / "credentials.htdigest", REALM).set_password(USER, "old")
    die_on_rename[0] = rename
    with pytest.raises(Killed):
        CredentialStore(site / "credentials.htdigest", REALM).set_password(USER, "new")
    die_on_rename[0] = 0
    try:
        store = CredentialStore(site / "credentials.htdigest", REALM)
    except CredentialFileError as error:
        assert "interrupted" in str(error)  # reported, not served
        return
    pair = (store.ha1(USER, "MD5"), store.ha1(USER, "SHA-256"))
    assert pair in [(ha1("MD5", USER, REALM, pw), ha1("SHA-256", USER, REALM, pw)) for pw in ("old", "new")]

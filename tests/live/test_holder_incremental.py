"""The live site after a random sequence of edits, each reloaded file by file (as the watcher
does) or by a stat of every file (as polling and a worker catching up do), serves exactly what a
full load of the directory would: the same configuration and the same Digest credentials; and a
refused edit keeps the last good configuration (and its credentials) serving."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spaprov.auth import CredentialFileError, CredentialStore
from spaprov.clock import ManualClock
from spaprov.config import Config, ConfigError, load_profile_directory
from spaprov.live.holder import ConfigHolder
from tests.helpers.site import copy_sample
from tests.helpers.site_edits import apply, breaks, content_of, deletes, site_edits, writes

REALM = "prov.example.com"
PEOPLE = ["alice@example.com", "bob@example.com", "conf-room-1@example.com", "carol@example.com"]


def credentials_text(passwords: dict[str, str]) -> str:
    return "".join(
        f"{user}:{REALM}:{hashlib.md5(f'{user}:{REALM}:{password}'.encode()).hexdigest()}\n"
        for user, password in passwords.items()
    )


credential_edits = st.dictionaries(st.sampled_from(PEOPLE), st.sampled_from(["1234", "5678", "x"])).map(
    lambda passwords: ("credentials.htdigest", credentials_text(passwords))
) | st.just(("credentials.htdigest", "not a credential line\n"))
step = st.tuples(
    st.lists(writes | breaks | deletes | site_edits | credential_edits, min_size=1, max_size=3),
    st.booleans(),
)


def full_load(root: Path) -> tuple[Config, dict[str, str | None]] | None:
    try:
        config = load_profile_directory(root)
        store = CredentialStore(root / "credentials.htdigest", config.site.realm)
    except (ConfigError, CredentialFileError):
        return None
    return config, credentials(store)


def credentials(store: CredentialStore) -> dict[str, str | None]:
    return {user: store.ha1(user, "MD5") for user in [*PEOPLE, *store.users()]}


Step = tuple[list[tuple[str, str | None]], bool]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=8))
def test_the_live_site_serves_what_a_full_load_gives(
    steps: list[Step],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = copy_sample(Path(directory) / "site")
        site_text = (root / "site.toml").read_text()
        holder = ConfigHolder(root, ManualClock())
        good = full_load(root)
        assert good is not None
        for edits, told in steps:
            labels = []
            for label, content in edits:
                apply(root, label, content_of(label, content, site_text))
                labels.append(label)
            try:
                holder.commit(holder.prepare(labels if told else None))
            except ConfigError as error:
                holder.refuse(error)
            expected = full_load(root)
            if expected is not None:
                good = expected
            config, served = good  # refused: the last good one keeps serving
            assert holder.config == config
            assert list(holder.config.devices) == list(config.devices)
            assert credentials(holder.credentials) == served
            assert bool(holder.site.problems) == (expected is None)

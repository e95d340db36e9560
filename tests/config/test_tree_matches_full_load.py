"""An incrementally maintained SiteTree gives exactly what a full load of the same directory
gives: the same Config (same documents, same order, same fingerprint) or the same problems in the
same order, after every step of a random sequence of edits (add, change, delete, break and fix
devices, users and EM profiles, bad file names, site.toml), whether the tree is told which files
changed (as the watcher does) or finds them itself by stat (as polling does)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spaprov.config import Config, ConfigError, load_profile_directory
from spaprov.config.tree import SiteTree
from tests.helpers.site import copy_sample

# Small pools, so that edits collide: two devices with one host user, a host user who is also a
# mobility user, an EM profile named like a device, a MAC written in two cases, a missing profile.
MACS = ["001122334455", "00aabbccddee", "00AABBCCDDEE", "a1b2c3d4e5f6"]
HOSTS = ["conf-room-1", "desk-a", "desk-b", "alice"]
IDS = ["alice", "bob", "carol", "desk-a", "a1b2c3d4e5f6"]
PROFILES = ["alice", "bob", "carol", "a1b2c3d4e5f6", "missing"]
BAD_NAMES = ["devices/not-a-mac.toml", "users/Carol.toml", "em_profiles/notes.txt", "devices/x.toml"]
BROKEN = ["x = [", 'model = "SPA999"\nhost_user = "q"\n', "unknown = 1\n", "display_name = 5\n"]


def device_text(host: str, station: str, model: str) -> str:
    return (
        f'model = "{model}"\nstation_name = "{station}"\nhost_user = "{host}"\n'
        '[[lines]]\nnumber = 1\nuser_id = "1000"\n'
    )


def user_text(profiles: list[str], default: str | None) -> str:
    listed = ", ".join(f'"{p}"' for p in profiles)
    extra = f'default_profile = "{default}"\n' if default is not None else ""
    return f'display_name = "Someone"\nem_profiles = [{listed}]\n{extra}'


def profile_text(extension: str) -> str:
    return f'[[lines]]\nnumber = 1\nuser_id = "{extension}"\n'


devices = st.builds(
    lambda mac, host, station, model: (f"devices/{mac}.toml", device_text(host, station, model)),
    st.sampled_from(MACS),
    st.sampled_from(HOSTS),
    st.sampled_from(["Desk", "Lobby", "Bench"]),
    st.sampled_from(["SPA525G2", "SPA504G"]),
)
users = st.builds(
    lambda uid, profiles, default: (f"users/{uid}.toml", user_text(profiles, default)),
    st.sampled_from(IDS),
    st.lists(st.sampled_from(PROFILES), max_size=2),
    st.none() | st.sampled_from(PROFILES),
)
profiles = st.builds(
    lambda name, ext: (f"em_profiles/{name}.toml", profile_text(ext)),
    st.sampled_from(PROFILES[:4]),
    st.sampled_from(["2001", "2002", "bad extension!"]),
)
any_label = st.sampled_from(
    [f"devices/{m}.toml" for m in MACS]
    + [f"users/{u}.toml" for u in IDS]
    + [f"em_profiles/{p}.toml" for p in PROFILES[:4]]
    + BAD_NAMES
)
writes = devices | users | profiles | st.tuples(st.sampled_from(BAD_NAMES), st.just("x = 1\n"))
breaks = st.tuples(any_label, st.sampled_from(BROKEN))
deletes = st.tuples(any_label, st.none())
site_edits = st.tuples(st.just("site.toml"), st.sampled_from(["name", "broken", "fixed"])).map(
    lambda edit: ("site.toml", edit[1])
)
# One step: a few file edits, then the tree is told the labels (True) or scans (False); or the
# edits are only proposed (an API edit is checked before anything is written).
step = st.tuples(
    st.lists(writes | breaks | deletes | site_edits, min_size=1, max_size=3),
    st.sampled_from(["told", "scan", "proposed", "everything"]),
)


def content_of(label: str, content: str | None, site_text: str) -> str | None:
    if label == "site.toml" and content is not None:
        return {
            "name": site_text.replace("Example Corp (sample)", "Renamed"),
            "broken": site_text.replace("[resync]", "[resync]\nperiodic = -1\n", 1),
            "fixed": site_text,
        }[content]
    return content


def apply(root: Path, label: str, content: str | None) -> None:
    path = root / label
    if content is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{path.name}.test.tmp")
    temporary.write_text(content)
    os.replace(temporary, path)  # as spaprov's writers and most editors do: a new inode


def outcome(load: object) -> Config | list[str]:
    try:
        result = load()  # type: ignore[operator]
        assert isinstance(result, Config)
        return result
    except ConfigError as error:
        return [str(problem) for problem in error.problems]


Step = tuple[list[tuple[str, str | None]], str]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=8))
def test_incremental_reload_gives_what_a_full_load_gives(steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = copy_sample(Path(directory) / "site")
        site_text = (root / "site.toml").read_text()
        tree = SiteTree(root)
        for edits, how in steps:
            edits = [(label, content_of(label, content, site_text)) for label, content in edits]
            if how == "proposed":
                overrides = {label: None if text is None else text.encode() for label, text in edits}
                full = outcome(lambda: load_profile_directory(root, overrides))  # noqa: B023
                expected = full if isinstance(full, list) else []
                assert [str(problem) for problem in tree.check(overrides)] == expected
            else:
                for label, content in edits:
                    apply(root, label, content)
                if how == "everything":  # SIGHUP
                    tree.reread_all()
                else:
                    tree.refresh([label for label, _ in edits] if how == "told" else None)
            incremental = outcome(tree.config)
            full = outcome(lambda: load_profile_directory(root))
            if isinstance(full, list) or isinstance(incremental, list):
                assert incremental == full
                continue
            assert incremental == full
            assert incremental.fingerprint == full.fingerprint
            for mine, theirs in (
                (incremental.devices, full.devices),
                (incremental.users, full.users),
                (incremental.em_profiles, full.em_profiles),
            ):
                assert list(mine) == list(theirs)  # the order the API lists them in


def test_one_changed_file_is_the_only_one_read(tmp_path: Path) -> None:
    """What makes an edit cheap: the tree re-reads the file it is told about and nothing else."""
    root = copy_sample(tmp_path / "site")
    tree = SiteTree(root)
    before = tree.config()
    (root / "em_profiles" / "bob.toml").write_text(profile_text("2009"))
    assert tree.refresh(["em_profiles/bob.toml"]) == {"em_profiles/bob.toml"}
    after = tree.config()
    assert after.em_profiles["bob"].content.lines[0].user_id == "2009"
    assert after.devices is not before.devices and after.devices == before.devices
    assert after.fingerprint != before.fingerprint


def test_an_encrypting_rule_needs_every_device_key_in_the_tree_too(tmp_path: Path) -> None:
    """A site whose rule fetches mobile profiles with `--key $SA` refuses a device without a
    profile_key, whether the rule or the device changed last."""
    root = copy_sample(tmp_path / "site")
    tree = SiteTree(root)
    site = root / "site.toml"
    site.write_text(site.read_text().replace("[--uid $MUID$PDOM", "[--key $SA --uid $MUID$PDOM"))
    tree.refresh(["site.toml"])
    assert outcome(tree.config) == outcome(lambda: load_profile_directory(root))
    assert any("profile_key: is needed" in problem for problem in outcome(tree.config))  # type: ignore[union-attr]
    device = root / "devices" / "001122334455.toml"
    device.write_text(
        device.read_text().replace("em_enabled = true", f'em_enabled = true\nprofile_key = "{"k" * 32}"')
    )
    tree.refresh(["devices/001122334455.toml"])
    served = outcome(tree.config)
    assert isinstance(served, Config) and served == outcome(lambda: load_profile_directory(root))

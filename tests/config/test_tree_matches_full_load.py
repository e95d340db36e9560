"""An incrementally maintained SiteTree gives exactly what a full load of the same directory
gives: the same Config (same documents, same order, same fingerprint) or the same problems in the
same order, after every step of a random sequence of edits (add, change, delete, break and fix
devices, users and EM profiles, bad file names, site.toml), whether the tree is told which files
changed (as the watcher does) or finds them itself by stat (as polling does)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spaprov.config import Config, ConfigError, load_profile_directory
from spaprov.config.tree import SiteTree
from tests.helpers.site import copy_sample
from tests.helpers.site_edits import apply, content_of, profile_text, step


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

"""Every validation error names file, field and reason — and all of them come at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from spaprov.config import ConfigError, load_profile_directory
from tests.helpers.site import SAMPLE


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


DEVICE = "devices/001122334455.toml"
# (file, text to replace, replacement, expected problem)
CASES = [
    (
        DEVICE,
        'model = "SPA525G2"',
        'model = "SPA999"',
        f"{DEVICE}: model: 'SPA999' is not one of "
        "SPA501G, SPA502G, SPA504G, SPA508G, SPA509G, SPA512G, SPA514G, SPA525G, SPA525G2",
    ),
    (DEVICE, "number = 1", "number = 6", f"{DEVICE}: lines[1].number: must be between 1 and 5, not 6"),
    (
        DEVICE,
        'model = "SPA525G2"',
        'model = "SPA502G"',
        f"{DEVICE}: line_keys[1].key: must be between 1 and 1, not 5",  # no attendant console
    ),
    (DEVICE, 'host_user = "conf-room-1"', "host_user = 7", f"{DEVICE}: host_user: must be a string, not int"),
    (DEVICE, 'host_user = "conf-room-1"', "", f"{DEVICE}: host_user: is required"),
    (
        DEVICE,
        "em_enabled = true",
        'em_enabled = "yes"',
        f"{DEVICE}: em_enabled: must be true or false, not str",
    ),
    (DEVICE, "slot = 2", "slot = 10", f"{DEVICE}: speed_dials[1].slot: must be between 2 and 9, not 10"),
    (
        DEVICE,
        'kind = "service"',
        'kind = "paging"',
        f"{DEVICE}: line_keys[1].kind: 'paging' is not one of blf, service",
    ),
    (
        DEVICE,
        'station_name = "Conference Room 1"',
        'station_name = "Room\\u0007"',
        f"{DEVICE}: station_name: contains a control character U+0007 at position 5, "
        "which XML 1.0 cannot carry",
    ),
    (
        DEVICE,
        'user_id = "1000"',
        'user_id = "10 00"',
        f"{DEVICE}: lines[1].user_id: '10 00' is not a SIP user id",
    ),
    (DEVICE, "em_enabled = true", "em_enabled = true\ncolour = 1", f"{DEVICE}: colour: unknown field"),
    (
        DEVICE,
        "[[speed_dials]]",
        '[[lines]]\nnumber = 1\nuser_id = "9"\n[[speed_dials]]',
        f"{DEVICE}: lines: line number 1 is used twice",
    ),
    (
        DEVICE,
        "key = 5",
        "key = 1",
        f"{DEVICE}: line_keys: key (a key is either a line or a BLF/service key) 1 is used twice",
    ),
    (DEVICE, 'model = "SPA525G2"', 'model = "SPA525G2', f"{DEVICE}: is not valid TOML"),
    (
        "users/alice.toml",
        'em_profiles = ["alice"]',
        'em_profiles = ["carol"]',
        "users/alice.toml: em_profiles: no EM profile 'carol' (em_profiles/carol.toml)",
    ),
    (
        "users/alice.toml",
        'default_profile = "alice"',
        'default_profile = "bob"',
        "users/alice.toml: default_profile: 'bob' is not in em_profiles",
    ),
    (
        "users/alice.toml",
        'em_profiles = ["alice"]',
        "em_profiles = [1]",
        "users/alice.toml: em_profiles: must be a list of strings",
    ),
    (
        "em_profiles/alice.toml",
        "number = 1",
        "number = 13",
        "em_profiles/alice.toml: lines[1].number: must be between 1 and 12, not 13",
    ),
    ("site.toml", 'realm = "prov.example.com"', "", "site.toml: site.realm: is required"),
    (
        "site.toml",
        'em_user_domain = "@example.com"',
        'em_user_domain = "example.com"',
        "site.toml: site.em_user_domain: 'example.com' is not a domain with its leading @ (@example.com)",
    ),
    (
        "site.toml",
        'max_login_time = "8:00"',
        'max_login_time = "200:00"',
        "site.toml: mobility.max_login_time: '200:00' is not a duration from 0:00 to 168:00 (H:MM)",
    ),
    (
        "site.toml",
        'multiple_login = "not_allowed"',
        'multiple_login = "sometimes"',
        "site.toml: mobility.multiple_login: 'sometimes' is not one of allowed, not_allowed, auto_logout",
    ),
    (
        "site.toml",
        'nonce_secret = "random"',
        'nonce_secret = "vault:x"',
        'site.toml: auth.nonce_secret: is not "random", "env:NAME" or "file:PATH" (value not shown)',
    ),
    (
        "site.toml",
        "periodic = 3600",
        "periodic = -1",
        "site.toml: resync.periodic: must be between 0 and 604800, not -1",
    ),
    (
        "site.toml",
        '("$PUID" ne "" and',
        '("$PUID" ne "" or',
        'site.toml: site.profile_rule: 1:154: "or" is not part of the rule language',
    ),
    (
        "site.toml",
        "http://127.0.0.1:8080/default.cfg",
        "http://127.0.0.1:8080/mobilephone.cfg",
        "site.toml: site.profile_rule: alternatives 1 (mobile) and 3 (default) both fetch /mobilephone.cfg",
    ),
    (
        "site.toml",
        "[--uid $PUID$PDOM --pwd $PPWD]",
        "[--uid $A --pwd $B]",
        "site.toml: site.profile_rule: alternative 2 sends --uid $A without $MUID or $PUID",
    ),
    (
        "site.toml",
        "/default.cfg",
        "/$PSN/default.cfg",
        "site.toml: site.profile_rule: alternative 3: the path /$PSN/default.cfg uses $PSN",
    ),
    (
        "site.toml",
        'rule_lint_ignore = ["plaintext-credentials"]',
        "",
        "site.toml: site.profile_rule: lint: 1:60: warning: credentials sent over plain http/tftp",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), CASES, ids=[c[3][:60] for c in CASES])
def test_validation_error(site: Path, file: str, old: str, new: str, expected: str) -> None:
    replace(site / file, old, new)
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(site)
    messages = [str(problem) for problem in raised.value.problems]
    assert any(message.startswith(expected) for message in messages), messages


def test_all_errors_are_reported_at_once(site: Path) -> None:
    replace(site / DEVICE, 'model = "SPA525G2"', 'model = "SPA999"')
    replace(site / "users/alice.toml", 'em_profiles = ["alice"]', 'em_profiles = ["carol"]')
    replace(site / "site.toml", "periodic = 3600", "periodic = -1")
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(site)
    files = {problem.file for problem in raised.value.problems}
    assert files == {DEVICE, "users/alice.toml", "site.toml"}
    # The unknown profile also leaves default_profile pointing nowhere: reported too.
    assert str(raised.value).startswith("4 problems in the profile directory:")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "devices/not-a-mac.toml",
            'model = "SPA502G"\nhost_user = "x"\n',
            "the file name must be 12 hexadecimal digits",
        ),
        ("devices/001122334455.txt", "", "is not a .toml file"),
        ("users/Alice.toml", 'em_profiles = ["alice"]\n', "the file name must be lower-case letters"),
        ("em_profiles/00aabbccddee.toml", "", ""),
    ],
)
def test_file_names(site: Path, name: str, content: str, expected: str) -> None:
    (site / name).write_text(content)
    if name.startswith("em_profiles/00aabbccddee"):
        (site / "devices/00aabbccddee.toml").write_text('model = "SPA502G"\nhost_user = "front-desk"\n')
        expected = "an EM profile may not have a device's name"
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(site)
    assert any(expected in str(problem) for problem in raised.value.problems)


def test_two_devices_cannot_share_a_host_user(site: Path) -> None:
    (site / "devices/00aabbccddee.toml").write_text('model = "SPA502G"\nhost_user = "conf-room-1"\n')
    with pytest.raises(ConfigError, match="'conf-room-1' is already the host user of 001122334455"):
        load_profile_directory(site)


def test_missing_site_and_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        load_profile_directory(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"site\.toml: is missing"):
        load_profile_directory(tmp_path)


def test_the_sample_site_is_valid() -> None:
    config = load_profile_directory(SAMPLE)
    assert [(r.kind, r.path) for r in config.routes] == [
        ("mobile", "/mobilephone.cfg"),
        ("host", "/hostphone.cfg"),
        ("default", "/default.cfg"),
    ]
    assert config.site.mobility.max_login_minutes == 480

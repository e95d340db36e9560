"""The rule impact preview: old and new outcome per phone, grouped evaluation that never changes
an answer."""

from __future__ import annotations

import random

from spaprov.rules import Rule, evaluate, normalize_state, parse
from spaprov.rules.impact import Outcome, impact

SEED = (
    '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "") ? [--uid $MUID$PDOM --pwd $MPWD] '
    'http://p/mobilephone.cfg | ("$PUID" ne "" and "$PPWD" ne "") ? [--uid $PUID$PDOM --pwd $PPWD] '
    "http://p/hostphone.cfg | http://p/default.cfg"
)


def state(mac: str, user: str = "", host: str = "") -> dict[str, str]:
    return normalize_state(
        {
            "MA": mac,
            "EMS": "mobile" if user else "host",
            "MUID": user,
            "MPWD": "x" if user else "",
            "PUID": host,
            "PPWD": "y" if host else "",
            "PDOM": "@example.com",
        }
    )


PHONES = [
    ("000000000001", state("000000000001", "alice", "desk-1")),
    ("000000000002", state("000000000002", "bob", "desk-2")),
    ("000000000003", state("000000000003", "", "desk-3")),
    ("000000000004", state("000000000004")),
]


def test_each_phone_gets_its_url_and_kind_under_both_rules() -> None:
    new = SEED.replace("mobilephone.cfg", "mobile/$MA.cfg")
    result = impact(parse(SEED), parse(new), PHONES)
    by_key = {phone.key: phone for phone in result.phones}
    assert by_key["000000000001"].old == Outcome("http://p/mobilephone.cfg", "mobile")
    assert by_key["000000000001"].new == Outcome("http://p/mobile/000000000001.cfg", "mobile")
    host = Outcome("http://p/hostphone.cfg", "host")
    assert by_key["000000000003"].old == by_key["000000000003"].new == host
    assert by_key["000000000004"].new == Outcome("http://p/default.cfg", "default")
    assert result.changed == 2
    assert [phone.key for phone in result.phones] == [key for key, _ in PHONES]


def test_an_unchanged_rule_changes_nothing() -> None:
    assert impact(parse(SEED), parse(SEED), PHONES).changed == 0


def test_a_rule_that_skips_says_none() -> None:
    only_mobile = '("$EMS" eq "mobile") ? [--uid $MUID$PDOM --pwd $MPWD] http://p/m.cfg'
    result = impact(parse(SEED), parse(only_mobile), PHONES)
    assert result.phones[3].new == Outcome(None, "none")
    assert result.changed == 4  # the mobile phones to m.cfg, the others to nothing


def test_users_compared_only_with_empty_text_share_one_group() -> None:
    phones = [(f"{i:012x}", state(f"{i:012x}", f"user{i}", f"desk-{i}")) for i in range(500)]
    phones += [(f"{i:012x}", state(f"{i:012x}", "", f"desk-{i}")) for i in range(500, 800)]
    result = impact(parse(SEED), parse(SEED.replace("default.cfg", "d.cfg")), phones)
    assert result.groups == 2  # logged in / host only: user and host names do not matter
    assert result.changed == 0


def test_a_macro_compared_with_a_name_keeps_that_name_apart() -> None:
    first = '("$MUID" eq "alice") ? [--uid $MUID$PDOM --pwd $MPWD] http://p/vip.cfg | '
    vip = first + SEED
    result = impact(parse(SEED), parse(vip), PHONES)
    assert result.phones[0].new == Outcome("http://p/vip.cfg", "mobile")
    assert result.phones[1].new == Outcome("http://p/mobilephone.cfg", "mobile")
    assert result.changed == 1


def one_by_one(rule: Rule, values: dict[str, str]) -> Outcome:
    """The outcome from a plain evaluation of this one phone."""
    result = evaluate(rule, values)
    if result.alternative is None:
        return Outcome(None, "none")
    options = rule.alternatives[result.alternative].options
    uid = options.uid.text if options and options.uid else ""
    return Outcome(result.url, "mobile" if "$MUID" in uid else "host" if "$PUID" in uid else "default")


def test_a_mac_in_the_url_is_expanded_per_phone_without_more_groups() -> None:
    with_mac = SEED.replace(".cfg", ".cfg?mac=$MA")
    phones = [(f"{i:012x}", state(f"{i:012x}", f"user{i}" if i % 2 else "", f"desk-{i}")) for i in range(400)]
    result = impact(parse(SEED), parse(with_mac), phones)
    assert result.groups == 2 and result.changed == 400
    assert result.phones[3].new == Outcome("http://p/mobilephone.cfg?mac=000000000003", "mobile")
    assert result.phones[4].new == Outcome("http://p/hostphone.cfg?mac=000000000004", "host")


def test_grouping_gives_the_same_answers_as_evaluating_each_phone() -> None:
    rules = [
        SEED,
        SEED.replace("mobilephone.cfg", "$MA/m.cfg"),
        SEED.replace(".cfg", ".cfg?mac=$MAC"),
        '("$MUID" eq "u3") ? [--uid $MUID --pwd $MPWD] http://p/a | ("$(MUID:0:1)" eq "u") ? http://p/b | http://p/c',
        '($PN gt 5) ? http://p/big | ("$PUID" ne "desk-1") ? [--uid $PUID --pwd $PPWD] http://p/h | http://p/d',
    ]
    chooser = random.Random(12)
    phones = []
    for i in range(300):
        user, host = chooser.choice(["", "u1", "u3", "x"]), chooser.choice(["", "desk-1", "d2"])
        values = state(f"{i:012x}", user, host)
        values["PN"] = chooser.choice(["3", "7", "x"])
        phones.append((f"{i:012x}", values))
    for old in rules:
        for new in rules:
            result = impact(parse(old), parse(new), phones)
            for phone, (_, values) in zip(result.phones, phones, strict=True):
                assert phone.old == one_by_one(parse(old), values)
                assert phone.new == one_by_one(parse(new), values)

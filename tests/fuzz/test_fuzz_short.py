"""The CI part of the fuzzing campaign: a short, seeded run of every target, and the minimised
inputs of what the campaign found.

Each target lets through only its entry point's documented errors; anything else escaping it is
a finding, and these tests want none.  The runs are deterministic but for the random part of the
nonces the Digest target's server issues.  The long runs (≥ 1,000,000 inputs per target) are made
with `python python -m tests.fuzz TARGET --runs 1000000`.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable

import pytest

from spaprov.auth import CredentialStore
from spaprov.rules import StateError, normalize_state
from tests.fuzz.engine import Campaign, Mutator, minimize, signature
from tests.fuzz.targets import TARGETS, CsvTarget, Target, encode_rule_input
from tests.helpers.site import SAMPLE as SAMPLE_SITE

SEED = 20261130
# A few seconds per target on one core: the TOML loader and the CSV importer are the slow ones.
RUNS = {
    "digest": 10_000,
    "basic": 10_000,
    "rules": 4_000,
    "toml": 2_000,
    "csv": 3_000,
    "tftp": 20_000,
    "sip": 20_000,
}


def describe(campaign: Campaign) -> str:
    lines = [f"{campaign.finding_count} unexpected exceptions in {campaign.runs} inputs:"]
    for finding in campaign.findings.values():
        data = finding.data
        if len(data) < 4096:  # python -m tests.fuzz minimises big ones; here it would take minutes
            data = minimize(campaign.target, data, finding.signature, budget=2_000, seconds=10.0)
        lines += [
            f"{finding.count} x {finding.signature}: {finding.message[:200]}",
            f"  input: {data[:300]!r}",
        ]
        lines.append("  " + finding.traceback.strip().splitlines()[-1])
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_short_fuzz_run_finds_no_unexpected_exception(name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="spaprov")  # thousands of refused attempts
    with TARGETS[name]() as target:
        campaign = Campaign(target)
        for data in target.seeds():  # the real inputs themselves first
            campaign.run_one(data)
        campaign.run(iter(Mutator(target.seeds(), target.dictionary(), seed=SEED)), RUNS[name])
        assert campaign.runs == RUNS[name] + len(target.seeds())
        if campaign.findings:
            pytest.fail(describe(campaign), pytrace=False)


def _digest_with(field: bytes, value: bytes) -> Callable[[Target], bytes]:
    """A genuine header (a nonce this target's server issued) with one field's value replaced."""

    def build(target: Target) -> bytes:
        return re.sub(rb'(%s=")[^"]*(")' % field, rb"\g<1>" + value + rb"\g<2>", target.seeds()[0])

    return build


def _fixed(data: bytes) -> Callable[[Target], bytes]:
    return lambda target: data


SAMPLE_SITE_TOML = (SAMPLE_SITE / "site.toml").read_bytes()
# Minimised inputs of what the campaign found — by the fuzzer, or (marked "triage") written while
# minimising a fuzzer finding, for the same fault by another path — kept so each stays fixed:
# target, input, and what it did before its fix.
FOUND = {
    # a CR in the phone's challenge was copied into spaprov's Authorization header (SIP injection)
    "sip-cr-in-challenge-realm": (
        "sip",
        _fixed(b'SIP/2.0 407\nProxy-Authenticate:Digest realm="\r",nonce="1",m=M'),
    ),
    "sip-superscript-cseq": ("sip", _fixed(b"SIP/2.0 100\nCSeq:\xc2\xb2")),  # ValueError from int()
    "digest-non-ascii-opaque": (  # TypeError from hmac.compare_digest: a 500, not counted
        "digest",
        _fixed(
            b'Digest username="a", realm="spaprov-fuzz", nonce="n", uri="/mobilephone.cfg", '
            b'response="0", opaque="\xc3\xa9"'
        ),
    ),
    "digest-non-ascii-response": ("digest", _digest_with(b"response", b"\xc3\xa9")),  # TypeError
    "digest-0xff-cnonce": ("digest", _digest_with(b"cnonce", b"\xff")),  # UnicodeEncodeError
    "basic-non-ascii-credentials": ("basic", _fixed(b"\x00Basic \xc3\xa9")),  # ValueError: a 500
    "basic-password-over-4096": (  # issue item 9 (found again): passlib's PasswordSizeError, a 500
        "basic",
        _fixed(b"\x00Basic " + base64.b64encode(b"admin:" + b"p" * 4097)),
    ),
    "rule-port-superscript-digit": ("rules", _fixed(b"\x00p:\xc2\xb2/")),  # ValueError from int()
    "rule-port-4301-digits": ("rules", _fixed(b"\x00http://x:" + b"9" * 4301 + b"/")),  # triage
    "rule-expanded-port-superscript-digit": (  # ValueError from split_url's int(), at evaluation
        "rules",
        _fixed(encode_rule_input("http://x:$A/", {"A": "\u00b2"})),
    ),
    "rule-unknown-macro-port-superscript-digit": ("rules", _fixed(b"\x00t$:\xc2\xb2/")),  # the same
    "rule-4301-digit-number-in-state": (  # ValueError from classify()'s int()
        "rules",
        _fixed(encode_rule_input("($A gt 1)? /x", {"A": "6" * 4301})),
    ),
    "rule-4301-digit-number-in-rule": (  # triage: ValueError from classify() while parsing
        "rules",
        _fixed(encode_rule_input("$A gt " + "6" * 4301, {}, control=3)),  # 3: a trigger
    ),
    "rule-format-round-trip": ("rules", _fixed(b"\x00(R ge())?")),  # format_rule: "(R ge ())?" won't parse
    "rule-expansion-bomb": (  # issue item 4: 2,000 x "$A" of 1,000 characters, 2 MB out of 4 KB in
        "rules",
        _fixed(encode_rule_input("http://x/" + "$A" * 2000, {"A": "a" * 1000})),
    ),
    "toml-deep-nesting": ("toml", _fixed(b"\x02display_name = " + b"[" * 5000)),  # RecursionError
    "toml-4301-digit-integer": ("toml", _fixed(b"\x02n = " + b"2" * 4301)),  # tomllib's own ValueError
    "toml-profile-rule-superscript-port": (  # ValueError out of load_profile_directory
        "toml",
        _fixed(b"\x00" + SAMPLE_SITE_TOML.replace(b"127.0.0.1:8080/default", b"127.0.0.1:\xc2\xb2/default")),
    ),
    "csv-user-id-with-two-dots": (  # the target's own check took users/i..toml for a "..": fixed there
        "csv",
        _fixed(b"\x05\xef\xbb\xbfid,display_name,em_profiles\ni.,,alice"),
    ),
    "csv-password-over-4096": (  # passlib's PasswordSizeError out of `spaprov import`: a traceback
        "csv",
        _fixed(b"\x04id,display_name,em_profiles,password\ncarol,Carol,alice," + b"p" * 4097 + b"\n"),
    ),
    "csv-field-over-128-kib": (  # csv.Error out of `spaprov import`: a traceback
        "csv",
        _fixed(b"\x00id,display_name\nx," + b"a" * 131_073 + b"\n"),
    ),
}


@pytest.mark.parametrize("case", sorted(FOUND))
def test_what_the_long_runs_found_stays_fixed(case: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="spaprov")
    name, build = FOUND[case]
    with TARGETS[name]() as target:
        data = build(target)
        finding = Campaign(target).run_one(data)
        if finding is not None:
            pytest.fail(f"{finding.signature}: {finding.message[:300]}\n{finding.traceback}", pytrace=False)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("digest", b"Basic YWRtaW46eA=="),  # AuthHeaderError, then a 400 verdict
        ("digest", b'Digest username="x", realm="r", nonce="n", uri="/", response="0"'),
        ("basic", b"\x01Basic !!!"),  # ApiError 400
        ("basic", b"\x00Basic " + b"YWRtaW46d3Jvbmc="),  # ApiError 401: admin:wrong
        ("rules", b"\x00(("),  # RuleSyntaxError
        ("rules", encode_rule_input("http://x/$A", {"NOPE": "1"})),  # StateError
        ("toml", b"\x00not toml ["),  # ConfigError
        ("csv", b"\x00id,unknown\nx,y\n"),  # a reported row error, not an exception
    ],
)
def test_documented_errors_are_not_findings(name: str, data: bytes) -> None:
    with TARGETS[name]() as target:
        target(data)


def test_the_harness_reports_and_minimises_an_escaping_exception() -> None:
    def target(data: bytes) -> None:
        if b"\xff" in data and b"!" in data:
            raise KeyError("boom")

    campaign = Campaign(target)
    campaign.run(iter(Mutator([b"hello, world!"], [b"\xff"], seed=SEED)), 2_000)
    assert len(campaign.findings) == 1
    finding = next(iter(campaign.findings.values()))
    assert finding.signature.startswith("KeyError at ")
    assert finding.count > 1
    assert sorted(minimize(target, finding.data, finding.signature)) == sorted(b"\xff!")


@pytest.mark.parametrize(
    ("name", "entry_point"),
    [
        ("digest", "parse_authorization"),
        ("basic", "admin_authenticate"),
        ("rules", "evaluate"),
        ("toml", "load_profile_directory"),
        ("csv", "bulk.import_rows"),
    ],
)
def test_a_target_lets_undocumented_exceptions_escape(
    name: str, entry_point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("undocumented")

    with TARGETS[name]() as target:
        monkeypatch.setattr(f"tests.fuzz.targets.{entry_point}", broken)
        campaign = Campaign(target)
        for data in target.seeds():
            campaign.run_one(data)
        assert [finding.kind for finding in campaign.findings.values()] == ["ZeroDivisionError"]


def test_the_toml_target_drives_the_servers_site_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A running server reads the directory through SiteTree, not the full loader: the target
    feeds the tree too and holds it to the full load's answer, so a tree that missed the
    change is a finding."""
    with TARGETS["toml"]() as target:
        monkeypatch.setattr("spaprov.config.tree.SiteTree.refresh", lambda *args, **kwargs: set())
        campaign = Campaign(target)
        campaign.run_one(b"\x02" + b'display_name = "x"\nem_profiles = ["nope"]\n')
        assert [finding.kind for finding in campaign.findings.values()] == ["AssertionError"]


def test_the_csv_target_reaches_the_journaled_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validated rows go on into bulk._write (re-validation, password hashing) up to the
    journal's commit, which the target records instead of installing."""
    hashed: list[int] = []
    original = CredentialStore.password_files

    def counting(self: CredentialStore, passwords: dict[str, str]) -> object:
        hashed.append(len(passwords))
        return original(self, passwords)

    monkeypatch.setattr(CredentialStore, "password_files", counting)
    with CsvTarget() as target:
        assert isinstance(target, CsvTarget)
        before = {path: path.read_bytes() for path in target.root.rglob("*") if path.is_file()}
        for data in target.seeds():
            target(data)
        assert target.writes == len(target.seeds()) and hashed
        after = {path: path.read_bytes() for path in target.root.rglob("*") if path.is_file()}
        assert {p: b for p, b in after.items() if p.name != ".spaprov.lock"} == {
            p: b for p, b in before.items() if p.name != ".spaprov.lock"
        }  # nothing installed


def test_the_mutator_is_deterministic() -> None:
    first = Mutator([b"seed one", b"seed two"], [b"$A"], seed=7)
    second = Mutator([b"seed one", b"seed two"], [b"$A"], seed=7)
    assert [first.next() for _ in range(500)] == [second.next() for _ in range(500)]


def test_signature_names_the_innermost_spaprov_frame() -> None:
    with pytest.raises(StateError) as raised:
        normalize_state({"NOPE": "1"})
    assert signature(raised.value).startswith("StateError at spaprov/rules/macros.py:")

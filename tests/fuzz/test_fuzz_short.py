"""The CI part of the fuzzing campaign: a short, seeded (so deterministic) run of every target.

Each target lets through only its entry point's documented errors; anything else escaping it is
a finding, and this test wants none.  The long runs (≥ 1,000,000 inputs per target) are made
with `python bench/fuzz.py TARGET --runs 1000000`.
"""

from __future__ import annotations

import logging

import pytest

from spaprov.rules import StateError, normalize_state
from tests.fuzz.engine import Campaign, Mutator, minimize, signature
from tests.fuzz.targets import TARGETS, encode_rule_input

SEED = 20261130
# A few seconds per target on one core: the TOML loader and the CSV importer are the slow ones.
RUNS = {"digest": 10_000, "basic": 10_000, "rules": 4_000, "toml": 2_000, "csv": 3_000}


def describe(campaign: Campaign) -> str:
    lines = [f"{campaign.finding_count} unexpected exceptions in {campaign.runs} inputs:"]
    for finding in campaign.findings.values():
        data = finding.data
        if len(data) < 4096:  # bench/fuzz.py minimises big ones; here it would take minutes
            data = minimize(campaign.target, data, finding.signature, budget=2_000)
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


def test_the_mutator_is_deterministic() -> None:
    first = Mutator([b"seed one", b"seed two"], [b"$A"], seed=7)
    second = Mutator([b"seed one", b"seed two"], [b"$A"], seed=7)
    assert [first.next() for _ in range(500)] == [second.next() for _ in range(500)]


def test_signature_names_the_innermost_spaprov_frame() -> None:
    with pytest.raises(StateError) as raised:
        normalize_state({"NOPE": "1"})
    assert signature(raised.value).startswith("StateError at spaprov/rules/macros.py:")

"""Item 4: macro-expansion memory bomb.

`"http://x/" + "$A" * 8176` evaluated with a 10,000-character A expanded to 82 million
characters (a 164 MB answer) and `split_url`'s cache kept it alive.  Expansion is now bounded
(one string: MAX_EXPANDED_VALUE, one evaluation: MAX_EXPANSION_TOTAL) and refused before anything
is built, and the rule caches hold only short keys.
"""

from __future__ import annotations

import gc
import secrets
import subprocess
import sys
import tracemalloc
from pathlib import Path

import httpx
import pytest

from spaprov.auth.admins import AdminAccounts
from spaprov.rules import ExpansionTooLarge, evaluate, parse
from spaprov.rules.macros import MAX_EXPANDED_VALUE, MAX_EXPANSION_TOTAL
from tests.helpers.rule_corpus import SEED_RULE
from tests.helpers.site import ServerFactory

VIEWER = ("viewer", "viewer-secret")
BOMB_RULE = "http://x/" + "$A" * 8176  # 16,361 characters: under the parser's 16 KiB limit


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.slow
async def test_viewer_cannot_grow_the_server_with_a_macro_bomb(start: ServerFactory, site: Path) -> None:
    AdminAccounts(site / "admins.toml").set(VIEWER[0], "viewer", VIEWER[1])
    server = await start(site)
    url = str(server.make_url("/api/v1/rules/eval"))
    async with httpx.AsyncClient(auth=VIEWER, timeout=60) as client:
        warm = await client.post(url, json={"rule": SEED_RULE, "state": {"EMS": "mobile"}})
        assert warm.status_code == 200, warm.text
        gc.collect()
        before = rss_bytes()
        for n in range(20):
            # a distinct value each time: an unbounded cache would keep every one of them
            body = {"rule": BOMB_RULE, "state": {"A": f"{n:05d}" + "a" * 9995}}
            answer = await client.post(url, json=body)
            assert answer.status_code == 400, answer.text[:200]
            assert len(answer.content) < 4096
            error = answer.json()["error"]
            assert (error["status"], error["code"]) == (400, "expansion_too_large")
            assert set(error) == {"status", "code", "message", "details"}
            assert "alternative 1: the URL would expand to 81,760,009 characters" in error["message"]
            assert f"the limit is {MAX_EXPANDED_VALUE:,}" in error["message"]
        gc.collect()
        growth = rss_bytes() - before
        assert growth < 50 * 1024 * 1024, f"RSS grew by {growth / 2**20:.0f} MB"
        still = await client.post(url, json={"rule": SEED_RULE, "state": {"EMS": "mobile"}})
        assert still.status_code == 200 and still.json() == warm.json()


def test_evaluate_refuses_before_expanding() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ExpansionTooLarge) as raised:
            evaluate(BOMB_RULE, {"A": "a" * 10_000})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # the parse of a 16 KiB rule; never the 82 MB expansion
    assert (raised.value.size, raised.value.limit) == (81_760_009, MAX_EXPANDED_VALUE)
    assert raised.value.where == "alternative 1: the URL"


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ('( "$A$A" eq "x" )? /p', "alternative 1, comparison 1: the left operand"),
        ("( $B gt 1 )? /p | ( 1 lt $A$A )? /q", "alternative 2, comparison 1: the right operand"),
        ('[--uid u --pwd "$A$A"]http://x/p', "alternative 1: --pwd"),
        ('( "" ne "$B" )? [--uid $A$A --pwd p]/p', "alternative 1: --uid"),
        ('( $B eq 1 )? ( GPP_C = "$A$A" )!', "alternative 1: the value assigned to GPP_C"),
    ],
)
def test_every_expanded_string_is_bounded(rule: str, where: str) -> None:
    state = {"A": "a" * 3000, "B": "1"}  # 3,000 fits; twice that does not
    assert evaluate("/p$A", state).path == "/p" + "a" * 3000
    with pytest.raises(ExpansionTooLarge) as raised:
        evaluate(rule, state, trace=True)
    assert raised.value.where == where and raised.value.size == 6000


def test_the_whole_evaluation_is_bounded() -> None:
    many = " | ".join(f'( "$A" eq "{n}" )? /p{n}' for n in range(40)) + " | /end"
    state = {"A": "a" * 2000}  # each operand fits, 40 of them do not
    with pytest.raises(ExpansionTooLarge) as raised:
        evaluate(many, state)
    assert raised.value.limit == MAX_EXPANSION_TOTAL
    assert raised.value.where == "the rule's expanded strings together"
    assert evaluate(many, {"A": "a" * 1000}).path == "/end"  # 40,000 characters in all: fine


def test_substring_macros_count_what_they_take() -> None:
    state = {"A": "a" * 4000}
    assert evaluate("/$(A:0:50)$(A:10)", state).path == "/" + "a" * 50 + "a" * 3990
    with pytest.raises(ExpansionTooLarge):
        evaluate("/$(A:0:50)$(A:10)$(A:3900:200)", state)


def test_huge_numbers_are_a_clear_error_rather_than_a_crash() -> None:
    digits = "9" * 5000  # beyond Python's int conversion limit (4,300 digits)
    rule = parse(f"( $A gt {digits} )? /big | /small")  # raised ValueError, not RuleSyntaxError
    with pytest.raises(ExpansionTooLarge) as raised:
        evaluate(rule, {"A": "1"})
    assert raised.value.where == "alternative 1, comparison 1: the right operand"


@pytest.mark.slow
def test_rule_caches_keep_no_long_texts() -> None:
    """500 distinct rules with a 4,000-character URL (under every limit) leave nothing behind:
    before, the parsed-rule, template and split-URL caches kept each of them (~10 MB)."""
    gc.collect()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        for n in range(500):
            tail = secrets.token_hex(1995)  # 3,990 characters
            result = evaluate(f"http://x.example/{n:04d}{tail}", {"EMS": "mobile"})
            assert result.path is not None and len(result.path) == 3995
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert retained - baseline < 2 * 1024 * 1024, f"{(retained - baseline) / 2**20:.1f} MB retained"


def test_cli_rule_eval_reports_the_bomb(tmp_path: Path) -> None:
    rule_file = tmp_path / "bomb.rule"
    rule_file.write_text(BOMB_RULE)
    done = subprocess.run(
        [sys.executable, "-m", "spaprov", "rule", "eval", f"@{rule_file}", "--set", "A=" + "a" * 10_000],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "error: alternative 1: the URL would expand to 81,760,009 characters" in done.stderr
    assert "Traceback" not in done.stderr

"""`spaprov rule …` run as a real subprocess, as an admin would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.rule_corpus import SEED_RULE

SPAPROV = [sys.executable, "-m", "spaprov"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SPAPROV, *args], capture_output=True, text=True, input=stdin, timeout=60)


def test_eval_json_gives_the_mobile_url_and_digest_user() -> None:
    done = run(
        "rule",
        "eval",
        SEED_RULE,
        "--set",
        "EMS=mobile",
        "--set",
        "MUID=alice",
        "--set",
        "MPWD=1234",
        "--set",
        "PDOM=@example.com",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "alternative": 0,
        "url": "http://domain.com/mobilephone.cfg",
        "scheme": "http",
        "server": "domain.com",
        "port": 80,
        "path": "/mobilephone.cfg",
        "query": None,
        "options": {
            "uid": "alice@example.com",
            "pwd": "1234",
            "key": None,
            "post": None,
            "alias": None,
            "delta": False,
        },
        "assignments": [],
        "errors": [],
    }


def test_eval_accepts_flat_profile_names_and_traces() -> None:
    done = run(
        "rule",
        "eval",
        SEED_RULE,
        "--set",
        "EM_Login_State=host",
        "--set",
        "EM_Phone_User_ID=room",
        "--set",
        "EM_Phone_Password=pw",
        "--set",
        "EM_User_Domain=@example.com",
        "--json",
        "--trace",
    )
    result = json.loads(done.stdout)
    assert result["alternative"] == 1
    assert result["options"]["uid"] == "room@example.com"
    assert [step["matched"] for step in result["trace"]] == [False, True]
    assert result["trace"][0]["comparisons"][0] == {
        "left": "host",
        "op": "eq",
        "right": "mobile",
        "result": False,
        "error": None,
    }


def test_eval_human_output_masks_the_password_unless_asked() -> None:
    args = ["rule", "eval", SEED_RULE, "--set", "EMS=mobile", "--set", "MUID=alice", "--set", "MPWD=s3cr3t"]
    masked = run(*args)
    assert masked.returncode == 0
    assert "alternative 1 of 3 applies" in masked.stdout
    assert "s3cr3t" not in masked.stdout
    assert "s3cr3t" in run(*args, "--show-secrets").stdout


def test_eval_refuses_unknown_state_names() -> None:
    done = run("rule", "eval", SEED_RULE, "--set", "EMX=mobile")
    assert done.returncode == 2
    assert "unknown phone-state name 'EMX'" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_prints_position_rule_and_caret_and_exits_1() -> None:
    done = run("rule", "check", '("$EMS" eq "mobile") http://x/m.cfg')
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        '1:22: expected "?" after the condition',
        '("$EMS" eq "mobile") http://x/m.cfg',
        " " * 21 + "^",
    ]


def test_check_reads_a_file_and_stdin(tmp_path: Path) -> None:
    rule_file = tmp_path / "rule.txt"
    rule_file.write_text(SEED_RULE + "\n")
    assert run("rule", "check", f"@{rule_file}").stdout.strip() == "ok: 3 alternatives"
    assert run("rule", "check", "@-", stdin=SEED_RULE).returncode == 0
    missing = run("rule", "check", f"@{tmp_path / 'nope.txt'}")
    assert missing.returncode == 2 and "No such file" in missing.stderr


def test_check_knows_rule_kinds() -> None:
    assert run("rule", "check", "--kind", "trigger", "$REGTMR1 gt 300 and $PRVTMR ge 600").returncode == 0
    assert run("rule", "check", "--kind", "upgrade", "[--key k] /fw.bin").returncode == 1


def test_lint_exits_1_with_warnings_and_0_when_clean() -> None:
    noisy = run("rule", "lint", "($SWVER < 7.5.2b)? [--uid $MUID --pwd secret] http://x/a | /b")
    assert noisy.returncode == 1
    assert "[xml-escape]" in noisy.stdout and "[literal-password]" in noisy.stdout
    assert run("rule", "lint", "https://x/a.cfg").returncode == 0  # no site: nothing to identify


def test_lint_against_a_site_names_routes_that_cannot_identify_a_phone(site: Path) -> None:
    profiles = ("--profiles", str(site))
    rule = "[--uid $MUID$PDOM --pwd $MPWD] https://x/mobilephone.cfg"
    unidentified = run("rule", "lint", *profiles, rule)
    assert unidentified.returncode == 1 and "[unidentified-phone]" in unidentified.stdout
    assert run("rule", "lint", *profiles, rule + "?mac=$MA").returncode == 0
    unserved = run("rule", "lint", *profiles, "https://x/elsewhere.cfg")
    assert unserved.returncode == 1 and "[unserved-path]" in unserved.stdout
    assert "[unidentified-phone]" not in unserved.stdout
    missing = run("rule", "lint", "--profiles", str(site / "nope"), rule)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_fmt_prints_the_canonical_rule() -> None:
    done = run("rule", "fmt", '(  $SWVER<7.5.2b )?(a="1";)![ --key  k ]/a|/b')
    assert done.returncode == 0
    assert done.stdout.strip() == '($SWVER lt 7.5.2b)? (GPP_A = "1")! [--key k] /a | /b'

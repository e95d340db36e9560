"""Every valid example of the corpus (corpus.py) parses; most are evaluated against a stated phone state."""

from __future__ import annotations

from typing import Any

import pytest

from spaprov.rules import RuleSyntaxError, evaluate, parse
from tests.helpers.rule_corpus import CORPUS, VALID

MAC = "000E08012345"


@pytest.mark.parametrize("example", VALID, ids=lambda e: f"#{e.number}")
def test_valid_example_parses(example: Any) -> None:
    rule = parse(example.text, example.kind)
    assert rule.alternatives


@pytest.mark.parametrize("number", [32, 33, 43, 44])
def test_template_placeholders_with_spaces_are_rejected(number: int) -> None:
    example = CORPUS[number - 1]
    with pytest.raises(RuleSyntaxError):
        parse(example.text, example.kind)


# (example number, phone state, expected fields of the evaluation)
CASES: list[tuple[int, dict[str, str], dict[str, Any]]] = [
    (
        1,
        {"PSN": "525G2"},
        {"url": "/spa525G2.cfg", "scheme": "tftp", "server": None, "port": 69, "path": "/spa525G2.cfg"},
    ),
    (
        2,
        {"MA": MAC},
        {"url": "tftp://192.168.1.200/spa000e08012345.cfg", "server": "192.168.1.200", "port": 69},
    ),
    (
        3,
        {"MAC": "00:0e:08:01:23:45"},
        {"url": "http://remote.server.com/Linksys/000e08012345.cfg", "port": 80},
    ),
    (5, {"REGTMR1": "0"}, {"alternative": 0, "url": "http://p.tel.com/has-reg.cfg"}),
    (5, {"REGTMR1": "45"}, {"alternative": 1, "path": "/lost-reg", "query": "", "options.post": "a"}),
    (
        6,
        {"CCERT": "Installed", "MA": MAC},
        {"alternative": 0, "url": "https://p.tel.com/config?", "port": 443},
    ),
    (6, {"CCERT": "Not Installed", "MA": MAC}, {"alternative": 1, "query": "Linksys000E08012345"}),
    (
        7,
        {"A": ""},
        {"alternative": 0, "assignments": (("Line_Enable_1_", "No"),), "url": "https://p.tel.com/init-prov"},
    ),
    (7, {"A": "Provisioned"}, {"alternative": 1, "url": "https://p.tel.com/configs", "assignments": ()}),
    (8, {"MA": MAC}, {"options.alias": "b", "path": "/account/spa000e08012345.xml"}),
    (11, {}, {"options.key": "SecretPhrase1234", "server": "prov.telco.com"}),
    (12, {"SA": "s3cret"}, {"options.key": "s3cret"}),
    (13, {}, {"options.post": "f", "path": "/cpe/resyncs", "query": ""}),
    (17, {}, {"server": "prov.telco.com", "port": 6900, "scheme": "tftp"}),
    (19, {}, {"scheme": "tftp", "server": "192.168.1.130", "path": "/profiles/init.cfg"}),
    (
        21,
        {"D": "acme", "E": "phone7"},
        {"url": "http://neptune.speak.net:8080/prov/acme/phone7.cfg", "port": 8080},
    ),
    (
        23,
        {"A": "k3y", "B": "cust"},
        {
            "options.key": "k3y",
            "scheme": "tftp",
            "server": "tftp.callme.com",
            "path": "/profile/cust/spa2000.cfg",
        },
    ),
    (24, {"MA": MAC}, {"server": "spa-9000-ip-address", "port": 69, "path": "/cfg/init_000e08012345.xml"}),
    (
        26,
        {"EMS": "mobile", "MUID": "alice", "MPWD": "1234", "PDOM": "@10.74.121.51"},
        {"alternative": 0, "options.uid": "alice@10.74.121.51", "options.pwd": "1234", "port": 80},
    ),
    (26, {"EMS": "", "MUID": "alice", "MPWD": "1234"}, {"alternative": 1, "options.uid": None}),
    (27, {"SA": "u", "SB": "p"}, {"options.uid": "u", "options.pwd": "p", "scheme": "https"}),
    (28, {"SWVER": "2.0.5"}, {"alternative": 0, "path": "/sw/spa021024.bin"}),
    (28, {"SWVER": "2.0.6"}, {"alternative": None, "url": None}),
    (30, {"SWVER": "1.0.1"}, {"alternative": 0, "url": "/spa2000/1-00-02/spa.bin"}),
    (30, {"SWVER": "1.0.2"}, {"alternative": None}),
    (31, {"SWVER": "0.9.8"}, {"alternative": 0, "port": 42001}),
    (31, {"SWVER": "1.0"}, {"alternative": None}),
    (34, {"SWVER": "sip78xx.11-2-1MES-3"}, {"alternative": 1, "scheme": "http", "server": "SERVER_ADDRESS"}),
    (36, {"MA": MAC}, {"options.key": "secretphrase", "path": "/spa/000e08012345/rep.xml.enc"}),
    (
        38,
        {"PN": "SPA525G2", "MA": MAC, "SN": "CBT1234567"},
        {"options.delta": True, "path": "/reportPath/SPA525G2_000e08012345_CBT1234567.xml"},
    ),
    (39, {"REGTMR1": "301", "PRVTMR": "600"}, {"alternative": 0, "url": None}),
    (39, {"REGTMR1": "300", "PRVTMR": "600"}, {"alternative": None}),
    (41, {"REGTMR1": "500", "PRVTMR": "1201", "EXTIP": ""}, {"alternative": None}),
    (41, {"REGTMR1": "500", "PRVTMR": "1201", "EXTIP": "203.0.113.7"}, {"alternative": 0}),
    (42, {"SWVER": "7.5.5", "CCERT": "Installed"}, {"alternative": 0}),
    (42, {"SWVER": "2.0.5", "CCERT": "Installed"}, {"alternative": None}),
]


@pytest.mark.parametrize(
    ("number", "state", "expected"), CASES, ids=[f"#{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_example_evaluates_as_the_phone_would(
    number: int, state: dict[str, str], expected: dict[str, Any]
) -> None:
    example = CORPUS[number - 1]
    result = evaluate(example.text, state, kind=example.kind)
    for field, value in expected.items():
        if field.startswith("options."):
            assert getattr(result.options, field.removeprefix("options.")) == value, field
        else:
            assert getattr(result, field) == value, field


def test_unset_timer_is_a_reported_type_error_and_the_condition_is_false() -> None:
    result = evaluate(CORPUS[4].text, {})
    assert result.alternative == 1
    assert len(result.errors) == 1
    assert "$REGTMR1 is ''" in result.errors[0]


def test_mpp_version_string_is_a_type_error_not_a_crash() -> None:
    result = evaluate(CORPUS[33].text, {"SWVER": "7.5.5"}, kind="upgrade")
    assert result.alternative == 1
    assert "neither an integer nor a version" in result.errors[0]

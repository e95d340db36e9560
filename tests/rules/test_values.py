"""Integer and version ordering."""

from __future__ import annotations

import pytest

from spaprov.rules import evaluate
from spaprov.rules.values import Version, classify, compare


def order(a: str, b: str) -> int:
    left, right = classify(a), classify(b)
    assert left is not None and right is not None
    return compare(left, right)


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("7.5.2", "7.5.2b"),
        ("7.5.2b", "7.5.3"),
        ("7.4.8a", "7.4.8b"),
        ("2.0.3", "2.0.3(0412s)"),
        ("2.0.3(0412s)", "2.0.4"),
        ("1.0.31(b)", "1.0.33"),
        ("1.0", "1.0.1"),
        ("2.0.9", "2.0.10"),
        ("9.9", "10"),
        ("-1", "0"),
        ("299", "300"),
    ],
)
def test_ordering(smaller: str, larger: str) -> None:
    assert order(smaller, larger) == -1
    assert order(larger, smaller) == 1


@pytest.mark.parametrize(("a", "b"), [("1.0", "1.0.0"), ("7", "7.0"), ("2.0.3(b)", "2.0.3b"), ("007", "7")])
def test_equal(a: str, b: str) -> None:
    assert order(a, b) == 0


@pytest.mark.parametrize("text", ["", "abc", "1.", ".1", "1..2", "sip78xx.11-0-0MPP-7", "1.0 ", "v7"])
def test_not_a_number(text: str) -> None:
    assert classify(text) is None


def test_classification_keeps_kind_and_suffix() -> None:
    assert classify("300") == Version((300,))
    assert classify("2.0.3(0412s)") == Version((2, 0, 3), "0412s")


@pytest.mark.parametrize(
    ("swver", "expected"),
    [
        ("7.5.2", "/old"),
        ("7.5.2b", "/new"),
        ("7.5.1z", "/old"),
        ("7.5.5", "/new"),
        ("7.5.2(a)", "/old"),
        ("7.5.2(c)", "/new"),
    ],
)
def test_firmware_gate_in_a_rule(swver: str, expected: str) -> None:
    assert evaluate("($SWVER lt 7.5.2b)? /old | /new", {"SWVER": swver}).url == expected


def test_integer_compared_with_a_version_compares_as_that_version() -> None:
    assert evaluate("($SWVER ge 7)? /a | /b", {"SWVER": "7.0.0"}).url == "/a"
    assert evaluate("($SWVER gt 7)? /a | /b", {"SWVER": "7.0.0"}).url == "/b"

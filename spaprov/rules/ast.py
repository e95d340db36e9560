"""The parsed form of a rule: frozen dataclasses, compared without their source positions.

Positions (`Span`) are excluded from equality so that `parse(format(rule)) == rule` holds even
though the canonical text places everything at different columns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from spaprov.rules.macros import Template
from spaprov.rules.values import Version


class RuleKind(enum.Enum):
    """Which parameter a rule comes from; each allows a different subset of the language."""

    PROFILE = "profile"  # Profile_Rule, Profile_Rule_B/C/D
    UPGRADE = "upgrade"  # Upgrade_Rule: no [options]
    REPORT = "report"  # Report_Rule: one URL with options, --delta allowed
    TRIGGER = "trigger"  # Resync_Trigger_1/2: a bare condition


class Op(enum.Enum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"

    @property
    def is_ordering(self) -> bool:
        return self not in (Op.EQ, Op.NE)


SYMBOLIC_OPS: dict[str, Op] = {
    "=": Op.EQ,
    "!=": Op.NE,
    "!": Op.NE,
    "<": Op.LT,
    "<=": Op.LE,
    ">": Op.GT,
    ">=": Op.GE,
}


@dataclass(frozen=True)
class Span:
    line: int
    column: int


_NOWHERE = Span(1, 1)


@dataclass(frozen=True)
class Operand:
    """A quoted string (`"$EMS"`) or a bare value (`$REGTMR1`, `300`, `7.5.2b`)."""

    template: Template
    quoted: bool
    # A bare operand without macros is classified once, at parse time (None: not a number).
    constant: Version | None = field(default=None, compare=False, repr=False)
    span: Span = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Comparison:
    left: Operand
    op: Op
    right: Operand
    span: Span = field(default=_NOWHERE, compare=False, repr=False)
    written_op: str = field(default="", compare=False, repr=False)
    implicit_left: bool = field(default=False, compare=False, repr=False)


@dataclass(frozen=True)
class Condition:
    comparisons: tuple[Comparison, ...]
    span: Span = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Assignment:
    name: str
    value: Template
    span: Span = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Options:
    uid: Template | None = None
    pwd: Template | None = None
    key: Template | None = None
    post: Template | None = None
    alias: Template | None = None
    delta: bool = False
    span: Span = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Alternative:
    condition: Condition | None = None
    assignments: tuple[Assignment, ...] = ()
    options: Options | None = None
    url: Template | None = None
    span: Span = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Rule:
    alternatives: tuple[Alternative, ...]
    kind: RuleKind = RuleKind.PROFILE
    source: str = field(default="", compare=False, repr=False)

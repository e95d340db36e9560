"""The parsed form of a rule: frozen dataclasses, compared without their source positions.

Positions (`Span`) are excluded from equality so that `parse(format(rule)) == rule` holds even
though the canonical text places everything at different columns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

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

    def holds(self, order: int) -> bool:
        """Whether `left OP right` is true, given how left orders against right: `order` is
        negative, zero or positive, as values.compare returns.  Quoted strings (eq and ne only)
        pass 0 when equal, 1 when not.  The one definition of what each operator means."""
        if self is Op.EQ:
            return order == 0
        if self is Op.NE:
            return order != 0
        if self is Op.LT:
            return order < 0
        if self is Op.LE:
            return order <= 0
        if self is Op.GT:
            return order > 0
        return order >= 0


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

    # cached_property writes the instance __dict__ directly, so it works on a frozen dataclass
    # and stays out of equality.
    @cached_property
    def expansions(self) -> tuple[tuple[str, Template], ...]:
        """Every text an evaluation may expand, with where it is in words (for errors)."""
        found: list[tuple[str, Template]] = []
        for number, alternative in enumerate(self.alternatives, start=1):
            where = f"alternative {number}"
            if alternative.condition is not None:
                for index, comparison in enumerate(alternative.condition.comparisons, start=1):
                    found.append((f"{where}, comparison {index}: the left operand", comparison.left.template))
                    found.append(
                        (f"{where}, comparison {index}: the right operand", comparison.right.template)
                    )
            for assignment in alternative.assignments:
                found.append((f"{where}: the value assigned to {assignment.name}", assignment.value))
            if alternative.options is not None:
                for option in ("uid", "pwd", "key", "post", "alias"):
                    template = getattr(alternative.options, option)
                    if template is not None:
                        found.append((f"{where}: --{option}", template))
            if alternative.url is not None:
                found.append((f"{where}: the URL", alternative.url))
        return tuple(found)

    @cached_property
    def expansion_bound(self) -> tuple[int, int]:
        """(literal characters, macro references) over all `expansions`: with values of at most
        L characters, nothing the rule expands is longer than literal + references * L."""
        templates = [template for _, template in self.expansions]
        return sum(t.literal_chars for t in templates), sum(len(t.refs) for t in templates)

"""Turn Lark's parse tree into the `ast` dataclasses, checking what the grammar cannot.

The grammar accepts one shape for `( … )?` and `( … )!`, any option name and any URL text; the
checks here make those precise, and every failure is a RuleSyntaxError pointing at the token.
"""

from __future__ import annotations

import re

from lark import Token, Tree

from spaprov.rules.ast import (
    SYMBOLIC_OPS,
    Alternative,
    Assignment,
    Comparison,
    Condition,
    Op,
    Operand,
    Options,
    Rule,
    RuleKind,
    Span,
)
from spaprov.rules.errors import RuleSyntaxError
from spaprov.rules.macros import GPP_LETTERS, Template
from spaprov.rules.urls import DEFAULT_PORTS, valid_port, written_shape
from spaprov.rules.values import classify

OPTION_NAMES = ("--uid", "--pwd", "--key", "--post", "--alias", "--delta")
_SECURE_OPTIONS = {"--uid", "--pwd", "--key"}
_PARAMETER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
# A URL that is one macro (`$A`, `$(B)`: the whole URL kept in a GPP) is checked once expanded.
_WHOLE_URL_MACRO = re.compile(r"\$(?:[A-Z0-9]+|\([A-Z0-9]+(?::[0-9]+){0,2}\))")
_SWVER = Template.compile("$SWVER")


LarkTree = Tree[Token]


def _tokens(tree: LarkTree) -> list[Token]:
    return [child for child in tree.children if isinstance(child, Token)]


def _subtrees(tree: LarkTree, data: str | None = None) -> list[LarkTree]:
    return [c for c in tree.children if isinstance(c, Tree) and (data is None or c.data == data)]


class Builder:
    def __init__(self, source: str, kind: RuleKind) -> None:
        self.source = source
        self.kind = kind

    # -- errors ---------------------------------------------------------------------------------
    def error(self, where: Token | Span, message: str) -> RuleSyntaxError:
        span = where if isinstance(where, Span) else _span(where)
        text = "" if isinstance(where, Span) else str(where)
        return RuleSyntaxError(span.line, span.column, message, source=self.source, text=text)

    # -- rules ----------------------------------------------------------------------------------
    def rule(self, tree: LarkTree) -> Rule:
        if tree.data == "trigger":
            return self.trigger(tree)
        raw, bars = _subtrees(tree), _tokens(tree)
        if len(raw) == 1 and not raw[0].children:
            return Rule((), self.kind, self.source)  # empty rule, or only a comment
        alternatives = []
        for index, node in enumerate(raw):
            if not node.children:
                where = bars[index - 1] if index else bars[0]
                raise self.error(where, 'empty alternative: nothing on this side of "|"')
            alternatives.append(self.alternative(node))
        for index, alternative in enumerate(alternatives[:-1]):
            if alternative.condition is None:
                raise self.error(
                    alternative.span,
                    f"alternative {index + 1} has no condition but is not the last one: every "
                    "alternative before the last needs a ( condition )?",
                )
        result = Rule(tuple(alternatives), self.kind, self.source)
        self.check_kind(result)
        return result

    def trigger(self, tree: LarkTree) -> Rule:
        items = _subtrees(tree)
        if not items:
            return Rule((), self.kind, self.source)
        comparisons = tuple(self.comparison(item) for item in items)
        condition = Condition(comparisons, comparisons[0].span)
        return Rule((Alternative(condition=condition, span=condition.span),), self.kind, self.source)

    def check_kind(self, rule: Rule) -> None:
        if self.kind is RuleKind.UPGRADE:
            for alternative in rule.alternatives:
                if alternative.options is not None:
                    raise self.error(alternative.options.span, "an Upgrade_Rule takes no [options]")
        if self.kind is RuleKind.REPORT:
            first = rule.alternatives[0] if rule.alternatives else None
            if (
                len(rule.alternatives) != 1
                or first is None
                or first.url is None
                or (first.condition is not None or first.assignments)
            ):
                where = first.span if first else Span(1, 1)
                raise self.error(where, "a Report_Rule is one URL, optionally with [options]")

    # -- alternatives ---------------------------------------------------------------------------
    def alternative(self, tree: LarkTree) -> Alternative:
        condition: Condition | None = None
        assignments: tuple[Assignment, ...] | None = None
        options: Options | None = None
        url: Template | None = None
        for node in _subtrees(tree):
            if node.data == "clause":
                opening, *_, mark = _tokens(node)
                if mark == "?":
                    if condition is not None:
                        raise self.error(
                            opening,
                            'an alternative takes one ( condition )?: join comparisons with "and" inside it',
                        )
                    if assignments is not None:
                        raise self.error(opening, "the ( condition )? must come before the ( assignments )!")
                    condition = self.condition(node)
                else:
                    if assignments is not None:
                        raise self.error(
                            opening,
                            "an alternative takes one ( assignments )!: "
                            'separate assignments with ";" inside it',
                        )
                    assignments = self.assignments(node)
            else:  # target
                options, url = self.target(node)
        span = _span(_first_token(tree))
        return Alternative(condition, assignments or (), options, url, span)

    # -- clauses --------------------------------------------------------------------------------
    def _clause_parts(self, tree: LarkTree) -> tuple[Token, list[LarkTree], list[Token]]:
        separators = [token for node in _subtrees(tree, "separator") for token in _tokens(node)]
        return _tokens(tree)[0], _subtrees(tree, "item"), separators

    def condition(self, tree: LarkTree) -> Condition:
        opening, items, separators = self._clause_parts(tree)
        if not items:
            raise self.error(
                opening, 'empty condition: write a comparison such as ("$EMS" eq "mobile") before "?"'
            )
        for separator in separators:
            if separator.type == "SEMI":
                raise self.error(separator, 'comparisons in a condition are joined with "and", not ";"')
        if len(separators) == len(items):
            raise self.error(separators[-1], 'nothing follows "and": a comparison is missing')
        comparisons = tuple(self.comparison(item) for item in items)
        return Condition(comparisons, _span(opening))

    def comparison(self, tree: LarkTree) -> Comparison:
        (op_token,) = _tokens(tree)
        operands = _subtrees(tree)
        op = SYMBOLIC_OPS.get(str(op_token)) or Op(str(op_token))
        implicit = len(operands) == 1
        if implicit:
            if str(op_token) not in SYMBOLIC_OPS:
                raise self.error(op_token, f'"{op_token}" needs a value on its left')
            left = Operand(_SWVER, False, None, _span(op_token))
        else:
            left = self.operand(operands[0])
        right = self.operand(operands[-1])
        if left.quoted != right.quoted:
            quoted = left if left.quoted else right
            raise self.error(
                quoted.span,
                "cannot compare a quoted string with an unquoted number or version: quote both "
                'sides for a string comparison ("$EMS" eq "mobile") or neither for a numeric one',
            )
        if left.quoted and op.is_ordering:
            raise self.error(
                op_token,
                f'"{op_token}" cannot compare strings: strings support only '
                "eq and ne (leave numbers and versions unquoted to order them)",
            )
        span = left.span if not implicit else _span(op_token)
        return Comparison(left, op, right, span, str(op_token), implicit)

    def operand(self, tree: LarkTree) -> Operand:
        (token,) = _tokens(tree)
        if token.type == "STRING":
            return Operand(Template.compile(token[1:-1]), True, None, _span(token))
        template = Template.compile(str(token))
        constant = classify(template.text) if template.is_constant else None
        return Operand(template, False, constant, _span(token))

    def assignments(self, tree: LarkTree) -> tuple[Assignment, ...]:
        opening, items, separators = self._clause_parts(tree)
        if not items:
            raise self.error(opening, 'empty assignments: write Name = "value" before "!"')
        for separator in separators:
            if separator.type == "AND":
                raise self.error(separator, 'assignments are separated by ";", not "and"')
        return tuple(self.assignment(item) for item in items)

    def assignment(self, tree: LarkTree) -> Assignment:
        (op_token,) = _tokens(tree)
        operands = [_tokens(operand)[0] for operand in _subtrees(tree)]
        if len(operands) == 1:
            raise self.error(op_token, 'an assignment needs a parameter name before "="')
        name_token, value_token = operands
        assert isinstance(name_token, Token) and isinstance(value_token, Token)
        if op_token != "=":
            raise self.error(
                op_token, f'assignments use "=", not "{op_token}" (did you mean "?" after a condition?)'
            )
        if name_token.type != "BARE" or not _PARAMETER_NAME.fullmatch(name_token):
            raise self.error(
                name_token, f"{name_token} is not a parameter name (such as User_ID_1_, GPP_A or a)"
            )
        if value_token.type != "STRING":
            raise self.error(value_token, f'assignment values must be quoted: "{value_token}"')
        name = str(name_token)
        if len(name) == 1 and name.upper() in GPP_LETTERS and name.islower():
            name = f"GPP_{name.upper()}"
        return Assignment(name, Template.compile(value_token[1:-1]), _span(name_token))

    # -- options and URL ------------------------------------------------------------------------
    def target(self, tree: LarkTree) -> tuple[Options | None, Template]:
        (url_token,) = _tokens(tree)
        option_trees = _subtrees(tree, "options")
        options = self.options(option_trees[0]) if option_trees else None
        return options, self.url(url_token)

    def options(self, tree: LarkTree) -> Options:
        opening = _tokens(tree)[0]
        seen: dict[str, Token] = {}
        values: dict[str, Template | None] = {}
        for node in _subtrees(tree):
            name, *rest = _tokens(node)
            value = rest[0] if rest else None
            option = str(name)
            if option not in OPTION_NAMES:
                raise self.error(name, f"unknown option {option}: the options are " + ", ".join(OPTION_NAMES))
            if option in seen:
                raise self.error(name, f"{option} is given twice")
            seen[option] = name
            if option == "--delta":
                if value is not None:
                    raise self.error(value, "--delta takes no value")
                if self.kind is not RuleKind.REPORT:
                    raise self.error(name, "--delta belongs in a Report_Rule only")
                continue
            if value is None:
                raise self.error(name, f"{option} needs a value")
            text = value[1:-1] if value.type == "STRING" else str(value)
            template = Template.compile(text, secure=option in _SECURE_OPTIONS)
            if (
                option in ("--post", "--alias")
                and template.is_constant
                and not (len(text) == 1 and text in GPP_LETTERS.lower())
            ):
                raise self.error(value, f"{option} takes one GPP letter a..p, not {text!r}")
            values[option] = template
        for present, missing in (("--uid", "--pwd"), ("--pwd", "--uid")):
            if present in seen and missing not in seen:
                raise self.error(seen[present], f"{present} without {missing}: credentials need both")
        return Options(
            uid=values.get("--uid"),
            pwd=values.get("--pwd"),
            key=values.get("--key"),
            post=values.get("--post"),
            alias=values.get("--alias"),
            delta="--delta" in seen,
            span=_span(opening),
        )

    def url(self, token: Token) -> Template:
        text = str(token)
        scheme, server, path = written_shape(text)
        if scheme is not None and "$" not in scheme and scheme.lower() not in DEFAULT_PORTS:
            raise self.error(token, f"unsupported URL scheme {scheme!r}: use tftp, http or https")
        if not path.startswith("/") and not _WHOLE_URL_MACRO.fullmatch(text):
            raise self.error(
                token,
                f"the URL {text} has no absolute path: the file path must "
                'start with "/" (for example /spa$MA.cfg)',
            )
        if ":" in server and "$" not in server:
            port = server.rsplit(":", 1)[1]
            if not valid_port(port):
                raise self.error(token, f"bad port {port!r} in the URL: a number from 1 to 65535")
        return Template.compile(text)


def _span(token: Token) -> Span:
    return Span(token.line or 1, token.column or 1)


def _first_token(tree: LarkTree) -> Token:
    for token in tree.scan_values(lambda value: isinstance(value, Token)):
        return token
    raise AssertionError("an alternative with children has a token")

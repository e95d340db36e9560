"""The rule-language pages leave nothing out: every lint code `spaprov/rules/lint.py` can emit has
its section on the lint page with an example that prints it, and every syntax error message the
parser can raise (`rules/build.py`, `rules/syntax_errors.py`, `rules/parser.py`) is shown on the
errors page.  The lists come from the code, so a new code or message fails here until it is
documented."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.site import ROOT

pytestmark = pytest.mark.docs

RULES = ROOT / "spaprov" / "rules"
DOCS = ROOT / "docs" / "rules"
# Messages the code holds that no rule text can reach, and why (checked to stay unreachable by
# the example named on the errors page).
UNREACHABLE = {
    "needs a value on its left": "the lexer reads a word operator with nothing on its left as a "
    "value, so the error is about what follows (errors page: #implicit-word-operator)",
    "a rule is text, not": "only Python callers can pass a non-string; the commands pass text",
    "unknown rule kind": "the commands offer only the four kinds (--kind choices)",
    "cannot parse the rule:": "Lark raises UnexpectedInput for bad text (pragma: no cover)",
}


def _literal_parts(node: ast.expr) -> list[str]:
    """The literal text of a message expression: a string, an f-string or a concatenation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_parts(node.left) + _literal_parts(node.right)
    return []


def _key(node: ast.expr) -> str:
    """The longest literal run of a message: what any rendering of it contains."""
    parts = [part.strip() for part in _literal_parts(node)]
    return max(parts, key=len, default="")


def _calls(path: Path, name: str, position: int) -> list[ast.expr]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and len(node.args) > position:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called == name:
                found.append(node.args[position])
    return found


def _module_constants(path: Path) -> dict[str, object]:
    """NAME = "literal" assignments at the top of a module (codes named once, used by name)."""
    constants: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def lint_codes() -> set[str]:
    codes = set()
    constants = _module_constants(RULES / "lint.py")
    for argument in _calls(RULES / "lint.py", "_warn", 1):
        if isinstance(argument, ast.Name) and argument.id in constants:
            codes.add(str(constants[argument.id]))
            continue
        assert isinstance(argument, ast.Constant), ast.dump(argument)
        codes.add(str(argument.value))
    return codes


def syntax_messages() -> set[str]:
    messages = {_key(m) for m in _calls(RULES / "build.py", "error", 1)}
    messages |= {_key(m) for m in _calls(RULES / "parser.py", "RuleSyntaxError", 2)}
    tree = ast.parse((RULES / "syntax_errors.py").read_text(encoding="utf-8"))
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if function.name in ("_special_case", "_missing_clause_end", "_generic"):
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    values = node.value.values if isinstance(node.value, ast.BoolOp) else [node.value]
                    values = [v for value in values for v in _branches(value)]
                    messages |= {_key(v) for v in values if _literal_parts(v)}
    return {m for m in messages if m}


def _branches(node: ast.expr) -> list[ast.expr]:
    return [node.body, node.orelse] if isinstance(node, ast.IfExp) else [node]


def test_the_lists_come_from_the_code() -> None:
    assert {"unreachable", "never-true", "xml-escape", "legacy", "plaintext-credentials"} <= lint_codes()
    assert len(syntax_messages()) >= 35, sorted(syntax_messages())


def test_every_lint_code_has_a_section_and_an_example() -> None:
    page = (DOCS / "lint.md").read_text(encoding="utf-8")
    missing = [
        code
        for code in sorted(lint_codes())
        if f"[{code}]" not in page or (f"{{#{code}}}" not in page and f"`{code}`" not in page)
    ]
    assert not missing, f"document these lint codes in docs/rules/lint.md: {missing}"


def test_every_syntax_error_is_on_the_errors_page() -> None:
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    missing = [
        message
        for message in sorted(syntax_messages())
        if message not in page and not any(reason in message for reason in UNREACHABLE)
    ]
    assert not missing, f"show these syntax errors in docs/rules/errors.md: {missing}"


def test_unreachable_messages_are_still_in_the_code() -> None:
    """An exemption outlives its message only by mistake."""
    messages = syntax_messages()
    stale = [reason for reason in UNREACHABLE if not any(reason in message for message in messages)]
    assert not stale, stale

"""The one exception type that parsing a rule may raise."""

from __future__ import annotations


class RuleSyntaxError(ValueError):
    """A rule that cannot be parsed, with where and why in terms a person understands.

    `line` and `column` are 1-based and point into `source`; `text` is the offending text (empty
    at the end of the rule); `expected` lists, in words, what would have been accepted there.
    """

    def __init__(
        self,
        line: int,
        column: int,
        message: str,
        *,
        source: str = "",
        text: str = "",
        expected: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line = line
        self.column = column
        self.message = message
        self.source = source
        self.text = text
        self.expected = expected

    def render(self) -> str:
        """The error line, then the offending line of the rule with a caret under the spot."""
        lines = self.source.split("\n") if self.source else [""]
        offending = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        caret = " " * (self.column - 1) + "^"
        return f"{self}\n{offending}\n{caret}"

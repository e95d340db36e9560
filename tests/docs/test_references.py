"""Every source the code cites (`[LSPG30] p.43`) is named in docs/references.md, and every source
named there is cited: a citation never points at a document the repository does not identify."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.site import ROOT

pytestmark = pytest.mark.docs

PAGE = ROOT / "docs" / "references.md"
FOLDERS = ("spaprov", "templates", "grammar", "tests", "bench")
SUFFIXES = (".py", ".j2", ".lark", ".js", ".md")
# A key in brackets, not a subscript (`request[IDENTITY]`), a link (`[text](page.md)`) or an
# address (`[ADDR]:PORT`), and not a regular expression's character class (`[A-Za-z0-9-]`).
_CITATION = re.compile(r"(?<![\w\]])\[([A-Z][A-Za-z0-9]*(?:-[A-Z][A-Z0-9]*)?)\](?![(:])")
_CHARACTER_CLASS = re.compile(r"(?:[A-Za-z0-9]-[A-Za-z0-9])+-?")
_ROW = re.compile(r"^\| \[([^\]]+)\] \|", re.M)


def _prose(path: Path) -> Iterator[str]:
    """What a reader reads in `path`: a Python file's comments and strings, any other file whole."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        yield text
        return
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (tokenize.COMMENT, tokenize.STRING):
            yield token.string


def citations(texts: Iterator[str]) -> set[str]:
    return {key for text in texts for key in _CITATION.findall(text) if not _CHARACTER_CLASS.fullmatch(key)}


def _cited() -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and not path.is_symlink():
                for key in citations(_prose(path)):
                    cited.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return cited


def test_every_cited_source_is_named_on_the_references_page() -> None:
    named = set(_ROW.findall(PAGE.read_text(encoding="utf-8")))
    cited = _cited()
    unnamed = {key: sorted(where) for key, where in cited.items() if key not in named}
    assert unnamed == {}, "add these to docs/references.md"
    assert sorted(named - cited.keys()) == [], "docs/references.md names a source nothing cites"


def test_the_check_tells_citations_from_code() -> None:
    text = (
        "see [LSPG30] p.43 and [FUSION]'s profile ([MPP-AG8800]); not request[IDENTITY], "
        "[A-Za-z0-9-], [ADDR]:PORT or [Development](development.md)"
    )
    assert citations(iter([text])) == {"LSPG30", "FUSION", "MPP-AG8800"}


def test_the_code_cites_no_private_note() -> None:
    """The project's notes beside the checkout (shared/, design.md) are not in the repository."""
    private = re.compile(r"(?<![\w.])shared/reference|design\.md|rule-language\.md")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("spaprov", "templates", "grammar", "bench")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in SUFFIXES and path.is_file() and not path.is_symlink()
        if any(private.search(text) for text in _prose(path))
    ]
    assert found == []

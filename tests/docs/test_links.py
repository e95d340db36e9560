"""README.md and docs/ link only to files inside the repository: no path that leaves the tree,
no absolute file path, no mention of the project's private notes (the shared/ directory beside
the checkout).  Relative links from README.md must name files that exist (MkDocs checks the
links inside docs/ when it builds)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.examples import DOC_FILES
from tests.helpers.site import ROOT

# [text](target), [text]: target (reference definitions), <a href="target">, <img src="target">
pytestmark = pytest.mark.docs

_LINK = re.compile(
    r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)|(?:href|src)=\"([^\"]+)\"", re.M
)
_PRIVATE = re.compile(r"(?<![\w.])(?:\.\./)*shared/|design\.md|rule-language\.md|/work/")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def links(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _LINK.finditer(text)]


def outside(source: Path, target: str) -> str | None:
    """Why `target`, linked from `source`, is not inside the repository (None when it is)."""
    if _EXTERNAL.match(target) or target.startswith("#"):
        return None
    path = target.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/"):
        return "an absolute path"
    resolved = (source.parent / path).resolve()
    if not resolved.is_relative_to(ROOT):
        return "a path outside the repository"
    return None


@pytest.mark.parametrize("page", DOC_FILES, ids=[str(p.relative_to(ROOT)) for p in DOC_FILES])
def test_links_stay_inside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    bad = [f"{target}: {why}" for target in links(text) if (why := outside(page, target))]
    bad += [f"mentions {m.group(0)!r}" for m in _PRIVATE.finditer(text)]
    assert not bad, f"{page.relative_to(ROOT)}: {bad}"


def test_readme_links_name_files_that_exist() -> None:
    readme = ROOT / "README.md"
    missing = [
        target
        for target in links(readme.read_text(encoding="utf-8"))
        if not _EXTERNAL.match(target)
        and not target.startswith("#")
        and not (ROOT / target.split("#", 1)[0]).exists()
    ]
    assert not missing, missing


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    page = ROOT / "docs" / "page.md"
    assert links("see [the spec](../../shared/rule-language.md) and [x]( docs/a.md#b )") == [
        "../../shared/rule-language.md",
        "docs/a.md#b",
    ]
    assert outside(page, "../../shared/rule-language.md") == "a path outside the repository"
    assert outside(page, "/work/shared/design.md") == "an absolute path"
    assert outside(page, "rules/lint.md#legacy") is None
    assert outside(page, "https://www.rfc-editor.org/rfc/rfc7616") is None
    assert _PRIVATE.search("the normative text is shared/rule-language.md")
    assert _PRIVATE.search("see ../shared/")
    assert not _PRIVATE.search("one profile directory shared by both nodes")

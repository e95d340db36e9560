"""Every `console` block in README.md and docs/ runs, and prints what the page says it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.examples import (
    DOC_FILES,
    Block,
    blocks,
    console_blocks,
    examples,
    matches,
    page_environment,
    run,
    run_pycon,
)
from tests.helpers.site import ROOT

pytestmark = pytest.mark.docs

PAGES = sorted({block.path for block in console_blocks()})


def _failures(path: Path, directory: Path) -> list[str]:
    failures = []
    with page_environment(directory) as page:
        for block in (b for b in blocks(path) if b.info == "console"):
            for example in examples(block):
                actual = page.run(example).output
                if not matches(example.expected, actual):
                    failures.append(
                        f"{path.relative_to(ROOT)}:{example.line}: $ {example.command}\n"
                        "--- the page says\n" + "\n".join(example.expected) + "\n"
                        "--- the command printed\n" + "\n".join(actual)
                    )
    return failures


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_console_examples_print_what_the_page_says(page: Path, tmp_path: Path) -> None:
    failures = _failures(page, tmp_path)
    assert not failures, "\n\n".join(failures)


def test_the_rule_language_pages_have_examples() -> None:
    """The rule reference is where most examples live: losing them would pass silently."""
    counted = {
        page.name: sum(len(examples(b)) for b in blocks(page) if b.info == "console")
        for page in (ROOT / "docs" / "rules").glob("*.md")
    }
    assert counted.get("reference.md", 0) >= 30, counted
    assert counted.get("errors.md", 0) >= 15, counted
    assert counted.get("lint.md", 0) >= 10, counted


def test_every_rule_command_in_a_code_block_is_executable() -> None:
    """A `spaprov rule …` example outside a console block would never be checked."""
    stray = [
        block.where
        for path in DOC_FILES
        for block in blocks(path)
        if block.info != "console"
        and any(line.lstrip("$ ").startswith("spaprov rule ") for line in block.lines)
    ]
    assert not stray, f"put these `spaprov rule` examples in console blocks: {stray}"


def test_a_wrong_example_fails(tmp_path: Path) -> None:
    """The harness itself: a wrong output, a wrong exit status and a missing line are caught."""
    page = tmp_path / "page.md"
    page.write_text(
        "```console\n"
        "$ spaprov rule eval 'http://h/x.cfg'\n"
        "alternative 1 of 1 applies\n"
        "  fetch http://h/y.cfg\n"
        "...\n"
        "$ spaprov rule check '(\"$EMS\" eq 5)? http://h/x.cfg'\n"
        "...\n"
        "```\n",
        encoding="utf-8",
    )
    (first, second) = examples(next(blocks(page)))
    with page_environment(tmp_path / "run"):
        assert not matches(first.expected, run(first.command, tmp_path / "run").output)
        printed = run(second.command, tmp_path / "run").output
    assert printed[-1] == "(exit status 1)"
    assert matches(second.expected, printed)
    assert not matches(("...", "(exit status 2)"), printed)


def test_ellipsis_matches_any_number_of_lines() -> None:
    assert matches(("a", "...", "d"), ("a", "b", "c", "d"))
    assert matches(("a", "...", "d"), ("a", "d"))
    assert not matches(("a", "...", "d"), ("a", "b"))
    assert not matches(("a",), ("a", "b"))
    assert matches(("... login  user=alice",), ("2026-11-30 15:33:09 login  user=alice",))
    assert not matches(("... login  user=alice",), ("2026-11-30 15:33:09 logout user=alice",))


def test_blocks_keep_multi_line_commands_together(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '- item\n\n    ```console\n    $ spaprov rule fmt \'("$EMS" eq "mobile")?\n    http://h/m.cfg\'\n'
        "    out\n    $ spaprov rule check \\\n        'http://h/x.cfg'\n    ```\n",
        encoding="utf-8",
    )
    (block,) = list(blocks(page))
    assert isinstance(block, Block) and block.indent == "    "
    first, second = examples(block)
    assert first.command == 'spaprov rule fmt \'("$EMS" eq "mobile")?\nhttp://h/m.cfg\''
    assert first.expected == ("out",)
    assert second.command == "spaprov rule check     'http://h/x.cfg'"


PYCON_PAGES = sorted({b.path for path in DOC_FILES for b in blocks(path) if b.info == "pycon"})


@pytest.mark.parametrize("page", PYCON_PAGES, ids=[str(p.relative_to(ROOT)) for p in PYCON_PAGES])
def test_python_examples_print_what_the_page_says(page: Path) -> None:
    """`pycon` blocks are doctests: one namespace per page, blocks in page order."""
    failures = run_pycon(page)
    assert not failures, "\n".join(failures)

"""Executable documentation: the `console` blocks of README.md and docs/ run as tests.

A fenced block whose info string is `pycon` is a Python session, run as a doctest (`>>> ` and
`... ` lines, then the expected output; `...` inside an output line matches anything), one
namespace per page.

A fenced block whose info string is `console` is a terminal session.  A line starting with `$ `
is a command; the lines after it, up to the next command or the end of the block, are what it
prints (standard output and standard error together).  A command that exits non-zero is followed
by the line `(exit status N)`.  A line that is just `...` stands for any number of lines, and
`...` inside a line for any text (a time stamp).

A command is `spaprov ARGS` (or `.venv/bin/spaprov ARGS`), run in-process through
`spaprov.cli.main`, the same code as the installed `spaprov` command, or `curl ARGS` (the real
curl, for a live server), optionally:
- ending in `> FILE` (standard output goes to FILE in the working directory, not to the block);
- starting with `printf 'TEXT' |` (TEXT, with `\\n` for newlines, is its standard input).
`printf 'TEXT' > FILE` alone writes FILE (a CSV to import, say) and prints nothing.
A single-quoted argument may span lines (a multi-line rule), and a line ending in `\\` continues.

A console block right after the line `<!-- docs-test: serve -->` runs against a live server:
`spaprov serve` on the page's copy of the sample, started once per page on a free port, which
replaces `127.0.0.1:8080` in the copy's files and in the block's commands (and back in their
output), so the block reads as it would after `make serve`.

Each page runs in a fresh directory holding a copy of the sample site as `sample_profiles/`
(password files mode 0600, as `make serve` leaves them) with `SPAPROV_PROFILES=sample_profiles`
(and `COLUMNS=100`, so `--help` output wraps the same everywhere),
the blocks in page order, so one block may use a file an earlier block wrote.

`python -m tests.docs.examples --update FILE.md` rewrites the expected output of every block in
FILE.md from what the commands print now: review the diff, it is documentation.  An output that
still matches is kept as written (with its `...`); one that does not is replaced whole.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.site import ROOT, copy_sample

DOC_FILES = (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
PROMPT = "$ "
ELLIPSIS = "..."
SERVE_MARK = "<!-- docs-test: serve -->"
SITE_NAME = "sample_profiles"  # what the pages call the site: a copy, inside each page's scratch directory
SAMPLE_ADDRESS = "127.0.0.1:8080"  # where the sample site's rule sends phones (`make serve`)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    info: str
    indent: str
    lines: tuple[str, ...]  # the content, indentation removed
    serve: bool = False  # preceded by SERVE_MARK: runs against a live server

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Example:
    block: Block
    line: int  # 1-based line of the command in the file
    command: str  # without the prompt, continuation lines joined
    written: tuple[str, ...]  # the command's lines as written, prompt included
    expected: tuple[str, ...]


def blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        content = tuple(
            line[len(indent) :] if line.startswith(indent) else line for line in lines[index + 1 : end]
        )
        previous = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
        serve = previous == SERVE_MARK
        yield Block(path, index + 1, opening.group("info"), indent, content, serve)
        index = end + 1


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:  # an open quote: the argument goes on on the next line
        return False
    return True


def examples(block: Block) -> list[Example]:
    found: list[Example] = []
    index = 0
    lines = block.lines
    if lines and not lines[0].startswith(PROMPT):
        raise ValueError(f"{block.where}: a console block starts with a '$ ' command")
    while index < len(lines):
        start = index
        command = lines[index][len(PROMPT) :]
        index += 1
        while not _complete(command) and index < len(lines):
            command = command[:-1] + lines[index] if command.endswith("\\") else command + "\n" + lines[index]
            index += 1
        written = lines[start:index]
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith(PROMPT):
            output.append(lines[index].rstrip())
            index += 1
        while output and not output[-1]:
            output.pop()
        found.append(Example(block, block.line + 1 + start, command, written, tuple(output)))
    return found


def console_blocks(paths: tuple[Path, ...] = DOC_FILES) -> list[Block]:
    return [block for path in paths for block in blocks(path) if block.info == "console"]


@dataclass(frozen=True)
class Run:
    output: tuple[str, ...]
    status: int


def _printf(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


def run(command: str, cwd: Path) -> Run:
    """Run one documented command in `cwd` (the caller has set the environment)."""
    words = shlex.split(command)
    stdin = ""
    if words[:1] == ["printf"] and len(words) == 4 and words[2] == ">":
        (cwd / words[3]).write_text(_printf(words[1]), encoding="utf-8")
        return Run((), 0)
    if words[:1] == ["printf"]:
        if len(words) < 4 or words[2] != "|":
            raise ValueError(f"expected printf 'TEXT' | spaprov …, not {command!r}")
        stdin, words = _printf(words[1]), words[3:]
    target: Path | None = None
    if len(words) >= 2 and words[-2] == ">":
        target, words = cwd / words[-1], words[:-2]
    if any(word in {"|", ">", "<", "&&", ";"} for word in words):
        raise ValueError(f"one command per line in a console block, not {command!r}")
    if words[:1] == ["curl"] and not stdin and target is None:
        return _curl(words, cwd)
    if words[:1] not in (["spaprov"], [".venv/bin/spaprov"]):
        raise ValueError(f"only `spaprov …` and `curl …` run in a console block, not {command!r}")
    from spaprov.cli import main

    out, err = io.StringIO(), io.StringIO()
    both = err if target is not None else out
    stdout = out if target is not None else both
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(both):
            try:
                status = main(words[1:])
            except SystemExit as exit_:  # argparse's usage errors
                status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdin = old_stdin
    if target is not None:
        target.write_text(out.getvalue(), encoding="utf-8")
    printed = both.getvalue().rstrip("\n")
    lines = [line.rstrip() for line in printed.split("\n")] if printed else []
    if status:
        lines.append(f"(exit status {status})")
    return Run(tuple(lines), status)


def _curl(words: list[str], cwd: Path) -> Run:
    """The real curl (a walkthrough shows it against the served sample)."""
    import shutil
    import subprocess

    if shutil.which("curl") is None:
        raise RuntimeError("curl is not installed: the documentation's curl examples need it")
    done = subprocess.run(words, cwd=cwd, capture_output=True, text=True, timeout=30)
    printed = (done.stdout + done.stderr).rstrip("\n")
    lines = [line.rstrip() for line in printed.split("\n")] if printed else []
    if done.returncode:
        lines.append(f"(exit status {done.returncode})")
    return Run(tuple(lines), done.returncode)


def matches(expected: tuple[str, ...], actual: tuple[str, ...]) -> bool:
    """Line by line; a line `...` in `expected` matches any number of lines (none included), and
    `...` inside a line any text (a time stamp, say)."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == ELLIPSIS:
        return any(matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and matches(rest, actual[1:])


def _line_matches(expected: str, actual: str) -> bool:
    if ELLIPSIS not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split(ELLIPSIS))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def run_pycon(path: Path) -> list[str]:
    """Run the `pycon` blocks of `path` as doctests; a report per failing example."""
    import doctest

    namespace: dict[str, object] = {}
    failures: list[str] = []
    parser = doctest.DocTestParser()
    for block in (b for b in blocks(path) if b.info == "pycon"):
        test = parser.get_doctest(
            "\n".join(block.lines) + "\n", namespace, block.where, str(path), block.line
        )
        out = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=out.write, clear_globs=False)
        namespace = test.globs
        if runner.failures:
            failures.append(out.getvalue())
    return failures


def prepare_site(directory: Path) -> Path:
    """The sample site as the docs assume it: a copy, password files for the server's user only."""
    site = copy_sample(directory / SITE_NAME)
    for pattern in ("credentials.htdigest*", "admins.toml", "devices/*.toml", "em_profiles/*.toml"):
        for path in site.glob(pattern):
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return site


class Page:
    """The examples of one page, run in order in one directory; a server when a block asks."""

    def __init__(self, directory: Path, stack: contextlib.ExitStack) -> None:
        self.directory, self._stack = directory, stack
        self.address: str | None = None

    def run(self, example: Example) -> Run:
        if example.block.serve and self.address is None:
            self._serve()
        if self.address is None:
            return run(example.command, self.directory)
        # A served block's commands talk to the server; from its start on the copy names its
        # port, and every output still reads 8080.
        command = (
            example.command.replace(SAMPLE_ADDRESS, self.address) if example.block.serve else example.command
        )
        done = run(command, self.directory)
        output = tuple(line.replace(self.address, SAMPLE_ADDRESS) for line in done.output)
        return Run(output, done.status)

    def _serve(self) -> str:
        """`spaprov serve` on the page's copy of the sample, on a free port the copy's rule names."""
        from tests.helpers.cli import serve
        from tests.helpers.site import free_port

        port = free_port()
        self.address = f"127.0.0.1:{port}"
        site = self.directory / SITE_NAME
        for path in (site / "site.toml", *site.glob("devices/*.toml")):
            path.write_text(path.read_text(encoding="utf-8").replace(SAMPLE_ADDRESS, self.address))
        self._stack.enter_context(contextlib.contextmanager(serve)("--profiles", str(site), port=port))
        return self.address


@contextlib.contextmanager
def page_environment(directory: Path) -> Iterator[Page]:
    """cwd = `directory` with the sample copied in, SPAPROV_PROFILES=sample_profiles."""
    prepare_site(directory)
    saved_cwd, saved_env = Path.cwd(), dict(os.environ)
    os.chdir(directory)
    os.environ["SPAPROV_PROFILES"] = SITE_NAME
    os.environ["COLUMNS"] = "100"  # argparse wraps --help output to the terminal's width
    for name in ("SPAPROV_STATE", "SPAPROV_HOST_PASSWORD"):
        os.environ.pop(name, None)
    try:
        with contextlib.ExitStack() as stack:
            yield Page(directory, stack)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def update(path: Path, directory: Path) -> None:
    """Rewrite the expected output of every console block in `path` from what runs now."""
    lines = path.read_text(encoding="utf-8").split("\n")
    replacements: list[tuple[int, int, list[str]]] = []  # (first line index, end index, new lines)
    with page_environment(directory) as page:
        for block in (b for b in blocks(path) if b.info == "console"):
            body: list[str] = []
            for example in examples(block):
                body.extend(example.written)
                actual = page.run(example).output
                body.extend(example.expected if matches(example.expected, actual) else actual)
            replacements.append(
                (block.line, block.line + len(block.lines), [block.indent + x if x else x for x in body])
            )
    for first, end, new in reversed(replacements):
        lines[first:end] = new
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="rewrite the expected output of console blocks")
    parser.add_argument("--update", nargs="+", type=Path, required=True, metavar="FILE.md")
    for file in parser.parse_args().update:
        with tempfile.TemporaryDirectory() as scratch:
            update(file.resolve(), Path(scratch))

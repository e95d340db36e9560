"""The layout of spaprov as docs/architecture.md states it.

Commands that only read the profile directory or the state store load neither the HTTP server
(spaprov.server) nor aiohttp: checked in a fresh interpreter, so that what this test process has
imported already does not count.

Imports go one way: each package of the table in docs/architecture.md imports only the rows
above it (read from the page itself, so the page and the tree cannot drift apart), except for
the few imports the page names."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.site import CONF_ROOM, ROOT, SAMPLE

LOADED = "sorted(m for m in sys.modules if m.startswith(('spaprov.server', 'aiohttp')))"


def _heavy_modules_after(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps({LOADED}))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    last = done.stdout.strip().splitlines()[-1]
    return list(json.loads(last))


def test_the_sessions_command_reads_sqlite_without_the_server() -> None:
    assert _heavy_modules_after("import spaprov.commands.sessions") == []


def test_spaprov_render_does_not_load_the_server_or_aiohttp() -> None:
    code = (
        "import contextlib, io\n"
        "from spaprov.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['render', '--profiles', {str(SAMPLE)!r}, '--device', {CONF_ROOM!r}]) == 0"
    )
    assert _heavy_modules_after(code) == []


# -- the direction of imports -------------------------------------------------------------------
PACKAGE = ROOT / "spaprov"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# (importing module, imported module): the exceptions docs/architecture.md names, and only those.
EXCEPTIONS = {
    ("spaprov.auth.admins", "spaprov.config.toml_writer"),  # admins.toml is written like the rest
    ("spaprov.profiles.builder", "spaprov.push.accounts"),  # can a push reach this phone?
}


def _rows() -> dict[str, int]:
    """unit -> its row in the page's package table (0 = the top); a unit is a package
    (`rules`) or a module at the top of spaprov (`mac`)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text.split("| package | its one job |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, int] = {}
    for number, line in enumerate(table.splitlines()[2:]):
        first_cell = line.split("|")[1]
        for name in re.findall(r"`([^`]+)`", first_cell):
            rows[name.removeprefix("spaprov/").rstrip("/").removesuffix(".py")] = number
    return rows


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every spaprov module `path` imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("spaprov."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield from [node.module] if node.module.startswith("spaprov.") else []


def _unit(module: str) -> str:
    return module.split(".")[1]


def test_every_package_has_its_row_in_the_architecture_page() -> None:
    rows = _rows()
    units = {_unit(_module_name(path)) for path in PACKAGE.rglob("*.py") if path != PACKAGE / "__init__.py"}
    assert sorted(units - rows.keys()) == [], "name these in docs/architecture.md's package table"
    assert sorted(rows.keys() - units) == [], "docs/architecture.md names what is not in spaprov/"


def test_imports_go_up_the_architecture_table_only() -> None:
    rows = _rows()
    upward, exceptions_used = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module == "spaprov":
            continue
        for imported in _imports(path):
            if rows[_unit(imported)] <= rows[_unit(module)]:  # its own row (package), or above
                continue
            if (module, imported) in EXCEPTIONS:
                exceptions_used.add((module, imported))
            else:
                upward.append(f"{module} imports {imported}")
    assert upward == []
    assert exceptions_used == EXCEPTIONS  # an exception no longer needed leaves the list (and the page)


def test_bench_uses_only_spaprov_public_names() -> None:
    """bench/ measures the package as a user has it: nothing from tests/, no private name."""
    wrong = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [alias.name for alias in node.names]
                if node.module.split(".")[0] == "tests" or (
                    node.module.startswith("spaprov") and any(name.startswith("_") for name in names)
                ):
                    wrong.append(f"{path.name}: from {node.module} import {', '.join(names)}")
            elif isinstance(node, ast.Import):
                wrong += [f"{path.name}: import {a.name}" for a in node.names if a.name.startswith("tests")]
    assert wrong == []


def test_tests_share_code_through_helpers_not_other_test_modules() -> None:
    """A test module imports shared code from tests/helpers/ (or its own package's non-test
    modules, as tests/fuzz/ does), never another test module or a conftest."""
    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests."):
                last = node.module.rsplit(".", 1)[1]
                if last.startswith("test_") or last == "conftest":
                    wrong.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
    assert wrong == []

"""The grammar and the templates are package data: found through importlib.resources in the
checkout, shipped as real files inside a built wheel, and found there by the installed package."""

from __future__ import annotations

import stat
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

from spaprov.resources import resource_dir
from tests.helpers.site import CONF_ROOM, ROOT, copy_sample


def test_the_package_folders_are_the_top_level_ones() -> None:
    for name in ("grammar", "templates"):
        assert resource_dir(name) == files("spaprov") / name
        assert resource_dir(name).resolve() == (ROOT / name).resolve()


@pytest.mark.packaging
def test_a_built_wheel_holds_the_grammar_and_every_template(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("spaprov-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            info.filename: stat.S_ISREG(info.external_attr >> 16)
            for info in archive.infolist()
            if info.filename.startswith(("spaprov/grammar/", "spaprov/templates/"))
        }
    expected = {
        f"spaprov/{path.relative_to(ROOT).as_posix()}"
        for folder in ("grammar", "templates")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
    }
    assert set(shipped) == expected
    assert all(shipped.values()), "the wheel must hold real files, not links"

    # Installed (its dependencies are this environment's), away from the checkout, the wheel's
    # own spaprov renders a profile: the grammar parses the rule, the templates render it.
    installed, elsewhere = tmp_path / "installed", tmp_path / "elsewhere"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(installed),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    site = copy_sample(elsewhere / "site")
    code = (
        "import sys, spaprov; from spaprov.cli import main; print(spaprov.__file__, file=sys.stderr); "
        f"sys.exit(main(['render', '--profiles', 'site', '--device', {CONF_ROOM!r}]))"
    )
    rendered = subprocess.run(
        [sys.executable, "-c", code],
        cwd=site.parent,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stderr.startswith(str(installed / "spaprov" / "__init__.py"))
    assert "<flat-profile>" in rendered.stdout and "<Station_Name>" in rendered.stdout

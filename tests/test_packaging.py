"""A wheel installed into a fresh virtualenv finds its grammar from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_in_a_fresh_venv_parses_a_rule(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("spaprov-*.whl")
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [
            str(env_dir / "bin" / "spaprov"),
            "rule",
            "eval",
            '("$EMS" eq "mobile")? /m.cfg | /d.cfg',
            "--set",
            "EMS=mobile",
            "--json",
        ],
        cwd=elsewhere,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert '"path": "/m.cfg"' in done.stdout
    located = subprocess.run(
        [str(python), "-c", "import spaprov.resources as r; print(r.resource_dir('grammar'))"],
        cwd=elsewhere,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert str(env_dir) in located.stdout, "the grammar must come from the installed package"

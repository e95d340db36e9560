"""The sample site and servers on it: the pristine sample, a private copy a test may edit, the
conference-room phone, and small readers of what a server answers.

Tests never read the tree's sample_profiles/ as it is on disk: the README walkthrough has the
administrator edit it in place (add a user, change a password, `make serve`'s chmod and state
database), and `make test` must still pass.  In a git checkout the pristine sample is the version
in git's index (the committed one, unless a developer `git add`ed a change to it); outside one
(an unpacked sdist) it is the directory's files.  `SAMPLE` is one read-only-by-convention copy of
it per test process, for tests that only read; `copy_sample` makes a private copy to edit.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.server.app import HOLDER

ROOT = Path(__file__).resolve().parents[2]
TREE_SAMPLE = ROOT / "sample_profiles"  # the administrator's; only this module reads it
CONF_ROOM = "001122334455"
SPA_AGENT = f"Cisco/SPA525G2-7.5.5 ({CONF_ROOM.upper()})(CBT1234567)"

ServerFactory = Callable[..., Awaitable[TestServer]]


SampleFiles = Mapping[str, tuple[int, bytes]]  # path below sample_profiles/ -> (mode, content)


def pristine_sample(root: Path = ROOT) -> SampleFiles:
    """The sample's files as committed: from git's index in a checkout, else from the directory
    (without hidden files: state database, lock, journal, temporaries)."""
    files = _from_git(root)
    return files if files is not None else _from_directory(root / "sample_profiles")


def _from_git(root: Path) -> SampleFiles | None:
    def git(*args: str, stdin: bytes = b"") -> bytes:
        return subprocess.run(
            ["git", "-C", str(root), *args], input=stdin, capture_output=True, check=True
        ).stdout

    try:
        git("rev-parse", "--show-toplevel")  # a checkout at all (an sdist has no .git)
        listed = git("ls-files", "-s", "-z", "--", "sample_profiles")
    except (OSError, subprocess.CalledProcessError):
        return None
    entries: list[tuple[str, int, str]] = []  # from "<mode> <sha> <stage>\t<path>"
    for record in filter(None, listed.split(b"\0")):
        meta, name = record.split(b"\t", 1)
        octal, sha, _stage = meta.split()
        entries.append((name.decode(), int(octal, 8) & 0o777, sha.decode()))
    if not entries:
        return None
    stream = git("cat-file", "--batch", stdin="".join(f"{sha}\n" for _, _, sha in entries).encode())
    files: dict[str, tuple[int, bytes]] = {}
    offset = 0
    for path, mode, _sha in entries:  # "<sha> blob <size>\n<content>\n" per object, in order
        header_end = stream.index(b"\n", offset)
        size = int(stream[offset:header_end].split()[2])
        files[path.removeprefix("sample_profiles/")] = (mode, stream[header_end + 1 : header_end + 1 + size])
        offset = header_end + 1 + size + 1
    return files


def _from_directory(sample: Path) -> SampleFiles:
    files: dict[str, tuple[int, bytes]] = {}
    for path in sorted(sample.rglob("*")):
        relative = path.relative_to(sample)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = (0o644, path.read_bytes())
    return files


def write_sample(files: SampleFiles, target: Path) -> Path:
    target.mkdir(parents=True)
    for name, (mode, content) in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chmod(path, mode)
    return target


@functools.cache
def _pristine() -> SampleFiles:
    return pristine_sample()


def copy_sample(target: Path) -> Path:
    """A private copy of the pristine sample site, to edit."""
    return write_sample(_pristine(), target)


def _shared_sample() -> Path:
    holder = Path(tempfile.mkdtemp(prefix="spaprov-sample-"))
    atexit.register(shutil.rmtree, holder, ignore_errors=True)
    return copy_sample(holder / "sample_profiles")


# The pristine sample for tests that only read it (load, render, serve a copy of it).
SAMPLE = _shared_sample()


def add_credentials(site: Path, user: str, password: str, realm: str = "prov.example.com") -> None:
    CredentialStore(site / "credentials.htdigest", realm).set_password(user, password)


def holder_of(server: TestServer):  # type: ignore[no-untyped-def]
    return server.app[HOLDER]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def flat_profile(body: bytes) -> dict[str, str]:
    root = ET.fromstring(body)
    assert root.tag == "flat-profile"
    return {child.tag: (child.text or "") for child in root}

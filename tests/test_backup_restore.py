"""`spaprov backup` / `spaprov restore` (issue 12, item 1's lossless full export/import): one
tar.gz of the profile directory's documents that restores to the identical directory, all or
nothing through the journal, and refuses a hostile archive without writing anything."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from spaprov.cli import main
from spaprov.config import backup
from spaprov.config.backup import MANIFEST, archive_bytes, read_archive, site_files
from spaprov.transaction import JOURNAL, pending_journal, recover
from tests.helpers.bulk import generated_site, parsed
from tests.helpers.cli import spaprov
from tests.helpers.live_site import station, wait_for
from tests.helpers.site import ServerFactory


def restore_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`spaprov restore …` in this process (the refusals happen before any I/O worth a process)."""
    code = main(["restore", *args])
    return code, capsys.readouterr().err


def documents(root: Path) -> dict[str, bytes]:
    """Every non-hidden file below root, byte for byte (what a site is made of)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def everything(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def back_up(site: Path, archive: Path) -> None:
    done = spaprov("backup", str(archive), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    assert f"backed up {len(documents(site))} files" in done.stdout


def test_the_sample_restores_to_the_identical_directory(site: Path, tmp_path: Path) -> None:
    (site / ".spaprov-state.sqlite3").write_bytes(b"SQLite format 3\0sessions")  # not part of a site
    (site / "devices" / ".001122334455.toml.0123456789ab.tmp").write_bytes(b"half")
    archive = tmp_path / "site.tar.gz"
    back_up(site, archive)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as members:
        names = members.getnames()
        assert {member.mode for member in members.getmembers()} == {0o600}
    assert names[0] == MANIFEST and sorted(names[1:]) == sorted(documents(site))

    restored = tmp_path / "elsewhere" / "site"  # a new machine: the directory does not exist yet
    done = spaprov("restore", str(archive), "--profiles", str(restored))
    assert done.returncode == 0, done.stderr
    assert "(9 created, 0 replaced, 0 deleted, 0 unchanged)" in done.stdout
    assert documents(restored) == documents(site)  # byte for byte: comments, hashes, admins.toml
    assert parsed(restored) == parsed(site)
    # The state database is not part of a site: the restored one is new, holding the restore's
    # own audit row only.
    audit = spaprov("audit", "--profiles", str(restored))
    assert [line.split()[2] for line in audit.stdout.splitlines()] == ["admin_restore"], audit
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in restored.rglob("*") if p.is_file())
    assert stat.S_IMODE(restored.stat().st_mode) == 0o700


def test_restore_undoes_every_kind_of_change_and_dry_run_writes_nothing(site: Path, tmp_path: Path) -> None:
    archive = tmp_path / "site.tar.gz"
    back_up(site, archive)
    original = documents(site)
    device = site / "devices" / "001122334455.toml"
    device.write_text(device.read_text().replace("Conference Room 1", "Broom Cupboard"))
    generated_site(site, 2)  # two new devices
    (site / "users" / "bob.toml").unlink()
    (site / "em_profiles" / "bob.toml").unlink()
    assert spaprov("user", "del", "bob@example.com", "--profiles", str(site)).returncode == 0

    edited = everything(site)
    dry = spaprov("restore", str(archive), "--profiles", str(site), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert everything(site) == edited  # nothing written
    lines = set(dry.stdout.splitlines())
    assert {
        "replace\tdevices/001122334455.toml",
        "create\tusers/bob.toml",
        "create\tem_profiles/bob.toml",
        "delete\tdevices/00aabb000000.toml",
        "delete\tdevices/00aabb000001.toml",
        "replace\tcredentials.htdigest",
        "replace\tcredentials.htdigest.sha256",
    } <= lines
    assert "(2 created, 3 replaced, 2 deleted, 4 unchanged); nothing written" in dry.stdout

    done = spaprov("restore", str(archive), "--profiles", str(site))
    assert done.returncode == 0, done.stderr
    assert documents(site) == original
    assert pending_journal(site) is None


@pytest.mark.slow
def test_a_1000_device_site_round_trips(site: Path, tmp_path: Path) -> None:
    generated_site(site, 1000)
    archive = tmp_path / "big.tar.gz"
    back_up(site, archive)
    restored = tmp_path / "restored"
    done = spaprov("restore", str(archive), "--profiles", str(restored))
    assert done.returncode == 0, done.stderr
    assert "(1009 created," in done.stdout
    assert documents(restored) == documents(site)
    assert parsed(restored) == parsed(site)


def test_restore_goes_through_the_journal(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore interrupted after its commit point is finished by the next writer, whole."""
    wanted = site_files(site).files
    target = tmp_path / "target"

    def crash(root: Path, entries: object) -> None:
        raise KeyboardInterrupt  # the process dies between the commit point and the renames

    monkeypatch.setattr("spaprov.transaction._install", crash)
    with pytest.raises(KeyboardInterrupt):
        backup.restore(target, wanted)
    assert (target / JOURNAL).exists() and documents(target) == {}
    monkeypatch.undo()
    recover(target)
    assert documents(target) == wanted


# -- hostile and broken archives --------------------------------------------------------------------
Member = tuple[str, bytes | None, Callable[[tarfile.TarInfo], None] | None]


def hostile(path: Path, members: list[Member], *, manifest: bool = True) -> Path:
    """A tar.gz whose manifest lists the regular members, then the members as given."""
    with tarfile.open(path, "w:gz") as archive:
        if manifest:
            files = {
                name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for name, data, _ in members
                if data is not None
            }
            body = json.dumps({"format": "spaprov-backup", "version": 1, "files": files}).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        for name, data, adjust in members:
            info = tarfile.TarInfo(name)
            info.size = len(data or b"")
            if adjust:
                adjust(info)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _symlink(info: tarfile.TarInfo) -> None:
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"


def _hardlink(info: tarfile.TarInfo) -> None:
    info.type, info.linkname = tarfile.LNKTYPE, "site.toml"


def _fifo(info: tarfile.TarInfo) -> None:
    info.type = tarfile.FIFOTYPE


HOSTILE: dict[str, tuple[list[Member], str]] = {
    "absolute": ([("/tmp/spaprov-evil.toml", b"x", None)], "is not a relative name"),
    "dot-dot": ([("../evil.toml", b"x", None)], "is not a relative name"),
    "dot-dot-inside": ([("devices/../../evil.toml", b"x", None)], "is not a relative name"),
    "symlink": ([("devices/001122334455.toml", None, _symlink)], "a symbolic link (to '/etc/passwd')"),
    "hardlink": ([("users/x.toml", None, _hardlink)], "a hard link"),
    "fifo": ([("users/x.toml", None, _fifo)], "a FIFO"),
    "journal": ([(JOURNAL, b'{"version":1,"files":[["../x",null]]}', None)], "is a hidden file"),
    "duplicate": ([("users/alice.toml", b"a", None), ("users/alice.toml", b"b", None)], "appears twice"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_archive_is_refused_and_nothing_is_written(
    site: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    members, reason = HOSTILE[case]
    good = [(name, data, None) for name, data in site_files(site).files.items()]
    archive = hostile(tmp_path / f"{case}.tar.gz", [*good, *members])
    before = everything(site)
    for extra in ([], ["--dry-run"]):
        done = spaprov("restore", str(archive), "--profiles", str(site), *extra)
        assert done.returncode == 1 and "nothing restored" in done.stderr and reason in done.stderr, (
            done.stderr
        )
        assert "Traceback" not in done.stderr
    assert everything(site) == before
    assert not (tmp_path / "evil.toml").exists() and not Path("/tmp/spaprov-evil.toml").exists()


def test_broken_archives_are_refused(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = site_files(site).files
    cases: dict[str, tuple[bytes, str]] = {
        "not-gzip": (b"site.toml\n", "not a readable tar.gz backup"),
        "truncated": (archive_bytes(files)[:-200], "not a readable tar.gz backup"),
        "no-manifest": (
            hostile(tmp_path / "m.tgz", [("site.toml", b"x", None)], manifest=False).read_bytes(),
            "not a spaprov backup",
        ),
        "bad-site": (archive_bytes({**files, "site.toml": b"[site\n"}), "not a site spaprov can serve"),
        "bad-credentials": (archive_bytes({**files, "credentials.htdigest": b"alice\n"}), "three fields"),
    }
    altered = tmp_path / "altered.tgz"
    with (  # a file changed after the manifest was made
        tarfile.open(altered, "w:gz") as archive,
        tarfile.open(fileobj=io.BytesIO(archive_bytes(files))) as source,
    ):
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "site.toml":
                data = data.replace(b"prov.example.com", b"evil.example.com")
            archive.addfile(member, io.BytesIO(data))
    cases["altered"] = (altered.read_bytes(), "does not match its checksum")
    before = everything(site)
    for case, (content, reason) in cases.items():
        path = tmp_path / f"{case}.tar.gz"
        path.write_bytes(content)
        code, stderr = restore_here(capsys, str(path), "--profiles", str(site))
        assert code == 1 and reason in stderr, (case, stderr)
    assert everything(site) == before


def test_restore_will_not_write_through_a_linked_folder(site: Path, tmp_path: Path) -> None:
    archive = tmp_path / "site.tar.gz"
    back_up(site, archive)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "site.toml").write_bytes((site / "site.toml").read_bytes())  # a profile directory
    os.symlink(outside, target / "devices")
    done = spaprov("restore", str(archive), "--profiles", str(target))
    assert done.returncode == 1 and "is a symbolic link" in done.stderr
    assert list(outside.iterdir()) == [] and documents(target) == {
        "site.toml": (site / "site.toml").read_bytes()
    }


def test_oversized_members_are_refused(site: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.tgz"
    path.write_bytes(archive_bytes({**site_files(site).files, "notes.txt": b"x" * 2048}))
    with pytest.raises(backup.BackupError, match=r"notes\.txt is 2048 bytes"):
        read_archive(path, max_file_bytes=1024)


def test_backup_refuses_to_write_into_the_directory_it_backs_up(site: Path) -> None:
    done = spaprov("backup", str(site / "site.tar.gz"), "--profiles", str(site))
    assert done.returncode == 1 and "inside the profile directory" in done.stderr
    assert not (site / "site.tar.gz").exists()


def test_restore_goes_only_into_a_profile_directory_or_an_empty_one(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "site.tar.gz"
    archive.write_bytes(archive_bytes(site_files(site).files))
    home = tmp_path / "home"  # `--profiles ~` by a slip: its files must not be deleted
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    for extra in ([], ["--dry-run"]):
        code, stderr = restore_here(capsys, str(archive), "--profiles", str(home), *extra)
        assert code == 1 and "not a profile directory" in stderr
    assert everything(home) == {"thesis.tex": b"years of work"}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert restore_here(capsys, str(archive), "--profiles", str(empty))[0] == 0
    assert documents(empty) == documents(site)


async def test_a_running_server_serves_the_restored_site(
    start: ServerFactory, site: Path, tmp_path: Path
) -> None:
    """The journaled restore is one reload for a server on the directory: the edit is undone."""
    files = site_files(site).files
    server = await start(site, watch_interval=0.05)
    device = site / "devices" / "001122334455.toml"
    device.write_text(device.read_text().replace("Conference Room 1", "Broom Cupboard"))
    await wait_for(lambda: _station_is(server, "Broom Cupboard"))
    backup.restore(site, files)
    await wait_for(lambda: _station_is(server, "Conference Room 1"))


async def _station_is(server: TestServer, name: str) -> bool:
    return await station(server) == name

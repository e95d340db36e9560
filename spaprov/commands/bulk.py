"""`spaprov import FILE.csv` and `spaprov export users|devices` (CUCM's BAT, for SPA sites).

Every row is validated — against the CSV rules and against the whole profile directory with all
rows in place — before anything is written.  Nothing is written unless every row is good;
`--partial` writes the good rows and reports the bad ones.  Bad rows are reported with their
line number and reason.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from spaprov.auth.store import CredentialStore
from spaprov.config import ConfigError, Problem, load_profile_directory
from spaprov.config.documents import device_document, user_document, without_empty_tables
from spaprov.config.loader import ID_NAME, MAC_NAME
from spaprov.config.toml_writer import dumps
from spaprov.fileio import atomic_write, fsync_directory

COLUMNS = {
    "users": ("id", "display_name", "em_profiles", "default_profile", "password"),
    "devices": ("mac", "model", "station_name", "host_user", "em_enabled"),
}
_TRUE, _FALSE = {"yes", "true", "1"}, {"no", "false", "0", ""}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    importer = subparsers.add_parser("import", help="bulk-import users or devices from CSV")
    importer.add_argument(
        "file",
        type=Path,
        help="CSV with a header: " + "; ".join(f"{kind}: {','.join(cols)}" for kind, cols in COLUMNS.items()),
    )
    importer.add_argument(
        "--kind", choices=sorted(COLUMNS), help="users or devices (default: from the header)"
    )
    importer.add_argument("--profiles", type=Path, default=Path("sample_profiles"))
    importer.add_argument("--partial", action="store_true", help="import the good rows even if some are bad")
    importer.set_defaults(run=run_import)
    exporter = subparsers.add_parser("export", help="export users or devices as CSV (to stdout)")
    exporter.add_argument("kind", choices=sorted(COLUMNS))
    exporter.add_argument("--profiles", type=Path, default=Path("sample_profiles"))
    exporter.set_defaults(run=run_export)


class Progress:
    """A progress bar on standard error."""

    def __init__(self, label: str, total: int, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.label, self.total, self.stream, self.width = label, max(total, 1), stream, width
        self._shown = -1

    def update(self, done: int) -> None:
        percent = done * 100 // self.total
        if percent == self._shown:
            return
        self._shown = percent
        filled = self.width * done // self.total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def run_import(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"spaprov import: cannot read {args.file}: {error}", file=sys.stderr)
        return 1
    result = import_rows(args.profiles, text, kind=args.kind, partial=args.partial)
    for line, reason in result.errors:
        print(f"{args.file}:{line}: {reason}", file=sys.stderr)
    if result.written:
        print(
            f"imported {result.written} {result.kind}"
            + (f", skipped {len(result.bad_lines)} bad rows" if result.bad_lines else "")
        )
    elif result.errors:
        print(
            f"nothing imported: {len(result.bad_lines)} bad rows (--partial imports the good ones)",
            file=sys.stderr,
        )
    return 1 if result.errors else 0


class ImportResult:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.errors: list[tuple[int, str]] = []
        self.written = 0

    @property
    def bad_lines(self) -> set[int]:
        return {line for line, _ in self.errors}


def import_rows(
    profiles: Path, text: str, *, kind: str | None = None, partial: bool = False, progress: bool = True
) -> ImportResult:
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    kind = kind or ("devices" if "mac" in header else "users")
    result = ImportResult(kind)
    missing = [c for c in COLUMNS[kind][:1] if c not in header]
    unknown = [c for c in header if c not in COLUMNS[kind]]
    if missing or unknown:
        result.errors.append(
            (
                1,
                f"the header needs {', '.join(COLUMNS[kind])}"
                + (f"; unknown column(s) {', '.join(unknown)}" if unknown else ""),
            )
        )
        return result
    rows = list(reader)
    bar = Progress(f"checking {len(rows)} {kind}", len(rows)) if progress else None
    overrides: dict[str, bytes | None] = {}
    labels: dict[str, int] = {}
    passwords: dict[str, str] = {}
    for index, row in enumerate(rows):
        line = index + 2  # the header is line 1
        try:
            key, document = _document(kind, row)
        except ValueError as error:
            result.errors.append((line, str(error)))
            continue
        label = f"{kind}/{key}.toml"
        if label in labels:
            result.errors.append((line, f"{key!r} is also on line {labels[label]}"))
            continue
        labels[label] = line
        overrides[label] = dumps(without_empty_tables(document)).encode()
        if row.get("password"):
            passwords[key] = row["password"]
        if bar:
            bar.update(index + 1)
    if bar:
        bar.update(len(rows))
    result.errors += _directory_problems(profiles, overrides, labels)
    if result.errors and not partial:
        return result
    good = {label: content for label, content in overrides.items() if labels[label] not in result.bad_lines}
    if partial and good:  # the good rows alone must still make a valid directory
        extra = _directory_problems(profiles, good, labels)
        result.errors += extra
        newly_bad = {line for line, _ in extra}
        good = {label: content for label, content in good.items() if labels[label] not in newly_bad}
    _write(profiles, good, {k: p for k, p in passwords.items() if f"{kind}/{k}.toml" in good})
    result.written = len(good)
    return result


def _document(kind: str, row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    if kind == "users":
        key = (row.get("id") or "").strip()
        if not ID_NAME.fullmatch(key):
            raise ValueError(f"id {key!r} must be lower-case letters, digits, . _ -")
        profiles = [p.strip() for p in (row.get("em_profiles") or "").split(";") if p.strip()]
        document: dict[str, Any] = {
            "display_name": (row.get("display_name") or key).strip(),
            "em_profiles": profiles,
        }
        if (row.get("default_profile") or "").strip():
            document["default_profile"] = row["default_profile"].strip()
        return key, document
    key = (row.get("mac") or "").replace(":", "").replace("-", "").strip().lower()
    if not MAC_NAME.fullmatch(key):
        raise ValueError(f"mac {row.get('mac')!r} is not a MAC address")
    enabled = (row.get("em_enabled") or "yes").strip().lower()
    if enabled not in _TRUE | _FALSE:
        raise ValueError(f"em_enabled {enabled!r} must be yes or no")
    document = {
        "model": (row.get("model") or "").strip(),
        "station_name": (row.get("station_name") or "").strip(),
        "host_user": (row.get("host_user") or "").strip(),
        "em_enabled": enabled in _TRUE,
    }
    return key, document


def _directory_problems(
    profiles: Path, overrides: dict[str, bytes | None], labels: dict[str, int]
) -> list[tuple[int, str]]:
    try:
        load_profile_directory(profiles, overrides)
    except ConfigError as error:
        return [(labels.get(p.file, 0), _reason(p)) for p in error.problems]
    return []


def _reason(problem: Problem) -> str:
    return f"{problem.field}: {problem.reason}" if problem.field else f"{problem.file}: {problem.reason}"


def _write(profiles: Path, files: dict[str, bytes | None], passwords: dict[str, str]) -> None:
    if not files:
        return
    bar = Progress(f"writing {len(files)} files", len(files))
    directories = set()
    for index, (label, content) in enumerate(files.items(), start=1):
        path = profiles / label
        path.parent.mkdir(parents=True, exist_ok=True)
        assert content is not None
        atomic_write(path, content, sync_directory=False)
        directories.add(path.parent)
        bar.update(index)
    for directory in directories:
        fsync_directory(directory)
    if passwords:
        config = load_profile_directory(profiles)
        store = CredentialStore(profiles / "credentials.htdigest", config.site.realm)
        store.set_passwords({user_id + config.site.em_user_domain: pw for user_id, pw in passwords.items()})


def run_export(args: argparse.Namespace) -> int:
    try:
        config = load_profile_directory(args.profiles)
    except ConfigError as error:
        print(f"spaprov export: {error}", file=sys.stderr)
        return 1
    writer = csv.writer(sys.stdout, lineterminator="\n")
    columns = [c for c in COLUMNS[args.kind] if c != "password"]
    writer.writerow(columns)
    writer.writerows(_export_rows(config, args.kind))
    return 0


def _export_rows(config: Any, kind: str) -> Iterable[list[str]]:
    if kind == "users":
        for user_id, user in sorted(config.users.items()):
            doc = user_document(user)
            yield [user_id, doc["display_name"], ";".join(doc["em_profiles"]), doc["default_profile"]]
    else:
        for mac, device in sorted(config.devices.items()):
            doc = device_document(device)
            yield [
                mac,
                doc["model"],
                doc["station_name"],
                doc["host_user"],
                "yes" if doc["em_enabled"] else "no",
            ]

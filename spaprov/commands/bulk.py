"""`spaprov import FILE.csv` and `spaprov export users|devices` (CUCM's BAT, for SPA sites).

Every row is validated — against the CSV rules and against the whole profile directory with all
rows in place — before anything is written.  Nothing is written unless every row is good;
`--partial` writes the good rows and reports the bad ones.  What is written (the rows' files and
their passwords) is one spaprov.transaction batch: all or nothing, also across a crash, and an
interrupted import is finished by the next writer or by `spaprov serve` at start-up.  Bad rows
are reported with their line number and reason.
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
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.config import ConfigError, Problem, load_profile_directory
from spaprov.config.directory_writer import document_bytes
from spaprov.config.documents import device_document, user_document
from spaprov.config.loader import ID_NAME
from spaprov.mac import normalize_mac
from spaprov.transaction import JournalError, Transaction, locked

COLUMNS = {
    "users": ("id", "display_name", "em_profiles", "default_profile", "password"),
    "devices": ("mac", "model", "station_name", "host_user", "em_enabled"),
}
_TRUE, _FALSE = {"yes", "true", "1"}, {"no", "false", "0", ""}
# OWASP CSV Injection: a cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_START = (*_FORMULA_START, "'")  # what export escapes, so what import unescapes
_QUOTE_IF = frozenset(',;"\t\r\n')


class CsvUnreadable(ValueError):
    """The file is not CSV the csv module can read; `line` is where reading stopped."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


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
    add_profiles_argument(importer)
    importer.add_argument("--partial", action="store_true", help="import the good rows even if some are bad")
    importer.set_defaults(run=run_import)
    exporter = subparsers.add_parser("export", help="export users or devices as CSV (to stdout)")
    exporter.add_argument("kind", choices=sorted(COLUMNS))
    add_profiles_argument(exporter)
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
        with args.file.open(encoding="utf-8-sig", newline="") as stream:  # csv needs newline=""
            text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        print(f"spaprov import: cannot read {args.file}: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        result = import_rows(args.profiles, text, kind=args.kind, partial=args.partial)
    except JournalError as error:
        print(f"spaprov import: nothing imported: {error}", file=sys.stderr)
        return EXIT_FAILED
    for line, reason in result.errors:
        print(f"{args.file}:{line}: {reason}", file=sys.stderr)
    if result.unreadable:
        print(f"nothing imported: {args.file} is not readable as CSV", file=sys.stderr)
    elif result.written:
        print(
            f"imported {result.written} {result.kind}"
            + (f", skipped {len(result.bad_lines)} bad rows" if result.bad_lines else "")
        )
    elif result.errors:
        print(
            f"nothing imported: {len(result.bad_lines)} bad rows (--partial imports the good ones)",
            file=sys.stderr,
        )
    return EXIT_FAILED if result.errors else EXIT_OK


class ImportResult:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.errors: list[tuple[int, str]] = []
        self.written = 0
        self.unreadable = False

    @property
    def bad_lines(self) -> set[int]:
        return {line for line, _ in self.errors}


def import_rows(
    profiles: Path, text: str, *, kind: str | None = None, partial: bool = False, progress: bool = True
) -> ImportResult:
    try:
        header, numbered = read_csv(text)
    except CsvUnreadable as error:
        result = ImportResult(kind or "users")
        result.errors.append((error.line, str(error)))
        result.unreadable = True
        return result
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
    if not profiles.is_dir():
        result.errors.append((0, f"{profiles}: is not a directory"))
        return result
    # Validated and written under the directory's writer lock: no other writer changes the
    # directory in between, and an import interrupted by a crash is finished first.
    with locked(profiles, who="spaprov import") as transaction:
        _validate_and_write(transaction, profiles, kind, numbered, result, partial=partial, progress=progress)
    return result


def _validate_and_write(
    transaction: Transaction,
    profiles: Path,
    kind: str,
    numbered: list[tuple[int, dict[str, str]]],
    result: ImportResult,
    *,
    partial: bool,
    progress: bool,
) -> None:
    rows = [row for _, row in numbered]
    bar = Progress(f"checking {len(rows)} {kind}", len(rows)) if progress else None
    overrides: dict[str, bytes | None] = {}
    labels: dict[str, int] = {}
    passwords: dict[str, str] = {}
    for index, (line, row) in enumerate(numbered):
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
        overrides[label] = document_bytes(document)
        if password := _cell(row, "password", strip=False):
            passwords[key] = password
        if bar:
            bar.update(index + 1)
    if bar:
        bar.update(len(rows))
    result.errors += _directory_problems(profiles, overrides, labels)
    if result.errors and not partial:
        return
    good = {label: content for label, content in overrides.items() if labels[label] not in result.bad_lines}
    if partial and good:  # the good rows alone must still make a valid directory
        extra = _directory_problems(profiles, good, labels)
        result.errors += extra
        newly_bad = {line for line, _ in extra}
        good = {label: content for label, content in good.items() if labels[label] not in newly_bad}
    _write(transaction, profiles, good, {k: p for k, p in passwords.items() if f"{kind}/{k}.toml" in good})
    result.written = len(good)


def read_csv(text: str) -> tuple[tuple[str, ...], list[tuple[int, dict[str, str]]]]:
    """The header and the rows, each with the line it ends on; raises CsvUnreadable."""
    lines = _CountedLines(text)  # csv's own line_num is off by one after a \r\n on error
    reader = csv.DictReader(lines)
    try:
        header = tuple(reader.fieldnames or ())
        rows = [(lines.count, row) for row in reader]
    except csv.Error as error:
        line = max(lines.count, 1)
        if "field larger than field limit" in str(error):
            raise CsvUnreadable(
                line, f"a field is longer than {csv.field_size_limit():,} characters (the CSV field limit)"
            ) from None
        raise CsvUnreadable(line, f"not readable as CSV: {error}") from None
    return header, rows


class _CountedLines:
    """The physical lines of `text`, counting how many the csv reader has taken."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text))
        self.count = 0

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        return line


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (see the module doc)."""
    return "'" + cell if cell.startswith(_ESCAPED_START) else cell


def unneutralise(cell: str) -> tuple[str, bool]:
    """`neutralise` undone: (the value, whether a quote was taken off)."""
    if cell.startswith("'") and cell[1:].startswith(_ESCAPED_START):
        return cell[1:], True
    return cell, False


def _cell(row: dict[str, str], column: str, *, strip: bool = True) -> str:
    value, escaped = unneutralise(row.get(column) or "")
    return value if escaped or not strip else value.strip()


def _document(kind: str, row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    if kind == "users":
        key = _cell(row, "id")
        if not ID_NAME.fullmatch(key):
            raise ValueError(f"id {key!r} must be lower-case letters, digits, . _ -")
        profiles = [p.strip() for p in _cell(row, "em_profiles").split(";") if p.strip()]
        document: dict[str, Any] = {
            "display_name": _cell(row, "display_name") or key,
            "em_profiles": profiles,
        }
        if default := _cell(row, "default_profile"):
            document["default_profile"] = default
        return key, document
    mac = normalize_mac(_cell(row, "mac"))
    if mac is None:
        raise ValueError(f"mac {row.get('mac')!r} is not a MAC address")
    key = mac
    enabled = (_cell(row, "em_enabled") or "yes").lower()
    if enabled not in _TRUE | _FALSE:
        raise ValueError(f"em_enabled {enabled!r} must be yes or no")
    document = {
        "model": _cell(row, "model"),
        "station_name": _cell(row, "station_name"),
        "host_user": _cell(row, "host_user"),
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


def _write(
    transaction: Transaction, profiles: Path, files: dict[str, bytes | None], passwords: dict[str, str]
) -> None:
    """The rows' files and their passwords, in one batch: all or nothing, also across a crash."""
    if not files:
        return
    if passwords:
        config = load_profile_directory(profiles, files)
        store = CredentialStore(profiles / "credentials.htdigest", config.site.realm)
        files = files | dict(
            store.password_files(
                {user_id + config.site.em_user_domain: pw for user_id, pw in passwords.items()}
            )
        )
    transaction.commit(files, progress=Progress(f"writing {len(files)} files", len(files)).update)


def run_export(args: argparse.Namespace) -> int:
    try:
        config = load_profile_directory(args.profiles)
    except ConfigError as error:
        print(f"spaprov export: {error}", file=sys.stderr)
        return EXIT_FAILED
    columns = [c for c in COLUMNS[args.kind] if c != "password"]
    sys.stdout.write(csv_line(columns))
    for row in _export_rows(config, args.kind):
        sys.stdout.write(csv_line([neutralise(cell) for cell in row]))
    return EXIT_OK


def csv_line(cells: Iterable[str]) -> str:
    """One RFC 4180 line; a cell is quoted when it holds a quote, a line break, a tab or a
    separator of common spreadsheet locales (`,` and `;`)."""
    return (
        ",".join(
            '"' + cell.replace('"', '""') + '"' if not _QUOTE_IF.isdisjoint(cell) else cell for cell in cells
        )
        + "\n"
    )


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

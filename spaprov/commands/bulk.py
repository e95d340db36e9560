"""`spaprov import FILE.csv` and `spaprov export users|devices` (CUCM's BAT, for SPA sites).

Every row is validated — against the CSV rules and against the whole profile directory with all
rows in place — before anything is written.  Nothing is written unless every row is good;
`--partial` writes the good rows and reports the bad ones.  What is written (the rows' files and
their passwords) is one spaprov.transaction batch: all or nothing, also across a crash, and an
interrupted import is finished by the next writer or by `spaprov serve` at start-up.  Bad rows
are reported with their line number and reason.

An import MERGES into what is there: the columns the CSV carries update an existing device or
user, everything it does not carry (lines, speed dials, line keys, host_password, …) is kept, and
a row that changes nothing is not written at all — so `export` then `import` changes nothing —
and a row that does change a file rewrites only its changed fields (comments and layout kept).
A new device or user gets only what its row says.  `--dry-run` reports, per id, what would be
created or updated (and which fields) or is unchanged, and writes nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from spaprov.auth.store import CredentialStore, password_problem
from spaprov.commands.cli_audit import audit_command
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.state_option import add_state_arguments
from spaprov.config import Config, ConfigError, Problem, load_profile_directory
from spaprov.config.directory_writer import document_bytes
from spaprov.config.documents import device_document, user_document
from spaprov.config.loader import ID_NAME
from spaprov.config.toml_writer import TomlWriteError
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
    add_state_arguments(importer)  # where the import is audited
    importer.add_argument("--partial", action="store_true", help="import the good rows even if some are bad")
    importer.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be created, updated (which fields) or unchanged, per id; write nothing",
    )
    importer.set_defaults(run=run_import)
    exporter = subparsers.add_parser("export", help="export users or devices as CSV (to stdout)")
    exporter.add_argument("kind", choices=sorted(COLUMNS), help="what to export: users or devices")
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
        result = import_rows(
            args.profiles, text, kind=args.kind, partial=args.partial, dry_run=getattr(args, "dry_run", False)
        )
    except JournalError as error:
        print(f"spaprov import: nothing imported: {error}", file=sys.stderr)
        return EXIT_FAILED
    for line, reason in result.errors:
        print(f"{args.file}:{line}: {reason}", file=sys.stderr)
    if result.dry_run and not result.unreadable:
        for change in result.changes:
            print(change.describe())
    counts = (
        f" ({result.count('created')} created, {result.count('updated')} updated,"
        f" {result.count('unchanged')} unchanged)"
    )
    if result.unreadable:
        print(f"nothing imported: {args.file} is not readable as CSV", file=sys.stderr)
    elif result.dry_run:
        if result.changes:
            print(f"dry run: would import {len(result.changes)} {result.kind}{counts}; nothing written")
    elif result.written:
        print(
            f"imported {result.written} {result.kind}{counts}"
            + (f", skipped {len(result.bad_lines)} bad rows" if result.bad_lines else "")
        )
        audit_command(args, "import", "admin_import", f"{result.kind} from {args.file}{counts}")
    elif result.errors:
        print(
            f"nothing imported: {len(result.bad_lines)} bad rows (--partial imports the good ones)",
            file=sys.stderr,
        )
    return EXIT_FAILED if result.errors else EXIT_OK


@dataclass
class Change:
    """What one good row does: `created`, `updated` (naming the fields) or `unchanged`."""

    key: str
    action: str
    fields: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.key}: {self.action}" + (f" {', '.join(self.fields)}" if self.fields else "")


class ImportResult:
    def __init__(self, kind: str, dry_run: bool = False) -> None:
        self.kind = kind
        self.dry_run = dry_run
        self.errors: list[tuple[int, str]] = []
        self.written = 0  # rows taken (created, updated or unchanged); 0 on a dry run
        self.changes: list[Change] = []  # the good rows' changes, written or (dry run) not
        self.unreadable = False

    @property
    def bad_lines(self) -> set[int]:
        return {line for line, _ in self.errors}

    def count(self, action: str) -> int:
        return sum(change.action == action for change in self.changes)


def import_rows(
    profiles: Path,
    text: str,
    *,
    kind: str | None = None,
    partial: bool = False,
    progress: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    try:
        header, numbered = read_csv(text)
    except CsvUnreadable as error:
        result = ImportResult(kind or "users")
        result.errors.append((error.line, str(error)))
        result.unreadable = True
        return result
    kind = kind or ("devices" if "mac" in header else "users")
    result = ImportResult(kind, dry_run)
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
        _validate_and_write(
            transaction, profiles, kind, header, numbered, result, partial=partial, progress=progress
        )
    return result


def _validate_and_write(
    transaction: Transaction,
    profiles: Path,
    kind: str,
    header: tuple[str, ...],
    numbered: list[tuple[int, dict[str, str]]],
    result: ImportResult,
    *,
    partial: bool,
    progress: bool,
) -> None:
    rows = [row for _, row in numbered]
    bar = Progress(f"checking {len(rows)} {kind}", len(rows)) if progress else None
    current = _current(profiles)
    overrides: dict[str, bytes | None] = {}  # only the rows that change their file
    labels: dict[str, int] = {}
    changes: dict[str, Change] = {}
    passwords: dict[str, str] = {}
    for index, (line, row) in enumerate(numbered):
        try:
            key, fields = _fields(kind, row, header)
            label = f"{kind}/{key}.toml"
            if label in labels:
                raise ValueError(f"{key!r} is also on line {labels[label]}")
            change, content = _merged(profiles, current, kind, key, fields)
            password = _cell(row, "password", strip=False)
            if password and (problem := password_problem(password)):
                raise ValueError(f"password: {problem}")
        except (ValueError, TomlWriteError) as error:
            result.errors.append((line, str(error)))
            continue
        labels[label] = line
        if content is not None:
            overrides[label] = content
        if password:
            passwords[key] = password
            if change.action == "unchanged":
                change.action = "updated"
            if change.action == "updated":
                change.fields.append("password")
        changes[label] = change
        if bar:
            bar.update(index + 1)
    if bar:
        bar.update(len(rows))
    result.errors += _directory_problems(profiles, overrides, labels)
    if result.errors and not partial:
        return
    good = {label for label, line in labels.items() if line not in result.bad_lines}
    if partial and good:  # the good rows alone must still make a valid directory
        extra = _directory_problems(profiles, {k: v for k, v in overrides.items() if k in good}, labels)
        result.errors += extra
        newly_bad = {line for line, _ in extra}
        good = {label for label in good if labels[label] not in newly_bad}
    result.changes = [changes[label] for label in sorted(good, key=labels.__getitem__)]
    if result.dry_run:
        return
    _write(
        transaction,
        profiles,
        {label: content for label, content in overrides.items() if label in good},
        {k: p for k, p in passwords.items() if f"{kind}/{k}.toml" in good},
    )
    result.written = len(good)


def _current(profiles: Path) -> Config | None:
    """The directory as it is (what a row's values are compared with); None if it does not load."""
    try:
        return load_profile_directory(profiles)
    except ConfigError:
        return None


def _merged(
    profiles: Path, current: Config | None, kind: str, key: str, fields: dict[str, Any]
) -> tuple[Change, bytes | None]:
    """The row's change and its file's new bytes (None: the file stays as it is).  `fields` are
    the values the CSV carries (None: take the field out, the loader's default applies); a field
    is written only when it differs from what the directory holds now, so everything else in the
    file — and the file itself when nothing differs — stays exactly as it is."""
    path = profiles / kind / f"{key}.toml"
    try:
        old_bytes: bytes | None = path.read_bytes()
    except FileNotFoundError:
        old_bytes = None
    except OSError as error:
        raise ValueError(f"{kind}/{key}.toml cannot be read: {error}") from None
    if old_bytes is None:
        document = {name: value for name, value in fields.items() if value is not None}
        return Change(key, "created"), document_bytes(document)
    try:
        raw = tomllib.loads(old_bytes.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as error:
        raise ValueError(f"{kind}/{key}.toml is not valid TOML: {error}") from None
    effective = _effective(current, kind, key)
    changed = []
    for name, value in fields.items():
        now = effective[name] if effective is not None and name in effective else raw.get(name)
        if value is None:
            if name in raw and raw[name] != _default(kind, key, name, raw):
                changed.append(name)
                del raw[name]
        elif value != now:
            changed.append(name)
            raw[name] = value
    if not changed:
        return Change(key, "unchanged"), None
    return Change(key, "updated", changed), document_bytes(raw, old_bytes)


def _effective(current: Config | None, kind: str, key: str) -> dict[str, Any] | None:
    """The document's values as the loader reads them (its defaults filled in), or None."""
    if current is None:
        return None
    if kind == "users":
        user = current.users.get(key)
        return user_document(user) if user else None
    device = current.devices.get(key)
    return device_document(device) if device else None


def _default(kind: str, key: str, name: str, raw: dict[str, Any]) -> Any:
    """What the loader takes for `name` when the file leaves it out."""
    if kind == "users" and name == "default_profile":
        profiles = raw.get("em_profiles") or [""]
        return profiles[0]
    if kind == "users" and name == "display_name":
        return key
    return None


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


def _fields(kind: str, row: dict[str, str], header: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The row's id and the document fields its columns carry (a column not in the header is not
    carried: the existing value is kept); None for a field to take out (the loader's default)."""
    fields: dict[str, Any] = {}
    if kind == "users":
        key = _cell(row, "id")
        if not ID_NAME.fullmatch(key):
            raise ValueError(f"id {key!r} must be lower-case letters, digits, . _ -")
        if "display_name" in header:  # empty: the id, the loader's default
            fields["display_name"] = _cell(row, "display_name") or None
        if "em_profiles" in header:
            fields["em_profiles"] = [p.strip() for p in _cell(row, "em_profiles").split(";") if p.strip()]
        if "default_profile" in header:
            fields["default_profile"] = _cell(row, "default_profile") or None
        return key, fields
    mac = normalize_mac(_cell(row, "mac"))
    if mac is None:
        raise ValueError(f"mac {row.get('mac')!r} is not a MAC address")
    if "model" in header:
        fields["model"] = _cell(row, "model")
    if "station_name" in header:
        fields["station_name"] = _cell(row, "station_name")
    if "host_user" in header:
        fields["host_user"] = _cell(row, "host_user")
    if "em_enabled" in header:
        enabled = (_cell(row, "em_enabled") or "yes").lower()
        if enabled not in _TRUE | _FALSE:
            raise ValueError(f"em_enabled {enabled!r} must be yes or no")
        fields["em_enabled"] = enabled in _TRUE
    return mac, fields


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

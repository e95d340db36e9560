"""`spaprov backup FILE` and `spaprov restore FILE [--dry-run]`: the whole profile directory, byte
for byte, for backups and migrations (spaprov.config.backup).

Two verbs beside `export`/`import` rather than a mode of them: a CSV import merges flat fields
into what is there, a restore replaces the directory's documents with the archive's, deleting
what the archive lacks.  One command each for one meaning keeps `import` from deleting devices.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spaprov.commands.cli_audit import audit_command
from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK
from spaprov.commands.profiles_option import add_profiles_argument
from spaprov.commands.state_option import add_state_arguments
from spaprov.config.backup import BackupError, back_up, check_site, plan, read_archive, restore
from spaprov.transaction import JournalError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = subparsers.add_parser(
        "backup", help="write the whole profile directory to one tar.gz (for backups and migrations)"
    )
    backup.add_argument("file", type=Path, help="the archive to write (mode 0600: it holds passwords)")
    add_profiles_argument(backup)
    backup.set_defaults(run=run_backup)
    restorer = subparsers.add_parser(
        "restore", help="make the profile directory exactly a backup's, all or nothing"
    )
    restorer.add_argument("file", type=Path, help="an archive written by `spaprov backup`")
    add_profiles_argument(
        restorer,
        note="a new DIR is created (mode 0700); an existing one must hold site.toml or be empty",
    )
    add_state_arguments(restorer)  # where the restore is audited
    restorer.add_argument(
        "--dry-run",
        action="store_true",
        help="print which files would be created, replaced or deleted; write nothing",
    )
    # Restoring onto a new machine: a --profiles directory that does not exist yet is created.
    restorer.set_defaults(run=run_restore, profiles_may_be_new=True)


def run_backup(args: argparse.Namespace) -> int:
    try:
        done = back_up(args.profiles, args.file)
    except (BackupError, JournalError, OSError) as error:
        print(f"spaprov backup: {error}", file=sys.stderr)
        return EXIT_FAILED
    for line in done.skipped:
        print(f"spaprov backup: skipped {line}", file=sys.stderr)
    size = sum(len(data) for data in done.files.values())
    print(f"backed up {len(done.files)} files ({size} bytes) of {args.profiles} to {args.file}")
    return EXIT_OK


def run_restore(args: argparse.Namespace) -> int:
    try:
        files = read_archive(args.file)
        if args.dry_run:
            check_site(files)
            changes = plan(args.profiles, files)
            for action, name in changes.changes():
                print(f"{action}\t{name}")
            print(
                f"dry run: would restore {len(files)} files to {args.profiles}"
                f" ({changes.summary()}); nothing written"
            )
            return EXIT_OK
        done = restore(args.profiles, files)
    except (BackupError, JournalError, OSError) as error:
        print(f"spaprov restore: nothing restored: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"restored {len(files)} files to {args.profiles} ({done.summary()})")
    audit_command(args, "restore", "admin_restore", f"{args.file} ({done.summary()})")
    return EXIT_OK

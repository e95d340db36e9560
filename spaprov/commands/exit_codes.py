"""The exit statuses of every `spaprov` command, named once."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and the answer is "no": a bad rule, a failed check, bad rows
EXIT_USAGE = 2  # the command could not run as asked: bad arguments, an unreadable @FILE
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE"]

"""Every audit event the code records is in spaprov.mobility.audit_events (issue 12, item 7:
"every event documented"), and `spaprov audit --help` lists them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from spaprov.mobility.audit_events import AUDIT_EVENTS

SOURCE = Path(__file__).resolve().parents[2] / "spaprov"
# tx.audit(now, "EVENT" ...), audit_soon("EVENT" ...), _audit_write(request, "EVENT" ...),
# _audit_document(request, "EVENT" ...), AuditRow(at, "EVENT" ...) and the auth callbacks' names.
CALLS = re.compile(
    r"(?:\.audit\(\s*\w+,|audit_soon\(|_audit_write\(\s*\w+,|_audit_document\(\s*\w+,|AuditRow\([^,]+,)"
    r"\s*\"([a-z_]+)\""
)
AUTH_EVENTS = re.compile(r"_on_event\(\s*\"([a-z_]+)\"(?: if \w+ else \"([a-z_]+)\")?")


def events_in_code() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(CALLS.findall(text))
        for pair in AUTH_EVENTS.findall(text):
            found.update(name for name in pair if name)
    found.discard("auth_failed")  # recorded as failed_auth (spaprov.server.app)
    return found


def test_every_event_the_code_records_is_documented() -> None:
    found = events_in_code()
    assert {"login", "failed_auth", "password_changed", "admin_create"} <= found  # the scan works
    assert found - set(AUDIT_EVENTS) == set()


def test_audit_help_lists_the_events() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "spaprov", "audit", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for name in AUDIT_EVENTS:
        assert f"  {name} " in done.stdout, name

"""Extension-mobility policy and its durable state (sessions, audit)."""

from spaprov.mobility.policy import Action, Decision, Mobility, forced_logout
from spaprov.mobility.store import AuditEntry, Session, SqliteStateStore, StateError, open_state

__all__ = [
    "Action",
    "AuditEntry",
    "Decision",
    "Mobility",
    "Session",
    "SqliteStateStore",
    "StateError",
    "forced_logout",
    "open_state",
]

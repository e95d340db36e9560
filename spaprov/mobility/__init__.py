"""Extension-mobility policy and its durable state (sessions, audit)."""

from spaprov.mobility.policy import Action, Decision, forced_logout
from spaprov.mobility.runner import Mobility
from spaprov.mobility.store import (
    AuditEntry,
    PostgresStateStore,
    Session,
    SqliteStateStore,
    StateStore,
    StateStoreError,
    StateStoreUnavailable,
    default_state_url,
    open_state,
)

__all__ = [
    "Action",
    "AuditEntry",
    "Decision",
    "Mobility",
    "PostgresStateStore",
    "Session",
    "SqliteStateStore",
    "StateStore",
    "StateStoreError",
    "StateStoreUnavailable",
    "default_state_url",
    "forced_logout",
    "open_state",
]

"""Two-phone sites and live servers for the extension-mobility flows: the sample site pointed at
a port with a second conference-room phone, and a handle on a running server (its phones, its
audit log, its sessions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.clock import ManualClock
from spaprov.mobility import AuditEntry, Mobility, Session
from spaprov.phone import SpaPhone
from spaprov.server.app import MOBILITY
from tests.helpers.site import CONF_ROOM, copy_sample

ROOM_2 = "00aabbccddee"


def make_site(target: Path, port: int, **mobility: str) -> Path:
    """The sample site, its rule pointed at `port`, with a second phone (conference room 2)."""
    copy_sample(target)
    toml = target / "site.toml"
    text = toml.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    for key, value in mobility.items():
        text = text.replace(text[text.index(f"{key} = ") :].split("\n", 1)[0], f"{key} = {value}")
    toml.write_text(text)
    (target / "devices" / f"{ROOM_2}.toml").write_text(
        'model = "SPA504G"\nstation_name = "Conference Room 2"\nhost_user = "conf-room-2"\n'
        '[[lines]]\nnumber = 1\nuser_id = "1100"\ndisplay_name = "Conference Room 2"\n'
    )
    CredentialStore(target / "credentials.htdigest", "prov.example.com").set_password(
        "conf-room-2@example.com", "room2-secret"
    )
    return target


@dataclass
class Live:
    server: TestServer
    site: Path
    port: int
    clock: ManualClock
    state: str

    @property
    def mobility(self) -> Mobility:
        return self.server.app[MOBILITY]

    def phone(self, mac: str = CONF_ROOM) -> SpaPhone:
        model, host, password = (
            ("SPA525G2", "conf-room-1", "host-secret")
            if mac == CONF_ROOM
            else ("SPA504G", "conf-room-2", "room2-secret")
        )
        phone = SpaPhone.of_model(mac, model, f"http://127.0.0.1:{self.port}/default.cfg")
        phone.set_host_credentials(host, password)
        return phone

    async def audit(self, event: str | None = None) -> list[AuditEntry]:
        await self.mobility.drain()
        with self.mobility.store.transaction(write=False) as tx:
            entries = tx.audit_entries(oldest_first=True)  # in the order they happened
        return [e for e in entries if event is None or e.event == event]

    async def sessions(self, *, active_only: bool = True) -> list[Session]:
        with self.mobility.store.transaction(write=False) as tx:
            return tx.sessions(active_only=active_only)


Starter = Callable[..., Awaitable[Live]]

"""Zero-touch journeys: a factory-reset SPA525G (no MAC in its User-Agent), SPA525G2 and SPA504G,
with nothing typed on them, against a real server with its TFTP listener:

    TFTP bootstrap (/spa$PSN.cfg at the DHCP option 66 server) -> default -> host -> Login ->
    forced logout (an administrator's, pushed by SIP NOTIFY) -> host

The site follows the sample's documented secure path: HTTPS (the phone trusts the site's CA), host
credentials and the phone's key GPP_SA in the default profile, host and mobile profiles fetched
with `[--key $SA]` and so encrypted per device.  Each journey ends asserting every parameter that
differs from the phone's factory state."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.clock import ManualClock
from spaprov.phone import SpaPhone
from spaprov.phone.parameters import factory_defaults
from spaprov.phone.simulator import FACTORY_PROFILE_RULE
from spaprov.server.app import TFTP, create_app
from tests.helpers.phones import names, self_signed
from tests.helpers.site import CONF_ROOM, copy_sample, free_port


@dataclass(frozen=True)
class Desk:
    mac: str
    model: str
    host_user: str
    host_password: str
    line: str
    station: str


DESKS = {
    "SPA525G": Desk("0022aabbcc01", "SPA525G", "lobby", "lobby-secret", "1200", "Lobby"),
    "SPA525G2": Desk("001122334455", "SPA525G2", "conf-room-1", "host-secret", "1000", "Conference Room 1"),
    "SPA504G": Desk("0022aabbcc03", "SPA504G", "desk-3", "desk3-secret", "1300", "Desk 3"),
}

Starter = Callable[..., Awaitable["Site"]]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SIP_PORTS = {model: free_udp_port() for model in DESKS}  # where each phone listens for NOTIFY


def key_of(desk: Desk) -> str:
    return (desk.mac * 3)[:32]  # each phone's own profile_key, as an operator would generate


def journey_site(target: Path, port: int, *, secure: bool) -> Path:
    """The sample site on `port` with one desk phone of each model, each with the SIP port it
    listens on.  secure: the sample's documented path, everything over HTTPS and the host and
    mobile profiles encrypted with each phone's own key (`[--key $SA]`, GPP_SA delivered with the
    host credentials in the default profile); otherwise plain HTTP, explicitly allowed."""
    copy_sample(target)
    toml = target / "site.toml"
    text = toml.read_text().replace(
        "http://127.0.0.1:8080", f"{'https' if secure else 'http'}://127.0.0.1:{port}"
    )
    if secure:
        text = text.replace("[--uid $MUID$PDOM", "[--key $SA --uid $MUID$PDOM")
        text = text.replace("[--uid $PUID$PDOM", "[--key $SA --uid $PUID$PDOM")
    else:
        text = text.replace("allow_plain_http = false", "allow_plain_http = true")
    toml.write_text(text)
    store = CredentialStore(target / "credentials.htdigest", "prov.example.com")
    for desk in DESKS.values():
        path = target / "devices" / f"{desk.mac}.toml"
        if desk.mac != CONF_ROOM:  # the sample's own phone is the SPA525G2
            path.write_text(
                f'model = "{desk.model}"\nstation_name = "{desk.station}"\nhost_user = "{desk.host_user}"\n'
                f'host_password = "{desk.host_password}"\n[[lines]]\nnumber = 1\nuser_id = "{desk.line}"\n'
                f'display_name = "{desk.station}"\npassword = "sip-{desk.host_user}"\n'
            )
            store.set_password(f"{desk.host_user}@example.com", desk.host_password)
        top = f"sip_port = {SIP_PORTS[desk.model]}\n" + (
            f'profile_key = "{key_of(desk)}"\n' if secure else ""
        )
        path.write_text(top + path.read_text())  # top-level keys, before any table
    return target


@dataclass
class Site:
    server: TestServer
    base: str
    tftp_port: int
    clock: ManualClock
    ca_file: str | None

    def phone(self, desk: Desk, *, resync_after_update_reboot: bool = True) -> SpaPhone:
        """A factory-reset phone: nothing set but what DHCP tells it (option 66), trusting the
        site's certificate authority as a phone trusts its own."""
        return SpaPhone.of_model(
            desk.mac, desk.model, clock=self.clock, dhcp_tftp_server=f"127.0.0.1:{self.tftp_port}",
            ca_file=self.ca_file, resync_after_update_reboot=resync_after_update_reboot,
        )  # fmt: skip


@pytest.fixture
async def start_site(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Site]]]:
    servers: list[TestServer] = []

    async def start(*, secure: bool = True) -> Site:
        port, clock = free_port(), ManualClock()
        app = create_app(
            journey_site(tmp_path / "site", port, secure=secure),
            clock=clock,
            watch_interval=None,
            state=f"sqlite:///{tmp_path / 'state.sqlite3'}",
            tftp=("127.0.0.1", 0),
        )
        context, ca_file = self_signed(tmp_path) if secure else (None, None)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server(ssl=context)
        servers.append(server)
        transport = app[TFTP].transport
        assert transport is not None
        base = f"{'https' if secure else 'http'}://127.0.0.1:{port}"
        return Site(server, base, int(transport.get_extra_info("sockname")[1]), clock, ca_file)

    yield start
    for server in servers:
        await server.close()


async def force_logout(site: Site, user: str) -> None:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=site.ca_file) if site.ca_file else True
    async with httpx.AsyncClient(base_url=site.base, auth=("admin", "admin-secret"), verify=verify) as http:
        response = await http.delete(f"/api/v1/sessions/{user}")
    assert response.status_code in (200, 204), response.text


def changed(phone: SpaPhone) -> dict[str, str]:
    factory = factory_defaults(phone.model, FACTORY_PROFILE_RULE)
    return {name: value for name, value in phone.parameters.items() if factory[name] != value}


def host_state(desk: Desk, site: Site) -> dict[str, str]:
    """Every parameter a desk phone on its host profile holds that differs from the factory."""
    keys = {"SPA525G": 5, "SPA525G2": 5, "SPA504G": 4}[desk.model]
    base, key = site.base, "--key $SA " if site.ca_file else ""
    state = {
        "Profile_Rule": (
            f'("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "") ? [{key}--uid $MUID$PDOM --pwd $MPWD] '
            f'{base}/mobilephone.cfg?mac=$MA | ("$PUID" ne "" and "$PPWD" ne "") ? '
            f"[{key}--uid $PUID$PDOM --pwd $PPWD] {base}/hostphone.cfg?mac=$MA | {base}/default.cfg?mac=$MA"
        ),
        "Resync_Error_Retry_Delay": "600",
        "EM_Enable": "Yes",
        "EM_User_Domain": "@example.com",
        "EM_Phone_User_ID": desk.host_user,  # the bare id: the rule appends $PDOM
        "EM_Phone_Password": desk.host_password,
        "Station_Name": desk.station,
        "Station_Display_Name": desk.station,  # the host's own, replacing a logged-out user's
        "Text_Logo": "Example Corp",
        "Display_Name_1_": desk.station,
        "User_ID_1_": desk.line,
        "Password_1_": f"sip-{desk.host_user}",
        "Proxy_1_": "sip.example.com",
        **{f"Extension_{n}_": "Disabled" for n in range(2, keys + 1)},
    }
    if site.ca_file:
        state["GPP_SA"] = key_of(desk)  # the phone's key for the encrypted profiles
    if desk.model == "SPA525G2":  # the sample device: a short name, a speed dial, a service key
        state |= {
            "Password_1_": "sip-conf-room-1",
            "Short_Name_1_": "Conf 1",
            # no Speed_Dial_n on the SPA525G2: the speed dial takes the first free key
            "Short_Name_2_": "Reception",
            "Extended_Function_2_": "fnc=sd;ext=1001@$PROXY;nme=Reception",
            "Short_Name_5_": "Directory",
            "Extended_Function_5_": "fnc=xml;url=http://127.0.0.1:8080/directory.xml;nme=Directory",
        }
    return state


@pytest.mark.parametrize("model", sorted(DESKS))
async def test_factory_reset_phone_to_hot_desking_and_back(start_site: Starter, model: str) -> None:
    site = await start_site()
    desk, psn = DESKS[model], model.removeprefix("SPA")
    phone = site.phone(desk)
    assert ("(" + desk.mac.upper() + ")" in phone.user_agent) == (model != "SPA525G")
    await phone.listen_sip(port=SIP_PORTS[model])
    try:
        # power-up: TFTP bootstrap, then the site's rule: default (host credentials), host, and
        # host again after the reboot the host profile caused (it changes nothing: the phone stays up)
        boot = await phone.boot()
        assert boot.ok, boot
        assert names(boot.fetches) == [f"spa{psn}.cfg", "default.cfg", "hostphone.cfg", "hostphone.cfg"]
        assert boot.fetches[0].url == f"tftp://127.0.0.1:{site.tftp_port}/spa{psn}.cfg"
        # then HTTPS only; the host profile arrives encrypted with the key the default profile gave
        assert all(fetch.url.startswith(f"{site.base}/") for fetch in boot.fetches[1:])
        assert changed(phone) == host_state(desk, site)

        login = await phone.login("alice", "1234")
        assert login.ok, login
        assert names(login.fetches) == ["mobilephone.cfg", "mobilephone.cfg"]
        assert (login.login_state, login.line_1, login.line_1_name) == ("mobile", "2001", "Alice Example")

        await force_logout(site, "alice")  # the server pushes a SIP NOTIFY resync to the phone
        pushed = await phone.wait_pushed()
        assert pushed.ok, pushed
        # the logout profile, then the host profile (and once more after that reboot)
        assert names(pushed.fetches) == ["mobilephone.cfg", "hostphone.cfg", "hostphone.cfg"]
        assert ("resync", 200) in phone.notify_log
        assert changed(phone) == host_state(desk, site) | {"EM_Login_State": "host"}
    finally:
        await phone.close()


async def test_the_bootstrap_also_converges_if_update_reboots_do_not_resync(start_site: Starter) -> None:
    """UNCONFIRMED on SPA5x5: the SPA232D skips Resync_On_Reset after a reboot caused by a
    parameter update ([SPA1xxAG]).  Then each step waits for Resync_Periodic, but the phone still
    reaches its host profile with nothing typed."""
    site = await start_site(secure=False)  # and over plain HTTP, explicitly allowed
    desk = DESKS["SPA525G2"]
    phone = site.phone(desk, resync_after_update_reboot=False)
    boot = await phone.boot()
    assert boot.ok and names(boot.fetches) == ["spa525G2.cfg"]
    later = await phone.advance(3 * 3600)
    assert [names(r.fetches) for r in later] == [["default.cfg"], ["hostphone.cfg"], ["hostphone.cfg"]]
    assert [r.at - boot.at for r in later] == [3600.0, 7200.0, 10800.0]
    assert changed(phone) == host_state(desk, site)


async def test_max_login_time_ends_the_session_by_push_in_simulated_time(start_site: Starter) -> None:
    """The sample's 8:00 max_login_time on the shared clock: the server ends the session on its
    own and pushes the phone, which is back on its host profile before its next periodic resync."""
    site = await start_site()
    desk = DESKS["SPA525G2"]
    phone = site.phone(desk)
    await phone.listen_sip(port=SIP_PORTS[desk.model])
    try:
        assert (await phone.boot()).ok
        login = await phone.login("bob", "5678")
        assert login.ok and login.line_1 == "2002"
        periodic = await phone.advance(8 * 3600 - 60)  # seven periodic resyncs, all still bob's
        assert [r.line_1 for r in periodic] == ["2002"] * 7
        site.clock.advance(90)  # 8:00 passes between two of the phone's resyncs
        pushed = await phone.wait_pushed()
        assert names(pushed.fetches) == ["mobilephone.cfg", "hostphone.cfg", "hostphone.cfg"]
        assert (pushed.login_state, pushed.line_1) == ("host", desk.line)
        assert pushed.at - login.at < 8 * 3600 + 3600  # not left until the next periodic resync
    finally:
        await phone.close()

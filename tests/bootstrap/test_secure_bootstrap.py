"""Item 2 of issue 11: a factory-reset phone reaches its host profile with nothing typed on it, and
securely. The phone's own secrets (host credentials, its key GPP_SA) travel only over HTTPS unless
the site opts in to plain HTTP; profiles the rule fetches with `[--key $SA]` are encrypted with
the device's own key (checked by decrypting with the real openssl binary)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.clock import ManualClock
from spaprov.config import ConfigError, load_profile_directory
from spaprov.config.documents import device_document
from spaprov.profiles import ProfileBuilder, Renderer
from spaprov.profiles.encryption import decrypt_profile
from spaprov.server.app import create_app
from tests.helpers.phones import self_signed
from tests.helpers.site import CONF_ROOM, SPA_AGENT, ServerFactory, flat_profile

KEY = "0123456789abcdef0123456789abcdef"
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")
SECRETS = {"EM_Phone_User_ID", "EM_Phone_Password", "GPP_SA"}


def keyed_site(site: Path, *, plain_http: bool = False, key: str | None = KEY) -> Path:
    """The sample with the host and mobile profiles fetched with --key $SA, and the device's key."""
    toml = site / "site.toml"
    text = toml.read_text()
    text = text.replace("[--uid $MUID$PDOM", "[--key $SA --uid $MUID$PDOM").replace(
        "[--uid $PUID$PDOM", "[--key $SA --uid $PUID$PDOM"
    )
    if plain_http:
        text = text.replace("allow_plain_http = false", "allow_plain_http = true")
    toml.write_text(text)
    if key is not None:
        device = site / "devices" / f"{CONF_ROOM}.toml"
        device.write_text(f'profile_key = "{key}"\n' + device.read_text())  # top level, before tables
    return site


async def get(
    server: TestServer, path: str, auth: tuple[str, str] | None = None, **kwargs: object
) -> httpx.Response:
    digest = httpx.DigestAuth(*auth) if auth else None
    async with httpx.AsyncClient(auth=digest, **kwargs) as client:  # type: ignore[arg-type]
        return await client.get(str(server.make_url(path)), headers={"User-Agent": SPA_AGENT})


async def test_over_plain_http_the_default_profile_carries_no_secret(
    start: ServerFactory, site: Path
) -> None:
    server = await start(keyed_site(site))
    profile = flat_profile((await get(server, "/default.cfg")).content)
    assert not SECRETS & set(profile)


async def test_plain_http_delivery_is_an_explicit_opt_in(start: ServerFactory, site: Path) -> None:
    server = await start(keyed_site(site, plain_http=True))
    profile = flat_profile((await get(server, "/default.cfg")).content)
    assert profile["GPP_SA"] == KEY
    assert profile["EM_Phone_Password"] == "host-secret"


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    if OPENSSL is None:
        pytest.skip("the openssl binary is not installed")
    context, cert = self_signed(tmp_path)
    return context, Path(cert)


async def test_over_https_a_factory_phone_gets_its_host_credentials_and_key(
    aiohttp_server: Callable[..., Awaitable[TestServer]], site: Path, tls: tuple[ssl.SSLContext, Path]
) -> None:
    context, cert = tls
    app = create_app(keyed_site(site), clock=ManualClock(), watch_interval=None, push_interval=None)
    server = await aiohttp_server(app, ssl=context)
    assert server.scheme == "https"
    profile = flat_profile(
        (await get(server, "/default.cfg", verify=ssl.create_default_context(cafile=cert))).content
    )
    assert profile["GPP_SA"] == KEY
    assert profile["EM_Phone_Password"] == "host-secret"
    assert profile["EM_Phone_User_ID"].startswith("conf-room-1")


@needs_openssl
async def test_keyed_host_profile_is_encrypted_with_the_devices_key(
    start: ServerFactory, site: Path, tmp_path: Path
) -> None:
    server = await start(keyed_site(site))
    answer = await get(server, "/hostphone.cfg", ("conf-room-1@example.com", "host-secret"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.content.startswith(b"Salted__")
    assert b"sip-conf-room-1" not in answer.content  # the line password is not readable on the wire
    phrase = tmp_path / "phrase"
    phrase.write_text(KEY)
    assert OPENSSL is not None
    plain = subprocess.run(
        [OPENSSL, "enc", "-d", "-aes-256-cbc", "-md", "md5", "-pass", f"file:{phrase}"],
        input=answer.content, capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    config = load_profile_directory(site)
    assert plain == ProfileBuilder(Renderer()).build(config, "host", config.devices[CONF_ROOM])
    assert flat_profile(plain)["Password_1_"] == "sip-conf-room-1"
    # the ETag is the plain profile's: a phone that has it gets 304, though each body is salted anew
    again = await get(server, "/hostphone.cfg", ("conf-room-1@example.com", "host-secret"))
    assert again.content != answer.content and decrypt_profile(again.content, KEY) == plain
    async with httpx.AsyncClient(auth=httpx.DigestAuth("conf-room-1@example.com", "host-secret")) as client:
        cached = await client.get(
            str(server.make_url("/hostphone.cfg")),
            headers={"User-Agent": SPA_AGENT, "If-None-Match": answer.headers["ETag"]},
        )
    assert cached.status_code == 304


async def test_keyed_mobile_profile_is_encrypted_too(start: ServerFactory, site: Path) -> None:
    server = await start(keyed_site(site))
    answer = await get(server, "/mobilephone.cfg", ("alice@example.com", "1234"))
    assert flat_profile(decrypt_profile(answer.content, KEY))["Password_1_"] == "sip-alice"


def test_a_keyed_rule_needs_every_devices_key(site: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(keyed_site(site, key=None))
    assert f"devices/{CONF_ROOM}.toml: profile_key: is needed" in str(raised.value)


@pytest.mark.parametrize(
    ("rule_change", "message"),
    [
        (("[--key $SA --uid $PUID", "[--key secret --uid $PUID"), r"write --key \$SA"),
        (
            ("| http://127.0.0.1:8080/default.cfg", "| [--key $SA] http://127.0.0.1:8080/default.cfg"),
            "factory-reset",
        ),
    ],
)
def test_rules_the_server_cannot_key_are_refused(
    site: Path, rule_change: tuple[str, str], message: str
) -> None:
    keyed_site(site)
    toml = site / "site.toml"
    toml.write_text(toml.read_text().replace(*rule_change))
    with pytest.raises(ConfigError, match=message):
        load_profile_directory(site)


def test_an_encrypted_default_beside_a_plain_one_is_served(site: Path) -> None:
    keyed_site(site)
    toml = site / "site.toml"
    toml.write_text(
        toml.read_text().replace(
            "| http://127.0.0.1:8080/default.cfg",
            '| ("$B" eq "keyed") ? [--key $SA] http://127.0.0.1:8080/$MA.cfg.enc | http://127.0.0.1:8080/default.cfg',
        )
    )
    routes = {route.path: route.encrypted for route in load_profile_directory(site).routes}
    assert routes["/$MA.cfg.enc"] is True and routes["/default.cfg"] is False


@pytest.mark.parametrize("bad", ["short", "has space in it 12345", "tab\there-0123456789"])
def test_a_bad_profile_key_is_refused_without_showing_it(site: Path, bad: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_profile_directory(keyed_site(site, key=bad))
    assert "profile_key" in str(raised.value) and bad not in str(raised.value)


def test_the_key_is_masked_for_viewers(site: Path) -> None:
    device = load_profile_directory(keyed_site(site)).devices[CONF_ROOM]
    assert device_document(device, secrets=False)["profile_key"] == "********"
    assert device_document(device)["profile_key"] == KEY


async def test_the_shipped_sample_takes_a_factory_phone_to_its_host_profile_over_https(
    aiohttp_server: Callable[..., Awaitable[TestServer]], site: Path, tls: tuple[ssl.SSLContext, Path]
) -> None:
    """Before: in_default_profile = false and no host_password, so a real phone, on which nobody
    can type EM_Phone_User_ID/Password, stayed on its default profile with no line."""
    context, cert = tls
    app = create_app(site, clock=ManualClock(), watch_interval=None, push_interval=None)
    server = await aiohttp_server(app, ssl=context)
    verify = ssl.create_default_context(cafile=cert)
    default = flat_profile((await get(server, "/default.cfg", verify=verify)).content)
    user_id = default["EM_Phone_User_ID"].removesuffix("@example.com")  # bare id per [EMFORUM]'s $PUID
    host = await get(
        server, "/hostphone.cfg", (user_id + "@example.com", default["EM_Phone_Password"]), verify=verify
    )
    assert host.status_code == 200
    assert flat_profile(host.content)["User_ID_1_"] == "1000"

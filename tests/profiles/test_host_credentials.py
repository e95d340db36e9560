"""Issue 11 item 1: the host credentials a default profile hands out must get the phone its host
profile.  EM_Phone_User_ID is $PUID, the rule sends `--uid $PUID$PDOM`: the rendered id must be
the bare host user, and a Digest client using what the rule then produces must be let in."""

from __future__ import annotations

from pathlib import Path

import httpx
import tomlkit

from spaprov.rules import evaluate, normalize_state
from tests.helpers.site import SPA_AGENT, ServerFactory, flat_profile


def _bootstrap_over_plain_http(site: Path) -> None:
    """The sample site, with host credentials in the default profile (forced over plain http)."""
    path = site / "site.toml"
    document = tomlkit.parse(path.read_text())
    document["host_credentials"]["in_default_profile"] = True
    document["host_credentials"]["allow_plain_http"] = True
    path.write_text(tomlkit.dumps(document))
    device = site / "devices" / "001122334455.toml"
    if "host_password" not in device.read_text():  # the sample may carry it already (i11/bootstrap)
        device.write_text('host_password = "host-secret"\n' + device.read_text())


async def test_the_phone_reaches_its_host_profile_with_the_credentials_it_was_given(
    start: ServerFactory, site: Path
) -> None:
    _bootstrap_over_plain_http(site)
    server = await start(site)
    headers = {"User-Agent": SPA_AGENT}
    async with httpx.AsyncClient(base_url=str(server.make_url("/")), headers=headers) as client:
        default = flat_profile((await client.get("/default.cfg")).content)
        assert default["EM_Phone_User_ID"] == "conf-room-1"  # $PUID, without the domain

        # What the phone does next: evaluate its rule over the parameters it now holds.
        phone = {name: default[name] for name in ("EM_Phone_User_ID", "EM_Phone_Password", "EM_User_Domain")}
        chosen = evaluate(default["Profile_Rule"], normalize_state(phone))
        assert chosen.options.uid == "conf-room-1@example.com"  # the Digest user of the host route
        assert chosen.path is not None

        host = await client.get(
            chosen.path, auth=httpx.DigestAuth(chosen.options.uid, chosen.options.pwd or "")
        )
        assert host.status_code == 200
        assert flat_profile(host.content)["User_ID_1_"] == "1000"  # the conference room's own line

        # The doubled domain the old render produced is not a host user: it never gets in.
        doubled = await client.get(
            chosen.path, auth=httpx.DigestAuth("conf-room-1@example.com@example.com", "host-secret")
        )
        assert doubled.status_code == 401

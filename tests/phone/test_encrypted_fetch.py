"""`[--key PHRASE]` over a real HTTP fetch: a profile encrypted by the openssl binary, served as a
file by a plain aiohttp server (standing in for any web server); a wrong phrase is a failed
resync, retried after Resync_Error_Retry_Delay, as the firmware does ([LSPG30] p.32, p.42)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from spaprov.clock import ManualClock
from spaprov.phone import SpaPhone
from tests.helpers.phones import openssl_encrypt

PROFILE = b"<flat-profile><Station_Name>Lobby</Station_Name></flat-profile>"


async def serving(tmp_path: Path, body: bytes) -> TestServer:
    (tmp_path / "spa001122334455.cfg").write_bytes(body)
    app = web.Application()
    app.router.add_static("/", tmp_path)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_the_right_key_decrypts_and_a_wrong_one_fails_and_retries(tmp_path: Path) -> None:
    server = await serving(tmp_path, openssl_encrypt(tmp_path, PROFILE, "SecretPhrase1234"))
    try:
        url = f"http://127.0.0.1:{server.port}/spa$MA.cfg"
        clock = ManualClock()
        good = SpaPhone.of_model("001122334455", "SPA504G", f'[--key "SecretPhrase1234"] {url}', clock=clock)
        assert (await good.boot()).ok and good.parameters["Station_Name"] == "Lobby"

        bad = SpaPhone.of_model("001122334455", "SPA504G", f"[--key NotThePhrase] {url}", clock=clock)
        bad.parameters.update(Resync_Random_Delay="0", Resync_Error_Retry_Delay="120")
        refused = await bad.boot()
        # A wrong key usually breaks AES-CBC's padding; about 1 salt in 256 decrypts to valid
        # padding and garbage instead, which is no profile. The resync fails either way.
        assert not refused.ok
        reasons = ("cannot decrypt with the rule's --key", "corrupt profile")
        assert any(reason in refused.message for reason in reasons), refused.message
        assert refused.fetches[0].status == 200 and bad.parameters["Station_Name"] == ""
        (retry,) = await bad.advance(120)
        assert retry.action == "retry resync" and not retry.ok and retry.at - refused.at == 120
    finally:
        await server.close()

"""Issue 12, item 8: the small traps an administrator met, each with the behaviour it has now."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.auth import CredentialStore
from spaprov.auth.admins import AdminAccounts
from spaprov.cli import build_parser, main
from spaprov.config import ConfigError, load_profile_directory
from spaprov.rules import RuleSyntaxError, parse
from tests.helpers.auth import ADMIN_NAME, ADMIN_PASSWORD, HOST_USER
from tests.helpers.site import SPA_AGENT, ServerFactory

Run = tuple[int, str, str]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`spaprov …` in this process: (exit status, stdout, stderr); `stdin` feeds --password-stdin."""

    def run(*args: str, stdin: str = "") -> Run:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# -- render --user ---------------------------------------------------------------------------------
def test_render_names_an_unknown_user_as_unknown(site: Path, cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("render", "--profiles", str(site), "--device", "001122334455", "--user", "nobody")
    assert code == 1 and "no user 'nobody'" in err and "users: alice, bob" in err
    assert "needs --user" not in err
    code, _, err = cli("render", "--profiles", str(site), "--device", "001122334455", "--kind", "mobile")
    assert code == 1 and "needs --user (one of alice, bob)" in err  # no --user at all: that is the fix


def test_render_takes_the_digest_name_too(site: Path, cli) -> None:  # type: ignore[no-untyped-def]
    by_id = cli("render", "--profiles", str(site), "--device", "001122334455", "--user", "alice")
    by_name = cli(
        "render", "--profiles", str(site), "--device", "001122334455", "--user", "alice@example.com"
    )
    assert by_id[0] == 0 and by_name == by_id


# -- user add / user del -----------------------------------------------------------------------------
def test_user_add_without_the_sites_domain_is_refused_with_the_fix(site: Path, cli) -> None:  # type: ignore[no-untyped-def]
    for name, found in (("carol", "has no domain"), ("carol@elsewhere.org", "has the domain @elsewhere.org")):
        code, _, err = cli("user", "add", name, "--profiles", str(site), "--password-stdin", stdin="pw\n")
        assert code == 1 and found in err and "use carol@example.com" in err
    assert "carol" not in (site / "credentials.htdigest").read_text()
    code, out, _ = cli(
        "user", "add", "carol@example.com", "--profiles", str(site), "--password-stdin", stdin="pw\n"
    )
    assert code == 0 and "added carol@example.com" in out


def test_user_add_without_a_site_still_needs_a_domain(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    where = ("--credentials", str(tmp_path / "c.htdigest"), "--realm", "r", "--password-stdin")
    code, _, err = cli("user", "add", "carol", *where, stdin="pw\n")
    assert code == 1 and "has no domain" in err and "carol@example.com" in err


def test_user_del_of_a_host_user_a_device_uses_is_refused(site: Path, cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("user", "del", HOST_USER, "--profiles", str(site))
    assert code == 1 and "host user of 001122334455 (devices/001122334455.toml)" in err and "--force" in err
    assert HOST_USER in CredentialStore(site / "credentials.htdigest", "prov.example.com")
    code, out, _ = cli("user", "del", HOST_USER, "--profiles", str(site), "--force")
    assert code == 0 and f"deleted {HOST_USER}" in out
    assert HOST_USER not in CredentialStore(site / "credentials.htdigest", "prov.example.com")
    code, _, _ = cli("user", "del", "alice@example.com", "--profiles", str(site))
    assert code == 0  # not a host user: deleted as before


# -- admin passwd / admin del ------------------------------------------------------------------------
def test_admin_passwd_keeps_the_role_and_admin_del_keeps_one_admin(site: Path, cli) -> None:  # type: ignore[no-untyped-def]
    accounts = AdminAccounts(site / "admins.toml")
    assert accounts.names() == {ADMIN_NAME: "admin"}
    code, out, _ = cli(
        "admin", "passwd", ADMIN_NAME, "--profiles", str(site), "--password-stdin", stdin="brand-new-pw\n"
    )
    assert code == 0 and "password changed" in out
    assert (
        accounts.verify(ADMIN_NAME, "brand-new-pw") is not None
        and accounts.verify(ADMIN_NAME, ADMIN_PASSWORD) is None
    )
    assert accounts.names() == {ADMIN_NAME: "admin"}
    code, _, err = cli(
        "admin", "passwd", "ghost", "--profiles", str(site), "--password-stdin", stdin="whatever-pw\n"
    )
    assert code == 1 and "no administrator 'ghost'" in err

    code, _, err = cli("admin", "del", ADMIN_NAME, "--profiles", str(site))
    assert code == 1 and "last administrator with the admin role" in err
    cli(
        "admin",
        "add",
        "eve",
        "--role",
        "viewer",
        "--profiles",
        str(site),
        "--password-stdin",
        stdin="viewer-pw-1\n",
    )
    cli("admin", "add", "root2", "--profiles", str(site), "--password-stdin", stdin="second-admin\n")
    assert cli("admin", "del", "eve", "--profiles", str(site))[0] == 0
    assert cli("admin", "del", ADMIN_NAME, "--profiles", str(site))[0] == 0
    assert accounts.names() == {"root2": "admin"}
    code, _, err = cli("admin", "del", "eve", "--profiles", str(site))
    assert code == 1 and "no administrator 'eve'" in err


# -- "did you mean" ----------------------------------------------------------------------------------
def test_an_unknown_field_suggests_the_known_one(site: Path) -> None:
    device = site / "devices" / "001122334455.toml"
    device.write_text(device.read_text().replace("station_name", "staton_name"))
    with pytest.raises(ConfigError) as refused:
        load_profile_directory(site)
    assert "staton_name: unknown field (did you mean 'station_name'?)" in str(refused.value)


def test_double_equals_in_a_rule_names_the_operator() -> None:
    with pytest.raises(RuleSyntaxError) as refused:
        parse('("$EMS" == "mobile")? http://x/mobile.cfg')
    assert '"==" is not an operator: equality is "eq"' in refused.value.message


def test_set_names_suggest_the_known_one(cli) -> None:  # type: ignore[no-untyped-def]
    for wrong, right in (("ems", "EMS"), ("MUDI", "MUID"), ("EM_Login_Stat", "EM_Login_State")):
        code, _, err = cli("rule", "eval", "($EMS eq mobile)? http://x/a", "--set", f"{wrong}=mobile")
        assert code == 2 and f"did you mean {right!r}?" in err, err


# -- --help on every option ----------------------------------------------------------------------------
def _parsers(
    parser: argparse.ArgumentParser, path: str = "spaprov"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _parsers(child, f"{path} {name}")
    return found


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {action.option_strings[0] if action.option_strings else action.dest}"
        for path, parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_every_command_has_help() -> None:
    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [f"{path} {name}" for name in action.choices if name not in helped]
    assert missing == []


def test_serve_state_help_names_postgresql() -> None:
    serve = dict(_parsers(build_parser()))["spaprov serve"]
    state = next(action for action in serve._actions if "--state" in action.option_strings)
    assert "postgresql://" in (state.help or "") and "sqlite:///" in (state.help or "")


# -- the API's password call ---------------------------------------------------------------------------
async def put_password(server: TestServer, name: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(auth=(ADMIN_NAME, ADMIN_PASSWORD)) as client:
        return await client.put(
            str(server.make_url(f"/api/v1/users/{name}/password")), json={"password": password}
        )


async def fetch(server: TestServer, path: str, user: str, password: str) -> int:
    async with httpx.AsyncClient(headers={"User-Agent": SPA_AGENT}) as client:
        response = await client.get(str(server.make_url(path)), auth=httpx.DigestAuth(user, password))
        return response.status_code


async def test_the_api_takes_the_clis_identity_form_and_sets_host_passwords(
    start: ServerFactory, site: Path
) -> None:
    server = await start(site)
    assert (await put_password(server, "alice@example.com", "new-pin")).status_code == 204
    assert await fetch(server, "/mobilephone.cfg", "alice@example.com", "new-pin") == 200
    assert (await put_password(server, "bob", "bob-pin")).status_code == 204  # the bare id still works
    assert await fetch(server, "/mobilephone.cfg", "bob@example.com", "bob-pin") == 200

    for name in (HOST_USER, "conf-room-1"):  # a host user, in either form
        assert (await put_password(server, name, f"host-{len(name)}")).status_code == 204
        assert await fetch(server, "/hostphone.cfg", HOST_USER, f"host-{len(name)}") == 200
    assert await fetch(server, "/hostphone.cfg", HOST_USER, "host-secret") == 401

    other = await put_password(server, "alice@elsewhere.org", "x")
    assert other.status_code == 404 and "domain @example.com" in other.json()["error"]["message"]
    assert (await put_password(server, "nobody", "x")).status_code == 404
    assert (await put_password(server, "nobody@example.com", "x")).status_code == 404

"""Item 10: no secret in a log line, an error message, a process list or an unauthenticated page.

- aiohttp logs a rejected request (to `aiohttp.server`, with the offending header line in the
  traceback): Authorization values, Basic credentials and Digest `response=` are masked.
- A state URL's password (userinfo, with a raw `@`, or `password=`) is never printed.
- `--state-file` / `$SPAPROV_STATE` keep the URL out of `ps`, also for `--workers` children.
- `/healthz` shows counts to anyone, problems only to an administrator, and never a secret value.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from spaprov.auth.admins import AdminAccounts
from spaprov.live.reload import reload_now
from spaprov.logsafe import redact_secrets, redact_url
from spaprov.server.parser_errors import ParserErrorFilter
from tests.helpers.auth import raw_exchange
from tests.helpers.site import ServerFactory, holder_of

BASIC_SECRET = "YWRtaW46aHVudGVyMi1zM2NyZXQ="  # admin:hunter2-s3cret
DIGEST_RESPONSE = "6629fae49393a05397450978507c4ef1"
MALFORMED = [
    # a header line aiohttp's parser refuses, quoted whole in its traceback
    f"GET /default.cfg HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {BASIC_SECRET}\x00\r\n\r\n",
    f'GET /default.cfg HTTP/1.1\r\nHost: x\r\nAuthorization: Digest username="alice", '
    f'response="{DIGEST_RESPONSE}"\x01\r\n\r\n',
    f"GET /default.cfg HTTP/1.1\r\nHost: x\r\nAuthorization : Basic {BASIC_SECRET}\r\n\r\n",
    f"GET /default.cfg HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic {BASIC_SECRET}\x7f\r\n\r\n",
]
STATE_MARKER = "state-8d1c-do-not-show"


async def test_aiohttp_record_of_a_rejected_header_line_is_redacted(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture, parser_errors: ParserErrorFilter
) -> None:
    server = await start(site)
    with caplog.at_level(logging.DEBUG):
        for request in MALFORMED:
            answer = await raw_exchange(server, request.encode("latin-1"))
            assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    records = [r for r in caplog.records if r.name in ("aiohttp.server", "spaprov.http")]
    assert len(records) >= len(MALFORMED)  # each rejection was logged...
    text = "\n".join(caplog.handler.format(r) for r in records)
    assert "Authorization" in text and "***" in text  # ...with the header named, its value masked
    assert BASIC_SECRET not in text
    assert BASIC_SECRET[:12] not in text
    assert DIGEST_RESPONSE not in text


def test_redact_secrets_masks_authorization_basic_and_digest_response() -> None:
    masked = redact_secrets(
        f"b'Authorization: Basic {BASIC_SECRET}'\n"
        f"{{'authorization': 'Digest response=\"{DIGEST_RESPONSE}\"'}}"
        f"\nproxy-authorization:Basic {BASIC_SECRET} and basic {BASIC_SECRET} response={DIGEST_RESPONSE}"
    )
    assert BASIC_SECRET not in masked and DIGEST_RESPONSE not in masked


def test_redact_url_handles_at_signs_percent_escapes_and_query_passwords() -> None:
    assert redact_url("postgresql://app:Pa@ss@db.example:5432/spaprov") == (
        "postgresql://app:***@db.example:5432/spaprov"
    )
    assert redact_url("postgresql://app:Pa%40ss@[::1]:5432/x?sslmode=require") == (
        "postgresql://app:***@[::1]:5432/x?sslmode=require"
    )
    assert redact_url("postgresql://app@h/db?sslmode=require&password=s3cret&x=1") == (
        "postgresql://app@h/db?sslmode=require&password=***&x=1"
    )
    assert redact_url("postgresql://h:5432/db") == "postgresql://h:5432/db"
    assert redact_url("sqlite:///var/lib/spaprov/state.sqlite3") == "sqlite:///var/lib/spaprov/state.sqlite3"


def spaprov(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("command", "url", "secret"),
    [
        (["sessions", "list"], "postgresql://spaprov:Pa@ss-7q@127.0.0.1:{port}/spaprov", "ss-7q"),
        (["audit"], "postgresql://spaprov@127.0.0.1:{port}/spaprov?password=Query-S3cret", "Query-S3cret"),
        (["sessions", "logout", "alice"], "postgresql://spaprov:Uri-S3cret@[::1/x", "Uri-S3cret"),
        (["serve", "--port", "{port}"], "postgresql://spaprov:Pa@ss-7q@127.0.0.1:{port}/x", "ss-7q"),
        (
            ["serve", "--port", "{port}"],
            "postgresql://u@127.0.0.1:{port}/x?password=Query-S3cret",
            "Query-S3cret",
        ),
    ],
)
def test_state_url_password_is_never_printed(command: list[str], url: str, secret: str, site: Path) -> None:
    port = str(closed_port())
    argv = [part.replace("{port}", port) for part in command]
    result = spaprov(*argv, "--profiles", str(site), "--state", url.replace("{port}", port))
    assert result.returncode != 0
    assert "state" in result.stderr  # it did say what went wrong...
    assert secret not in result.stderr + result.stdout  # ...without the password


def test_state_file_and_environment_name_the_store(site: Path, tmp_path: Path) -> None:
    via_file = tmp_path / "from-file.sqlite3"
    state_file = tmp_path / "state.url"
    state_file.write_text(f"sqlite:///{via_file}\n")
    assert (
        spaprov("sessions", "list", "--profiles", str(site), "--state-file", str(state_file)).returncode == 0
    )
    assert via_file.exists()

    via_env = tmp_path / "from-env.sqlite3"
    result = spaprov("audit", "--profiles", str(site), env={"SPAPROV_STATE": f"sqlite:///{via_env}"})
    assert result.returncode == 0, result.stderr
    assert via_env.exists()


def test_a_state_file_with_a_password_must_be_private(site: Path, tmp_path: Path) -> None:
    state_file = tmp_path / "state.url"
    state_file.write_text("postgresql://spaprov:File-S3cret@127.0.0.1:1/spaprov\n")
    state_file.chmod(0o644)
    result = spaprov("sessions", "list", "--profiles", str(site), "--state-file", str(state_file))
    assert result.returncode == 1
    assert "readable by group or others" in result.stderr and "chmod 600" in result.stderr
    assert "File-S3cret" not in result.stderr
    state_file.chmod(0o600)
    result = spaprov("sessions", "list", "--profiles", str(site), "--state-file", str(state_file))
    assert result.returncode == 1 and "cannot open the state database" in result.stderr  # port 1: refused
    assert "File-S3cret" not in result.stderr


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def blocking_exchange(port: int, request: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode("latin-1"))
        return connection.recv(4096)


@pytest.mark.slow
def test_workers_keep_the_state_url_off_argv_and_redact_aiohttp_logs(site: Path, tmp_path: Path) -> None:
    """`serve --workers 2` as a real process tree: no worker carries the state URL on its command
    line or in its environment, and every worker's stderr masks a rejected Authorization line."""
    log = tmp_path / "serve.log"
    state_file = tmp_path / "state.url"
    state_file.write_text(f"sqlite:///{tmp_path / STATE_MARKER}.sqlite3\n")
    state_file.chmod(0o600)
    port = closed_port()
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "spaprov", "serve", "--profiles", str(site), "--port", str(port)),
                *("--workers", "2", "--state-file", str(state_file)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, f"the workers did not start:\n{log.read_text()}"
            assert server.poll() is None, f"serve exited {server.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        processes = [server.pid, *descendants(server.pid)]
        assert len(processes) >= 3  # the parent and two workers (plus any helper process)
        for pid in processes:
            seen = Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()
            assert STATE_MARKER.encode() not in seen, pid
        assert (tmp_path / f"{STATE_MARKER}.sqlite3").exists()  # and yet they use it
        for _ in range(6):  # new connections: the kernel spreads them over both workers
            assert blocking_exchange(port, MALFORMED[0]).startswith(b"HTTP/1.0 400")
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = log.read_text()
    assert written.count("malformed request from") >= 6 and "Authorization: ***" in written
    assert BASIC_SECRET not in written and BASIC_SECRET[:12] not in written


LITERAL_SECRET = "Literal-Nonce-S3cret-0123456789"


async def test_healthz_shows_no_secret_and_problems_only_to_administrators(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(site)
    site_toml = site / "site.toml"
    site_toml.write_text(
        site_toml.read_text().replace('nonce_secret = "random"', f'nonce_secret = "{LITERAL_SECRET}"')
    )
    assert not await reload_now(holder_of(server))
    url = str(server.make_url("/healthz"))
    async with httpx.AsyncClient() as client:
        anonymous = await client.get(url)
        AdminAccounts(site / "admins.toml").set("viewer", "viewer", "viewer-password")
        wrong = await client.get(url, auth=("viewer", "not-the-password"))
        admin = await client.get(url, auth=("viewer", "viewer-password"))
    assert anonymous.status_code == 200
    report = anonymous.json()
    assert report["status"] == "degraded" and report["reload_problem_count"] == 1
    assert "reload_problems" not in report and "routes" not in report
    assert wrong.status_code == 401 and "reload_problems" not in wrong.text
    assert admin.status_code == 200
    problems = admin.json()["reload_problems"]
    assert problems == [
        'site.toml: auth.nonce_secret: is not "random", "env:NAME" or "file:PATH" (value not shown)'
    ]
    for text in (anonymous.text, wrong.text, admin.text, caplog.text):
        assert LITERAL_SECRET not in text


POSTGRES = os.environ.get("SPAPROV_TEST_POSTGRES", "")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="set SPAPROV_TEST_POSTGRES=postgresql://… to run against PostgreSQL")
def test_postgres_password_from_libpq_passfile_or_environment(site: Path, tmp_path: Path) -> None:
    """A URL without a password: psycopg leaves it to libpq, which reads PGPASSFILE or PGPASSWORD."""
    parts = urlsplit(POSTGRES)
    assert parts.password and parts.hostname and parts.username
    bare = urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port or 5432}"))
    database = parts.path.lstrip("/")
    passfile = tmp_path / "pgpass"
    fields = (parts.hostname, str(parts.port or 5432), database, parts.username, parts.password)
    passfile.write_text(":".join(fields) + "\n")
    passfile.chmod(0o600)
    nothing = {"PGPASSWORD": "", "PGPASSFILE": str(tmp_path / "none")}
    refused = spaprov("sessions", "list", "--profiles", str(site), "--state", bare, env=nothing)
    assert refused.returncode == 1 and "no password supplied" in refused.stderr
    for env in ({**nothing, "PGPASSFILE": str(passfile)}, {"PGPASSWORD": parts.password}):
        result = spaprov("sessions", "list", "--profiles", str(site), "--state", bare, env=env)
        assert result.returncode == 0, result.stderr


def test_serve_warns_that_a_password_on_its_command_line_shows_in_ps(site: Path, tmp_path: Path) -> None:
    """`--state` with a password sits in `ps` for every local user: serve says so, without the
    password, and names the ways to keep it off the command line; from a file it says nothing."""
    port = str(closed_port())
    url = f"postgresql://spaprov:Argv-S3cret@127.0.0.1:{port}/spaprov"  # nothing listens: fails fast
    result = spaprov("serve", "--port", port, "--profiles", str(site), "--state", url)
    output = result.stdout + result.stderr
    assert "the --state URL holds a password, which every local user can read in `ps`" in output
    assert "--state-file" in output and "Argv-S3cret" not in output
    private = tmp_path / "state.url"
    private.write_text(url + "\n")
    private.chmod(0o600)
    result = spaprov("serve", "--port", port, "--profiles", str(site), "--state-file", str(private))
    assert result.returncode != 0 and "in `ps`" not in result.stdout + result.stderr


async def test_bare_credentials_without_a_scheme_are_not_quoted_in_the_access_log(
    start: ServerFactory, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that sends `Authorization: <base64 of a:pw>` (no scheme) got a 400 naming "the
    scheme", i.e. its credentials, in the access log; a real scheme is still named."""
    server = await start(site)
    bare = base64.b64encode(b"a:pass-9z").decode()  # 16 characters: all of it was logged
    with caplog.at_level(logging.INFO, logger="spaprov.access"):
        for value in (bare, "Basic " + bare):
            headers = f"Host: x\r\nAuthorization: {value}\r\nConnection: close\r\n"
            request = f"GET /hostphone.cfg HTTP/1.1\r\n{headers}\r\n"
            assert (await raw_exchange(server, request.encode())).startswith(b"HTTP/1.1 400")
    lines = [r.getMessage() for r in caplog.records if r.name == "spaprov.access"]
    assert len(lines) == 2 and all("is not Digest" in line for line in lines)
    assert bare not in "\n".join(lines) and bare[:8] not in "\n".join(lines)
    assert "authorization scheme 'Basic' is not Digest" in lines[1]

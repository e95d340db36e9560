"""The TFTP listener (`serve --tftp`): a real tftp-hpa client and raw UDP sockets against a real
server on 127.0.0.1, serving the bootstrap profile of the sample site."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from spaprov.commands.serve import tftp_address
from spaprov.config import load_profile_directory
from spaprov.config.models import MODELS
from spaprov.profiles import ProfileBuilder, Renderer
from spaprov.server.app import TFTP
from spaprov.tftp import Limits
from spaprov.tftp.packets import ACK, DATA, ERROR, OACK, RRQ, WRQ
from tests.helpers.cli import serve
from tests.helpers.site import ServerFactory, flat_profile

TFTP_CLIENT = shutil.which("tftp")
needs_tftp_hpa = pytest.mark.skipif(TFTP_CLIENT is None, reason="tftp-hpa is not installed")
FAST = Limits(timeout=0.2, retries=2, max_transfers=3, max_per_client=10)


def port_of(server: TestServer) -> int:
    transport = server.app[TFTP].transport
    assert transport is not None
    return int(transport.get_extra_info("sockname")[1])


@pytest.fixture
async def tftp(start: ServerFactory, site: Path) -> AsyncIterator[int]:
    server = await start(site, tftp=("127.0.0.1", 0), tftp_limits=FAST)
    yield port_of(server)


def expected_bootstrap(site: Path, model: str) -> bytes:
    config = load_profile_directory(site)
    return ProfileBuilder(Renderer()).bootstrap(config, MODELS[model])


def rrq(name: str, mode: str = "octet", **options: str) -> bytes:
    fields = [name, mode, *(item for pair in options.items() for item in pair)]
    return struct.pack("!H", RRQ) + b"".join(f.encode() + b"\0" for f in fields)


def ack(block: int) -> bytes:
    return struct.pack("!HH", ACK, block)


class Client:
    """A raw UDP client that shares the event loop with the server under test."""

    def __init__(self, port: int) -> None:
        self.server = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)

    async def send(self, data: bytes, to: tuple[str, int] | None = None) -> None:
        await asyncio.get_running_loop().sock_sendto(self.sock, data, to or self.server)

    async def receive(self, timeout: float = 2.0) -> tuple[bytes, tuple[str, int]]:
        data, peer = await asyncio.wait_for(
            asyncio.get_running_loop().sock_recvfrom(self.sock, 70000), timeout
        )
        return data, (peer[0], peer[1])

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.receive(seconds)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


async def tftp_hpa(port: int, command: str, tmp: Path, mode: str = "binary") -> tuple[int, str]:
    assert TFTP_CLIENT is not None
    process = await asyncio.create_subprocess_exec(
        TFTP_CLIENT, "-m", mode, "127.0.0.1", str(port), "-c", *command.split(),
        cwd=tmp, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, out.decode()


@needs_tftp_hpa
@pytest.mark.parametrize(("name", "model"), [("spa525G2.cfg", "SPA525G2"), ("/spa504G.cfg", "SPA504G")])
async def test_tftp_hpa_gets_the_model_bootstrap(
    tftp: int, site: Path, tmp_path: Path, name: str, model: str
) -> None:
    _, output = await tftp_hpa(tftp, f"get {name} got.cfg", tmp_path)
    got = (tmp_path / "got.cfg").read_bytes()
    assert got == expected_bootstrap(site, model), output
    params = flat_profile(got)
    assert params["Profile_Rule"] == load_profile_directory(site).site.profile_rule
    # nothing secret, nothing per user: the rule, the resync timers and the site's user domain
    # (so host credentials given on the phone authenticate as id@domain at once)
    assert set(params) == {
        "Provision_Enable", "Resync_On_Reset", "Resync_Random_Delay", "Resync_Periodic",
        "Resync_Error_Retry_Delay", "Resync_From_SIP", "EM_User_Domain", "Profile_Rule",
    }  # fmt: skip
    assert params["EM_User_Domain"] == load_profile_directory(site).site.em_user_domain
    assert got.startswith(b'<?xml version="1.0" standalone="yes"?>')


@needs_tftp_hpa
@pytest.mark.parametrize("name", ["spa001122334455.cfg", "SPA001122334455.CFG", "spa525g2.cfg"])
async def test_per_mac_and_any_case_names_are_served(
    tftp: int, site: Path, tmp_path: Path, name: str
) -> None:
    await tftp_hpa(tftp, f"get {name} got.cfg", tmp_path)
    assert (tmp_path / "got.cfg").read_bytes() == expected_bootstrap(site, "SPA525G2")


@needs_tftp_hpa
async def test_netascii_mode_arrives_intact(tftp: int, site: Path, tmp_path: Path) -> None:
    await tftp_hpa(tftp, "get spa525G2.cfg got.cfg", tmp_path, mode="netascii")
    assert (tmp_path / "got.cfg").read_bytes() == expected_bootstrap(site, "SPA525G2")


@needs_tftp_hpa
@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("get spa999999999999.cfg x", "Error code 1: file not found"),  # unknown device
        ("get spa9999G.cfg x", "Error code 1: file not found"),  # unknown model
        ("get ../etc/passwd x", "Error code 2"),
        ("get spa/../../etc/passwd x", "Error code 2"),
        ("get ..\\..\\win.ini x", "Error code 2"),
        ("put upload.cfg spa525G2.cfg", "Error code 2: read-only server"),
    ],
)
async def test_tftp_hpa_is_refused(tftp: int, tmp_path: Path, command: str, message: str) -> None:
    (tmp_path / "upload.cfg").write_text("<flat-profile/>")
    _, output = await tftp_hpa(tftp, command, tmp_path)
    assert message in output


async def test_blksize_and_tsize_are_negotiated(tftp: int, site: Path) -> None:
    client = Client(tftp)
    expected = expected_bootstrap(site, "SPA525G2")
    try:
        await client.send(rrq("spa525G2.cfg", blksize="100", tsize="0", bogus="1"))
        reply, peer = await client.receive()
        assert peer[1] != tftp  # a new transfer ID, as RFC 1350 asks
        fields = reply[2:].split(b"\0")[:-1]
        assert reply[:2] == struct.pack("!H", OACK)
        assert dict(zip(fields[::2], fields[1::2], strict=True)) == {
            b"blksize": b"100",
            b"tsize": str(len(expected)).encode(),
        }
        await client.send(ack(0), peer)
        got, block = b"", 0
        while True:
            data, _ = await client.receive()
            opcode, number = struct.unpack("!HH", data[:4])
            assert (opcode, number) == (DATA, block + 1)
            assert len(data) - 4 <= 100
            got += data[4:]
            block = number
            await client.send(ack(block), peer)
            if len(data) - 4 < 100:
                break
        assert got == expected
    finally:
        client.close()


async def test_a_huge_blksize_is_capped_and_an_invalid_one_ignored(tftp: int) -> None:
    client = Client(tftp)
    try:
        await client.send(rrq("spa525G2.cfg", blksize="65464"))
        reply, _ = await client.receive()
        assert reply == struct.pack("!H", OACK) + b"blksize\x001428\x00"
        second = Client(tftp)
        try:
            await second.send(rrq("spa525G2.cfg", blksize="7"))  # below RFC 2348's minimum
            reply, _ = await second.receive()
            assert reply[:4] == struct.pack("!HH", DATA, 1)  # no OACK: plain 512-byte transfer
        finally:
            second.close()
    finally:
        client.close()


async def test_a_lost_ack_is_answered_by_one_resend_and_a_silent_client_is_given_up(tftp: int) -> None:
    client = Client(tftp)
    try:
        await client.send(rrq("spa525G2.cfg"))
        first, peer = await client.receive()
        assert first[:4] == struct.pack("!HH", DATA, 1)
        again, _ = await client.receive(1.0)  # no ACK: the same block after the timeout
        assert again == first
        third, _ = await client.receive(1.0)
        assert third == first
        assert await client.nothing_within(0.6)  # retries=2: three sends, then the transfer ends
        await client.send(ack(1), peer)
        assert await client.nothing_within(0.3)  # that transfer is over; its socket is closed
    finally:
        client.close()


async def test_a_duplicate_ack_does_not_resend(tftp: int) -> None:
    """The Sorcerer's Apprentice bug (RFC 1123 4.2.3.1): only a timeout resends."""
    client = Client(tftp)
    try:
        await client.send(rrq("spa525G2.cfg"))
        _, peer = await client.receive()
        await client.send(ack(1), peer)
        second, _ = await client.receive()
        assert second[:4] == struct.pack("!HH", DATA, 2)
        await client.send(ack(1), peer)  # stale
        assert await client.nothing_within(0.1)
        await client.send(ack(2), peer)
        assert await client.nothing_within(0.3)  # block 2 was the last: done
    finally:
        client.close()


async def test_transfers_are_bounded(tftp: int) -> None:
    clients = [Client(tftp) for _ in range(FAST.max_transfers + 1)]
    try:
        for client in clients[:-1]:
            await client.send(rrq("spa525G2.cfg"))
            data, _ = await client.receive()
            assert data[:4] == struct.pack("!HH", DATA, 1)
        await clients[-1].send(rrq("spa525G2.cfg"))
        refused, _ = await clients[-1].receive()
        assert refused[:4] == struct.pack("!HH", ERROR, 0)
        assert b"busy" in refused
    finally:
        for client in clients:
            client.close()


async def test_one_source_cannot_take_every_slot(start: ServerFactory, site: Path) -> None:
    server = await start(site, tftp=("127.0.0.1", 0), tftp_limits=Limits(timeout=0.5, max_per_client=2))
    clients = [Client(port_of(server)) for _ in range(3)]  # all from 127.0.0.1
    try:
        for client in clients[:2]:
            await client.send(rrq("spa525G2.cfg"))
            data, _ = await client.receive()
            assert data[:4] == struct.pack("!HH", DATA, 1)
        await clients[2].send(rrq("spa525G2.cfg"))
        refused, _ = await clients[2].receive()
        assert refused[:4] == struct.pack("!HH", ERROR, 0)
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize(
    ("packet", "code"),
    [
        (struct.pack("!H", WRQ) + b"spa525G2.cfg\0octet\0", 2),
        (rrq("spa525G2.cfg", mode="mail"), 4),
        (rrq("spa525G2.cfg", mode="bogus"), 4),
        (struct.pack("!H", RRQ) + b"spa525G2.cfg\0octet", 4),  # not NUL-terminated
        (struct.pack("!H", RRQ) + "sp\u00e4.cfg".encode() + b"\0octet\0", 2),
        (struct.pack("!H", 99) + b"x", 4),
        (b"\x00", 4),
    ],
)
async def test_bad_requests_get_a_tftp_error(tftp: int, packet: bytes, code: int) -> None:
    client = Client(tftp)
    try:
        await client.send(packet)
        reply, _ = await client.receive()
        assert reply[:4] == struct.pack("!HH", ERROR, code)
    finally:
        client.close()


async def test_stray_acks_and_errors_are_not_answered(tftp: int) -> None:
    client = Client(tftp)
    try:
        await client.send(ack(1))
        await client.send(struct.pack("!HH", ERROR, 0) + b"x\0")
        assert await client.nothing_within(0.3)
    finally:
        client.close()


async def test_outcomes_are_counted_in_metrics(start: ServerFactory, site: Path) -> None:
    server = await start(site, tftp=("127.0.0.1", 0), tftp_limits=FAST)
    client = Client(port_of(server))
    try:
        await client.send(rrq("nothing.cfg"))
        await client.receive()
        await client.send(rrq("spa504G.cfg", blksize="1428"))
        _, peer = await client.receive()
        await client.send(ack(0), peer)
        await client.receive()
        await client.send(ack(1), peer)
        await asyncio.sleep(0.05)
    finally:
        client.close()
    async with httpx.AsyncClient() as http:
        answer = await http.get(str(server.make_url("/metrics")), auth=("admin", "admin-secret"))
    text = answer.text
    assert 'spaprov_tftp_transfers_total{outcome="not_found"} 1' in text
    assert 'spaprov_tftp_transfers_total{outcome="sent"} 1' in text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("69", (None, 69)), ("0.0.0.0:69", ("0.0.0.0", 69)), ("[::]:6969", ("::", 6969))],
)
def test_the_tftp_option_takes_addr_and_port(text: str, parsed: tuple[str | None, int]) -> None:
    assert tftp_address(text) == parsed


@pytest.mark.parametrize("text", ["", "x", "0", "70000", ":69", "[::]69", "host:"])
def test_a_bad_tftp_option_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"PORT"):
        tftp_address(text)


@needs_tftp_hpa
def test_spaprov_serve_tftp_answers_tftp_hpa(site: Path, tmp_path: Path) -> None:
    """The command line's --tftp, end to end: a real `spaprov serve` process, a real client."""
    with udp_port() as port:
        pass
    with contextlib.contextmanager(serve)("--profiles", str(site), "--tftp", f"127.0.0.1:{port}"):
        assert TFTP_CLIENT is not None
        for _attempt in range(50):  # the UDP listener starts with the HTTP one
            done = subprocess.run(
                [TFTP_CLIENT, "-m", "binary", "127.0.0.1", str(port), "-c", "get", "spa525G2.cfg", "got.cfg"],
                cwd=tmp_path, capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            if (tmp_path / "got.cfg").exists() and (tmp_path / "got.cfg").stat().st_size:
                break
            time.sleep(0.1)
        assert (tmp_path / "got.cfg").read_bytes() == expected_bootstrap(site, "SPA525G2"), done.stdout


@contextlib.contextmanager
def udp_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        yield int(probe.getsockname()[1])

"""The phone's TFTP read client (RFC 1350) against scripted UDP peers on 127.0.0.1: the cases a
well-behaved server never produces (duplicates, strangers, errors, oversize files)."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

import pytest

from spaprov.phone.tftp import TftpError, tftp_read

Script = Callable[[socket.socket, tuple[str, int], bytes], None]


def data(block: int, payload: bytes) -> bytes:
    return struct.pack("!HH", 3, block) + payload


def expect_ack(sock: socket.socket, block: int) -> None:
    packet, _ = sock.recvfrom(100)
    assert packet == struct.pack("!HH", 4, block), packet


async def run(script: Script, filename: str = "/spa525G.cfg", limit: int = 10_000) -> bytes:
    """A listening socket whose first packet (the RRQ) is handed to `script` in a thread; the
    script answers from sockets of its own (new transfer IDs), as a server does."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]

    def serve() -> None:
        request, client = listener.recvfrom(600)
        assert request == b"\x00\x01" + filename.encode() + b"\x00octet\x00"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tid:
            tid.bind(("127.0.0.1", 0))
            tid.settimeout(5)
            script(tid, client, request)

    server = asyncio.get_running_loop().run_in_executor(None, serve)
    try:
        return await tftp_read("127.0.0.1", port, filename, limit=limit, timeout=0.3, retries=2)
    finally:
        await server
        listener.close()


async def test_a_multi_block_file_with_a_duplicate_block_and_a_stranger() -> None:
    body = bytes(range(256)) * 3  # 768 bytes: a full block and a short one

    def script(tid: socket.socket, client: tuple[str, int], _: bytes) -> None:
        tid.sendto(data(1, body[:512]), client)
        expect_ack(tid, 1)
        tid.sendto(data(1, body[:512]), client)  # a retransmission: acknowledged again, not appended
        expect_ack(tid, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
            stranger.settimeout(5)
            stranger.sendto(data(2, b"intruder"), client)
            error, _ = stranger.recvfrom(100)
            assert error[:4] == struct.pack("!HH", 5, 5)  # Unknown transfer ID
        tid.sendto(data(2, body[512:]), client)
        expect_ack(tid, 2)

    assert await run(script) == body


async def test_file_not_found_is_reported_as_such() -> None:
    def script(tid: socket.socket, client: tuple[str, int], _: bytes) -> None:
        tid.sendto(struct.pack("!HH", 5, 1) + b"File not found\x00", client)

    with pytest.raises(TftpError, match="TFTP error 1: File not found") as raised:
        await run(script)
    assert raised.value.not_found


async def test_a_file_over_the_limit_is_abandoned() -> None:
    def script(tid: socket.socket, client: tuple[str, int], _: bytes) -> None:
        tid.sendto(data(1, b"x" * 512), client)
        packet, _ = tid.recvfrom(100)
        assert packet[:4] == struct.pack("!HH", 5, 3)  # disk full / allocation exceeded

    with pytest.raises(TftpError, match="larger than 100 bytes"):
        await run(script, limit=100)


async def test_a_lost_ack_is_sent_again_and_silence_ends_in_an_error() -> None:
    def script(tid: socket.socket, client: tuple[str, int], _: bytes) -> None:
        tid.sendto(data(1, b"x" * 512), client)
        expect_ack(tid, 1)
        expect_ack(tid, 1)  # the server said nothing more: the client repeats its ACK

    with pytest.raises(TftpError, match=r"no answer from 127\.0\.0\.1"):
        await run(script)

"""A TFTP read client (RFC 1350), as the phone uses for `tftp://` and scheme-less rule URLs
([LSPG30] p.38: "If scheme is omitted, tftp is assumed", port 69, the server from DHCP option 66
when the URL names none).

Octet mode, 512-byte blocks, lock-step ACKs.  The server answers from a new port (its transfer
ID); packets from any other port get ERROR 5 and are otherwise ignored (RFC 1350 section 4).  A
lost packet is sent again after `timeout` seconds, up to `retries` times: these are network
waits, not the simulated clock's.  The path is sent as the rule wrote it, leading `/` included
(what SPA firmware sends is UNCONFIRMED; servers commonly accept both).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

RRQ, DATA, ACK, ERROR = 1, 3, 4, 5
BLOCK_SIZE = 512
FILE_NOT_FOUND = 1
UNKNOWN_TRANSFER_ID = 5
DISK_FULL = 3


class TftpError(Exception):
    """The transfer failed; `not_found` when the server said File not found (error code 1)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass
class _Inbox(asyncio.DatagramProtocol):
    queue: asyncio.Queue[tuple[bytes, tuple[str, int]]]

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        self.queue.put_nowait((data, (str(addr[0]), addr[1])))

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable: let the timeout act
        pass


def rrq(filename: str) -> bytes:
    return struct.pack("!H", RRQ) + filename.encode("ascii") + b"\0octet\0"


def ack(block: int) -> bytes:
    return struct.pack("!HH", ACK, block)


def error_packet(code: int, message: str) -> bytes:
    return struct.pack("!HH", ERROR, code) + message.encode("ascii") + b"\0"


async def tftp_read(
    host: str, port: int, filename: str, *, limit: int, timeout: float = 1.0, retries: int = 5
) -> bytes:
    """The file's bytes; TftpError if the server refuses it, goes silent, or sends more than
    `limit` bytes."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        raise TftpError(f"file name {filename!r} is not ASCII") from None
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
    try:
        infos = await loop.getaddrinfo(host, port, type=2)  # SOCK_DGRAM
    except OSError as error:
        raise TftpError(f"cannot resolve {host}: {error}") from None
    family, _, _, _, address = infos[0]
    transport, _ = await loop.create_datagram_endpoint(lambda: _Inbox(queue), family=family)
    try:
        return await _transfer(
            transport, queue, (str(address[0]), int(address[1])), filename, limit, timeout, retries
        )
    finally:
        transport.close()


async def _transfer(
    transport: asyncio.DatagramTransport,
    queue: asyncio.Queue[tuple[bytes, tuple[str, int]]],
    server: tuple[str, int],
    filename: str,
    limit: int,
    timeout: float,
    retries: int,
) -> bytes:
    last, peer = rrq(filename), server
    transport.sendto(last, server)
    received, block, server_tid = bytearray(), 0, None
    attempts = 0
    while True:
        try:
            data, source = await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            attempts += 1
            if attempts > retries:
                raise TftpError(f"no answer from {server[0]}:{server[1]} after {retries} retries") from None
            transport.sendto(last, peer)
            continue
        if source[0] != server[0] or (server_tid is not None and source != server_tid):
            transport.sendto(error_packet(UNKNOWN_TRANSFER_ID, "Unknown transfer ID"), source)
            continue
        if len(data) < 4:
            continue  # not a TFTP packet
        opcode, number = struct.unpack("!HH", data[:4])
        if opcode == ERROR:
            message = data[4:].split(b"\0", 1)[0].decode("ascii", "replace")
            raise TftpError(f"TFTP error {number}: {message}", not_found=number == FILE_NOT_FOUND)
        if opcode != DATA:
            continue
        server_tid = server_tid or source
        peer = server_tid
        if number != (block + 1) % 65536:
            if number == block % 65536:  # our ACK was lost: the server sent the block again
                transport.sendto(ack(number), peer)
            continue
        attempts = 0
        block += 1
        received += data[4:]
        if len(received) > limit:
            transport.sendto(error_packet(DISK_FULL, "file too large"), peer)
            raise TftpError(f"file larger than {limit} bytes")
        last = ack(number)
        transport.sendto(last, peer)
        if len(data) - 4 < BLOCK_SIZE:
            return bytes(received)

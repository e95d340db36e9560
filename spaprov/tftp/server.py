"""A read-only TFTP server (RFC 1350, options per RFC 2347/2348/2349) on the asyncio event loop.

It serves what `files(name)` returns and nothing else: there is no file system behind it. Each
read runs on its own UDP socket (a new transfer ID, as RFC 1350 asks), lock-step: one block out,
wait for its ACK, retransmit on timeout only (a duplicate ACK is ignored, so the "Sorcerer's
Apprentice" storm cannot start), give up after `retries` timeouts. At most `max_transfers` run at
once; a request beyond that gets an error at once. Writes get "access violation".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from spaprov.logsafe import quoted
from spaprov.tftp import packets
from spaprov.tftp.packets import ErrorCode, PacketError

log = logging.getLogger("spaprov.tftp")

Address = tuple[str, int]
MAX_BLOCK_OFFERED = 1428  # blksize granted at most: one Ethernet frame (RFC 2348's example)
QUEUE = 8


class FileRefused(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Files = Callable[[str], bytes]  # returns the content, or raises FileRefused
Outcome = Callable[[str], None]  # told each transfer's outcome ("sent", "not_found", ...)


@dataclass(frozen=True)
class Limits:
    timeout: float = 1.0  # seconds before a block is sent again (a client may ask for more)
    retries: int = 5
    max_transfers: int = 64
    # per source address: one spoofed source cannot take every slot, and what a forged RRQ can
    # reflect at a victim stays bounded (a block and its retransmissions per transfer)
    max_per_client: int = 4
    max_timeout: float = 10.0  # the most a client's "timeout" option may set


class _Aborted(Exception):
    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome


class _Channel(asyncio.DatagramProtocol):
    """The socket of one transfer, connected to its client: packets from anyone else never
    arrive (the kernel drops them)."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes | Exception] = asyncio.Queue(QUEUE)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.inbox.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.inbox.put_nowait(exc)


class TftpServer(asyncio.DatagramProtocol):
    def __init__(
        self, files: Files, *, limits: Limits | None = None, on_outcome: Outcome | None = None
    ) -> None:
        self.files = files
        self.limits = limits or Limits()
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self.transport: asyncio.DatagramTransport | None = None
        self.local_host = "0.0.0.0"
        self.transfers: dict[Address, asyncio.Task[None]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock: socket.socket = transport.get_extra_info("socket")
        self.local_host = sock.getsockname()[0]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        addr = (addr[0], addr[1])
        if addr in self.transfers:  # a retransmitted RRQ: its transfer is under way
            return
        try:
            packet = packets.parse(data)
        except PacketError as error:
            self._finish(addr, "malformed", str(error), reply=(error.code, str(error)))
            return
        if isinstance(packet, packets.Request) and packet.opcode == packets.WRQ:
            self._finish(
                addr,
                "refused",
                f"write of {quoted(packet.filename)}",
                reply=(ErrorCode.ACCESS_VIOLATION, "read-only server"),
            )
            return
        if not isinstance(packet, packets.Request):
            return  # an ACK, DATA or ERROR for no transfer of ours: dropped, never answered
        if packet.mode == "mail":
            self._finish(
                addr, "refused", "mail mode", reply=(ErrorCode.ILLEGAL_OPERATION, "mail mode not supported")
            )
            return
        from_there = sum(1 for peer in self.transfers if peer[0] == addr[0])
        if len(self.transfers) >= self.limits.max_transfers or from_there >= self.limits.max_per_client:
            self._finish(
                addr,
                "busy",
                f"{quoted(packet.filename)}: too many transfers",
                reply=(ErrorCode.NOT_DEFINED, "server busy, try again"),
            )
            return
        try:
            content = self.files(packet.filename)
        except FileRefused as refusal:
            outcome = "not_found" if refusal.code == ErrorCode.FILE_NOT_FOUND else "refused"
            self._finish(
                addr,
                outcome,
                f"{quoted(packet.filename)}: {refusal.message}",
                reply=(refusal.code, refusal.message),
            )
            return
        if packet.mode == "netascii":
            content = packets.to_netascii(content)
        task = asyncio.get_running_loop().create_task(self._send(addr, packet, content))
        self.transfers[addr] = task
        task.add_done_callback(lambda _task: self.transfers.pop(addr, None))

    def _finish(
        self, addr: Address, outcome: str, detail: str, *, reply: tuple[ErrorCode, str] | None = None
    ) -> None:
        if reply is not None and self.transport is not None:
            self.transport.sendto(packets.error(*reply), addr)
        self.on_outcome(outcome)
        log.info("tftp %s %s:%d: %s", outcome, addr[0], addr[1], detail)

    def negotiate(self, request: packets.Request, size: int) -> tuple[int, float, dict[str, str]]:
        """(block size, timeout, options to acknowledge). Options with values out of range, or
        unknown ones, are left out of the OACK, which RFC 2347 allows."""
        block, timeout = packets.DEFAULT_BLOCK, self.limits.timeout
        granted: dict[str, str] = {}
        for name, value in request.options.items():
            if not value.isdigit() or len(value) > 6:
                continue
            number = int(value)
            if name == "blksize" and packets.MIN_BLOCK <= number <= packets.MAX_BLOCK:
                block = min(number, MAX_BLOCK_OFFERED)
                granted[name] = str(block)
            elif name == "tsize" and number == 0:
                granted[name] = str(size)
            elif name == "timeout" and 1 <= number <= 255:
                timeout = min(float(number), self.limits.max_timeout)
                granted[name] = str(int(timeout))
        return block, timeout, granted

    async def _send(self, addr: Address, request: packets.Request, content: bytes) -> None:
        block_size, timeout, granted = self.negotiate(request, len(content))
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        try:
            transport, channel = await loop.create_datagram_endpoint(
                _Channel, local_addr=(self.local_host, 0), remote_addr=addr, family=family
            )
        except OSError as error:
            self._finish(addr, "failed", f"{quoted(request.filename)}: cannot open a socket: {error}")
            return
        name = quoted(request.filename)
        try:
            if granted:
                await _exchange(transport, channel, packets.oack(granted), 0, timeout, self.limits.retries)
            blocks = len(content) // block_size + 1  # the last block is short, maybe empty
            for index in range(blocks):
                payload = content[index * block_size : (index + 1) * block_size]
                await _exchange(
                    transport,
                    channel,
                    packets.data(index + 1, payload),
                    (index + 1) & 0xFFFF,
                    timeout,
                    self.limits.retries,
                )
            self.on_outcome("sent")
            log.info(
                "tftp sent %s:%d: %s, %d bytes in %d blocks of %d",
                addr[0],
                addr[1],
                name,
                len(content),
                blocks,
                block_size,
            )
        except _Aborted as aborted:
            self.on_outcome(aborted.outcome)
            log.info("tftp %s %s:%d: %s: %s", aborted.outcome, addr[0], addr[1], name, aborted)
        finally:
            transport.close()


async def _exchange(
    transport: asyncio.DatagramTransport,
    channel: _Channel,
    packet: bytes,
    block: int,
    timeout: float,
    retries: int,
) -> None:
    """Send `packet` until the client ACKs `block`; a stale ACK or a stray packet does not
    resend (only a timeout does)."""
    loop = asyncio.get_running_loop()
    for _attempt in range(retries + 1):
        transport.sendto(packet)
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                received = await asyncio.wait_for(channel.inbox.get(), left)
            except TimeoutError:
                break
            if isinstance(received, Exception):
                raise _Aborted("failed", f"client unreachable: {received}")
            try:
                answer = packets.parse(received)
            except PacketError as error:
                transport.sendto(packets.error(error.code, str(error)))
                raise _Aborted("aborted", f"malformed packet: {error}") from None
            if isinstance(answer, packets.Error):
                raise _Aborted("aborted", f"client error {answer.code}: {quoted(answer.message)}")
            if isinstance(answer, packets.Ack) and answer.block == block:
                return
    raise _Aborted("timeout", f"no ACK of block {block} after {retries + 1} sends")

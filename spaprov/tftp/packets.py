"""TFTP packets (RFC 1350) with the option extension (RFC 2347) for blksize (RFC 2348), timeout
and tsize (RFC 2349): parse what a client sends, build what a read-only server answers. Pure."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6
DEFAULT_BLOCK = 512
MIN_BLOCK, MAX_BLOCK = 8, 65464  # RFC 2348
MAX_REQUEST = 1024  # an RRQ is a name, a mode and a few options; nothing longer is legitimate
MAX_NAME = 255


class ErrorCode(IntEnum):
    NOT_DEFINED = 0
    FILE_NOT_FOUND = 1
    ACCESS_VIOLATION = 2
    DISK_FULL = 3
    ILLEGAL_OPERATION = 4
    UNKNOWN_TID = 5
    FILE_EXISTS = 6
    NO_SUCH_USER = 7
    OPTION_REFUSED = 8  # RFC 2347


class PacketError(ValueError):
    """A packet that cannot be parsed; `code` is the TFTP error to answer with."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.ILLEGAL_OPERATION) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Request:
    """An RRQ or WRQ: file name, transfer mode (lower case) and options (names in lower case)."""

    opcode: int
    filename: str
    mode: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ack:
    block: int


@dataclass(frozen=True)
class Error:
    code: int
    message: str


@dataclass(frozen=True)
class Other:
    """DATA or OACK sent to a read-only server: never legitimate, answered as illegal."""

    opcode: int


Packet = Request | Ack | Error | Other


def parse(data: bytes) -> Packet:
    """One datagram from a client. Raises PacketError for anything malformed."""
    if len(data) < 2:
        raise PacketError("packet shorter than an opcode")
    (opcode,) = struct.unpack("!H", data[:2])
    if opcode in (RRQ, WRQ):
        return _parse_request(opcode, data[2:])
    if opcode == ACK:
        if len(data) != 4:
            raise PacketError("ACK of the wrong length")
        return Ack(struct.unpack("!H", data[2:4])[0])
    if opcode == ERROR:
        if len(data) < 4:
            raise PacketError("ERROR without a code")
        message = data[4:].split(b"\0", 1)[0]
        return Error(struct.unpack("!H", data[2:4])[0], message.decode("ascii", "replace")[:200])
    if opcode in (DATA, OACK):
        return Other(opcode)
    raise PacketError(f"unknown opcode {opcode}")


def _parse_request(opcode: int, body: bytes) -> Request:
    if len(body) > MAX_REQUEST:
        raise PacketError("request too long")
    if not body.endswith(b"\0"):
        raise PacketError("request fields are not NUL-terminated")
    fields = body[:-1].split(b"\0")
    if len(fields) < 2 or len(fields) % 2:
        raise PacketError("request needs a file name, a mode and option name/value pairs")
    try:
        texts = [item.decode("ascii") for item in fields]
    except UnicodeDecodeError:
        raise PacketError("request fields must be ASCII", ErrorCode.ACCESS_VIOLATION) from None
    filename, mode = texts[0], texts[1].lower()
    if not filename or len(filename) > MAX_NAME:
        raise PacketError("file name empty or too long", ErrorCode.ACCESS_VIOLATION)
    if mode not in ("octet", "netascii", "mail"):
        raise PacketError(f"unknown transfer mode {mode[:20]!r}")
    options: dict[str, str] = {}
    for index in range(2, len(texts), 2):
        name = texts[index].lower()
        if name in options:
            raise PacketError(f"option {name[:20]!r} given twice")
        options[name] = texts[index + 1]
    return Request(opcode, filename, mode, options)


def data(block: int, payload: bytes) -> bytes:
    return struct.pack("!HH", DATA, block & 0xFFFF) + payload


def error(code: ErrorCode, message: str) -> bytes:
    return struct.pack("!HH", ERROR, int(code)) + message.encode("ascii", "replace") + b"\0"


def oack(options: dict[str, str]) -> bytes:
    body = b"".join(
        name.encode("ascii") + b"\0" + value.encode("ascii") + b"\0" for name, value in options.items()
    )
    return struct.pack("!H", OACK) + body


def to_netascii(payload: bytes) -> bytes:
    """RFC 1350/RFC 764: CR becomes CR NUL, LF becomes CR LF."""
    return payload.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")

"""A real UDP socket standing in for an SPA's SIP stack: it challenges a NOTIFY with 401 and a
Digest nonce, checks the Digest response of the retry against its own line-1 account, and
answers 200 when it is right, or challenges again (401, as RFC 3261 22.2 has a UAS do) when not."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import socket
from dataclasses import dataclass, field

from tests.helpers.digest_client import parse_challenge


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Received:
    request_line: str
    headers: dict[str, str]
    verified: bool | None = None  # None: no Authorization in it


@dataclass
class FakePhone:
    user: str
    password: str
    realm: str = "spa-phone"
    qop: bool = True
    silent: bool = False  # never answers (a phone that is off)
    received: list[Received] = field(default_factory=list)
    resynced: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.nonce = secrets.token_hex(8)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data, peer = await loop.sock_recvfrom(self.sock, 65535)
            head = data.decode().split("\r\n\r\n", 1)[0].split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            item = Received(head[0], headers)
            self.received.append(item)
            if self.silent:
                continue
            if "authorization" in headers:
                item.verified = self._verify(head[0], headers["authorization"])
            if not item.verified:
                qop = ', qop="auth"' if self.qop else ""
                challenge = f'WWW-Authenticate: Digest realm="{self.realm}", nonce="{self.nonce}"{qop}'
                await loop.sock_sendto(self.sock, self._reply(headers, "401 Unauthorized", challenge), peer)
                continue
            await loop.sock_sendto(self.sock, self._reply(headers, "200 OK"), peer)
            self.resynced.set()

    def _verify(self, request_line: str, authorization: str) -> bool:
        fields = parse_challenge(authorization)
        uri = request_line.split()[1]
        if (
            fields.get("uri") != uri
            or fields.get("nonce") != self.nonce
            or fields.get("username") != self.user
        ):
            return False
        ha1 = md5(f"{self.user}:{self.realm}:{self.password}")
        ha2 = md5(f"NOTIFY:{uri}")
        if self.qop:
            expected = md5(f"{ha1}:{self.nonce}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        else:
            expected = md5(f"{ha1}:{self.nonce}:{ha2}")
        return fields.get("response") == expected

    @staticmethod
    def _reply(headers: dict[str, str], status: str, *extra: str) -> bytes:
        lines = [f"SIP/2.0 {status}"]
        lines += [f"{name}: {headers[name.lower()]}" for name in ("Via", "From", "To", "Call-ID", "CSeq")]
        lines += [*extra, "Content-Length: 0"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def close(self) -> None:
        self.task.cancel()
        self.sock.close()

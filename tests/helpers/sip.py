"""A minimal SIP NOTIFY sender for tests (RFC 3261 over UDP, RFC 2617 Digest with qop=auth),
written apart from the phone's listener so the two check each other."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def notify_request(
    target: tuple[str, int], event: str, cseq: int, call_id: str, authorization: str = ""
) -> bytes:
    uri = f"sip:{target[0]}:{target[1]}"
    lines = [
        f"NOTIFY {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{secrets.token_hex(6)}",
        "From: <sip:spaprov@127.0.0.1>;tag=abc",
        f"To: <{uri}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} NOTIFY",
        f"Event: {event}",
        "Max-Forwards: 70",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


def answer(
    challenge: str, uri: str, user: str, password: str, *, response_override: str | None = None
) -> str:
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    realm, nonce, cnonce, nc = fields["realm"], fields["nonce"], secrets.token_hex(8), "00000001"
    ha1, ha2 = _md5(f"{user}:{realm}:{password}"), _md5(f"NOTIFY:{uri}")
    response = response_override or _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"'
    )


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        self.replies.put_nowait(data)


async def exchange(target: tuple[str, int], packets: list[bytes]) -> list[bytes]:
    """Send each packet and collect one reply to each."""
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(_Client, remote_addr=target)
    try:
        replies = []
        for packet in packets:
            transport.sendto(packet)
            replies.append(await asyncio.wait_for(client.replies.get(), 5))
        return replies
    finally:
        transport.close()


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def header(reply: bytes, name: str) -> str:
    for line in reply.decode().split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


async def authenticated_notify(
    target: tuple[str, int], event: str, user: str, password: str, *, response_override: str | None = None
) -> tuple[bytes, bytes]:
    """The NOTIFY, its 401, and the Digest-authenticated retry: (challenge reply, final reply)."""
    call_id, uri = secrets.token_hex(8), f"sip:{target[0]}:{target[1]}"
    (challenge,) = await exchange(target, [notify_request(target, event, 1, call_id)])
    assert status(challenge) == 401, challenge
    authorization = answer(
        header(challenge, "WWW-Authenticate"), uri, user, password, response_override=response_override
    )
    (final,) = await exchange(target, [notify_request(target, event, 2, call_id, authorization)])
    return challenge, final

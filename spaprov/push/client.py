"""One SIP NOTIFY `Event: resync` to a phone over UDP, as a client transaction (RFC 3261 17.1.2):
retransmitted from T1 doubling until an answer or `timeout`; a 401/407 challenge is answered
with Digest, once per set of credentials offered (the phone checks its line-1 account)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

from spaprov.push import sip
from spaprov.push.sip import ChallengeError, SipCredentials

T1 = 0.5


@dataclass(frozen=True)
class PushResult:
    outcome: str  # "ok", "rejected", "timeout", "unreachable", "bad_challenge"
    detail: str


class _Socket(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes | Exception] = asyncio.Queue(16)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.inbox.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.inbox.put_nowait(exc)


async def push_resync(
    target: tuple[str, int], accounts: list[SipCredentials], *, timeout: float = 4.0
) -> PushResult:
    """Ask the phone at `target` to resync. `accounts` are tried in order against its challenge
    (the request URI names the first)."""
    if not accounts:
        return PushResult("rejected", "no SIP account to authenticate with")
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
    try:
        transport, channel = await loop.create_datagram_endpoint(_Socket, remote_addr=target, family=family)
    except OSError as error:
        return PushResult("unreachable", str(error))
    try:
        local = transport.get_extra_info("sockname")
        dialog = sip.Dialog(target=target, local=(local[0], local[1]), user=accounts[0].user)
        cseq, authorization = 1, None
        pending = list(accounts)
        while True:
            response = await _transaction(
                transport,
                channel,
                sip.notify(dialog, cseq, authorization=authorization),
                dialog,
                cseq,
                timeout,
            )
            if isinstance(response, PushResult):
                return response
            if 200 <= response.status < 300:
                return PushResult("ok", f"{response.status} {response.reason}")
            if response.status not in (401, 407) or response.challenge is None or not pending:
                return PushResult("rejected", f"{response.status} {response.reason}")
            account = pending.pop(0)
            try:
                value = sip.answer(response.challenge[1], account, dialog.uri)
            except ChallengeError as error:
                return PushResult("bad_challenge", str(error))
            authorization = (response.challenge[0], value)
            cseq += 1
    finally:
        transport.close()


async def _transaction(
    transport: asyncio.DatagramTransport,
    channel: _Socket,
    request: bytes,
    dialog: sip.Dialog,
    cseq: int,
    timeout: float,
) -> sip.Response | PushResult:
    """Send `request` until a final response to it arrives (provisional ones stop the resends)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    interval, resend_at, provisional = T1, loop.time(), False
    while (left := deadline - loop.time()) > 0:
        if not provisional and loop.time() >= resend_at:
            transport.sendto(request)
            resend_at = loop.time() + interval
            interval = min(interval * 2, 4.0)
        wait = min(left, max(0.0, resend_at - loop.time())) if not provisional else left
        try:
            received = await asyncio.wait_for(channel.inbox.get(), wait)
        except TimeoutError:
            continue
        if isinstance(received, Exception):
            return PushResult("unreachable", str(received))
        response = sip.parse_response(received)
        if response is None or response.cseq != cseq or response.call_id != dialog.call_id:
            continue  # not an answer to this request
        if response.status < 200:
            provisional = True
            continue
        return response
    return PushResult("timeout", f"no final answer within {timeout:g} s")

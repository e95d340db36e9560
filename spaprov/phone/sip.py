"""The phone's SIP NOTIFY listener (UDP), for the server's pushed resync.

The firmware resyncs on SIP NOTIFY `Event: resync` when `Resync_From_SIP` = Yes, and challenges
the NOTIFY with 401 first, honouring only an authenticated one ([LSPG30] p.41); `reboot_now` and
`restart_now` (cold and warm restart) are challenged the same way ([LSPG30] p.41; [ASTNOTIFY]).
The credentials are line 1's SIP account: `Auth_ID_1_` when `Use_Auth_ID_1_` = Yes, else
`User_ID_1_`, with `Password_1_` (RFC 3261 section 22 Digest, RFC 2617 MD5 with qop=auth).  The
realm the firmware puts in its challenge is UNCONFIRMED; a sender must answer whatever realm the
challenge names.  Nonces are single-use and expire after NONCE_LIFETIME seconds of the phone's
clock.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from spaprov.auth.digest import expected_response, ha1
from spaprov.auth.header import AuthHeaderError, parse_authorization
from spaprov.clock import Clock

REALM = "spa-phone"
NONCE_LIFETIME = 60.0
EVENTS = frozenset({"resync", "reboot_now", "restart_now"})


class SipParseError(ValueError):
    pass


@dataclass(frozen=True)
class SipRequest:
    method: str
    uri: str
    headers: Mapping[str, list[str]]  # lower-case names (compact forms expanded)

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), [])
        return values[0] if values else ""


_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "o": "event", "l": "content-length"}


def parse_request(data: bytes) -> SipRequest:
    head = data.split(b"\r\n\r\n", 1)[0]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("not UTF-8") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0":
        raise SipParseError("not a SIP request line")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise SipParseError(f"bad header line {line[:40]!r}")
        key = name.strip().lower()
        headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return SipRequest(parts[0], parts[1], headers)


def response(request: SipRequest, status: int, reason: str, extra: Mapping[str, str] | None = None) -> bytes:
    """A response that copies Via, From, To, Call-ID and CSeq (RFC 3261 section 8.2.6)."""
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {via}" for via in request.headers.get("via", [])]
    to = request.header("to")
    if status > 100 and ";tag=" not in to:
        to += ";tag=" + secrets.token_hex(4)
    lines += [f"From: {request.header('from')}", f"To: {to}"]
    lines += [f"Call-ID: {request.header('call-id')}", f"CSeq: {request.header('cseq')}"]
    lines += [f"{name}: {value}" for name, value in (extra or {}).items()]
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode("utf-8")


def line_1_credentials(parameters: Mapping[str, str]) -> tuple[str, str] | None:
    user = parameters.get("User_ID_1_", "")
    if parameters.get("Use_Auth_ID_1_", "No") == "Yes" and parameters.get("Auth_ID_1_", ""):
        user = parameters["Auth_ID_1_"]
    return (user, parameters.get("Password_1_", "")) if user else None


class NotifyGuard:
    """Issues challenges and checks the answers against line 1's credentials."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._nonces: dict[str, float] = {}

    def challenge(self) -> str:
        now = self._clock()
        self._nonces = {n: t for n, t in self._nonces.items() if now - t <= NONCE_LIFETIME}
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now
        return f'Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, qop="auth"'

    def verify(self, request: SipRequest, parameters: Mapping[str, str]) -> bool:
        credentials = line_1_credentials(parameters)
        header = request.header("authorization")
        if credentials is None or not header:
            return False
        try:
            fields = parse_authorization(header)
        except AuthHeaderError:
            return False
        issued = self._nonces.pop(fields.nonce, None)  # single use, answered or not
        if issued is None or self._clock() - issued > NONCE_LIFETIME:
            return False
        if fields.realm != REALM or fields.algorithm.upper() != "MD5" or fields.qop not in (None, "auth"):
            return False
        user, password = credentials
        expected = expected_response(fields, ha1("MD5", user, REALM, password), request.method)
        user_ok = hmac.compare_digest(fields.username.encode(), user.encode())
        return hmac.compare_digest(fields.response.lower().encode(), expected.encode()) and user_ok


class NotifyListener(asyncio.DatagramProtocol):
    """Answers NOTIFYs; calls `on_event(event)` for each authenticated one the phone honours."""

    def __init__(
        self, guard: NotifyGuard, parameters: Callable[[], Mapping[str, str]], on_event: Callable[[str], None]
    ) -> None:
        self._guard, self._parameters, self._on_event = guard, parameters, on_event
        self.transport: asyncio.DatagramTransport | None = None
        self.log: list[tuple[str, int]] = []  # (event, status answered), for tests and reports

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        try:
            request = parse_request(data)
        except SipParseError:
            return  # not SIP, or a response: nothing to answer
        status, reason, extra = self._answer(request)
        self.log.append((request.header("event"), status))
        if self.transport is not None:
            self.transport.sendto(response(request, status, reason, extra), addr)

    def _answer(self, request: SipRequest) -> tuple[int, str, dict[str, str]]:
        if request.method != "NOTIFY":
            return 501, "Not Implemented", {}
        event = request.header("event").split(";", 1)[0].strip().lower()
        if event not in EVENTS:
            return 489, "Bad Event", {}
        parameters = self._parameters()
        if not self._guard.verify(request, parameters):
            return 401, "Unauthorized", {"WWW-Authenticate": self._guard.challenge()}
        if event == "resync" and parameters.get("Resync_From_SIP", "Yes") != "Yes":
            return 403, "Forbidden", {}
        self._on_event(event)
        return 200, "OK", {}

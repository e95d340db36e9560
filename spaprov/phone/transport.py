"""How the simulated phone fetches one file a rule names: TFTP, HTTP or HTTPS.

HTTP answers Digest challenges with the rule's `--uid/--pwd` ([MPP-PG]; SPA5x5 support is
UNCONFIRMED, see the reference section 1.5) and sends the phone's User-Agent.  Status handling on
SPA5x5 is UNCONFIRMED; we follow the MPP table ([MPP-AG8800]): 200 is a profile, 404 is
file-not-found (Resync_Fails_On_FNF decides), anything else is a failure.  A TFTP URL without a
server goes to the server DHCP option 66 named ([LSPG30] p.38).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import aiohttp

from spaprov.phone.firmware import FetchRequest
from spaprov.phone.flat_profile import MAX_PROFILE_BYTES
from spaprov.phone.tftp import TftpError, tftp_read

TFTP_PORT = 69


@dataclass(frozen=True)
class Fetch:
    url: str
    status: int | None  # the HTTP status; None for TFTP or when nothing answered
    note: str = ""
    uid: str | None = None  # the Digest user the rule named for this fetch (not printed)
    received: bool = False  # a file came back

    def __str__(self) -> str:
        if self.url.startswith("tftp://"):
            outcome = "received" if self.received else "failed"
            return f"TFTP {self.url} -> {outcome}" + (f" ({self.note})" if self.note else "")
        status = self.status if self.status is not None else "no answer"
        return f"GET {self.url} -> {status}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Outcome:
    fetch: Fetch
    body: bytes | None = None
    not_found: bool = False


def parse_server(text: str) -> tuple[str, int]:
    """DHCP option 66's value, `HOST` or `HOST:PORT` (a port in it is a test convenience: real
    option 66 carries a name, and the phone uses port 69).  `[v6]:PORT` works too."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or str(TFTP_PORT)
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, str(TFTP_PORT)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST or HOST:PORT")
    return host, int(port)


async def fetch(
    request: FetchRequest,
    *,
    user_agent: str,
    tftp_server: tuple[str, int] | None,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """`tls`: how HTTPS servers are verified (None: the system's CAs).  Which CAs SPA firmware
    trusts is UNCONFIRMED; the simulator always verifies, against the CA it is given."""
    if request.scheme == "tftp":
        return await _tftp(request, tftp_server, timeout)
    if request.scheme in ("http", "https"):
        return await _http(request, user_agent, timeout, tls)
    return Outcome(Fetch(request.url, None, f"unknown scheme {request.scheme!r}", request.uid))


async def _tftp(request: FetchRequest, dhcp: tuple[str, int] | None, timeout: float) -> Outcome:
    if request.server is None:
        if dhcp is None:
            note = "no server in the URL and no TFTP server from DHCP option 66"
            return Outcome(Fetch(f"tftp://(option 66){request.path}", None, note))
        host, port = dhcp
    else:
        host, port = request.server, request.port or TFTP_PORT
    shown = f"[{host}]" if ":" in host else host
    url = f"tftp://{shown}:{port}{request.path}"
    try:
        body = await tftp_read(
            host, port, request.path, limit=MAX_PROFILE_BYTES, timeout=min(1.0, timeout / 5), retries=3
        )
    except TftpError as error:
        return Outcome(Fetch(url, None, str(error)), not_found=error.not_found)
    except OSError as error:
        return Outcome(Fetch(url, None, f"{type(error).__name__}: {error}"))
    return Outcome(Fetch(url, None, f"{len(body)} bytes", received=True), body)


async def _http(
    request: FetchRequest, user_agent: str, timeout: float, tls: ssl.SSLContext | None
) -> Outcome:
    url, uid = request.url, request.uid
    middlewares = (aiohttp.DigestAuthMiddleware(uid, request.pwd or ""),) if uid else ()
    try:
        async with (
            aiohttp.ClientSession(
                middlewares=middlewares, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as session,
            session.get(
                url, headers={"User-Agent": user_agent}, ssl=tls if tls is not None else True
            ) as response,
        ):
            body = await response.content.read(MAX_PROFILE_BYTES + 1)
            if response.status != 200:
                note = body[:200].decode("ascii", "replace").strip()[:120]
                return Outcome(Fetch(url, response.status, note, uid), not_found=response.status == 404)
            if len(body) > MAX_PROFILE_BYTES:
                return Outcome(Fetch(url, 200, f"larger than {MAX_PROFILE_BYTES} bytes", uid))
            return Outcome(Fetch(url, 200, "", uid, received=True), body)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return Outcome(Fetch(url, None, f"{type(error).__name__}: {error}", uid))

"""SIP NOTIFY `Event: resync` (what an SPA with `Resync_From_SIP = Yes` acts on, [LSPG30] p.41;
Asterisk's `sipura-check-cfg`): build the request, read the phone's answer, answer its Digest
challenge (RFC 3261 section 22, RFC 2617 MD5). Pure: no sockets."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from spaprov.auth.digest import expected_response, ha1
from spaprov.auth.header import AuthHeaderError, DigestCredentials, parse_challenge, quote

MAX_MESSAGE = 4096


@dataclass(frozen=True)
class SipCredentials:
    """A line's SIP account: the request goes to `user`; Digest uses `auth_user` and `password`."""

    user: str
    auth_user: str
    password: str


@dataclass(frozen=True)
class Dialog:
    """What stays the same across one NOTIFY and its authenticated retry."""

    target: tuple[str, int]
    local: tuple[str, int]
    user: str
    call_id: str = field(default_factory=lambda: secrets.token_hex(12))
    tag: str = field(default_factory=lambda: secrets.token_hex(6))

    @property
    def uri(self) -> str:
        host, port = self.target
        host = f"[{host}]" if ":" in host else host
        return f"sip:{self.user}@{host}:{port}"


def _host(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def notify(dialog: Dialog, cseq: int, *, authorization: tuple[str, str] | None = None) -> bytes:
    """A NOTIFY request; `authorization` is (header name, value) answering a challenge."""
    branch = "z9hG4bK" + secrets.token_hex(8)
    lines = [
        f"NOTIFY {dialog.uri} SIP/2.0",
        f"Via: SIP/2.0/UDP {_host(dialog.local)};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:spaprov@{_host(dialog.local)}>;tag={dialog.tag}",
        f"To: <{dialog.uri}>",
        f"Call-ID: {dialog.call_id}",
        f"CSeq: {cseq} NOTIFY",
        f"Contact: <sip:spaprov@{_host(dialog.local)}>",
        "Event: resync",
        "Subscription-State: terminated;reason=timeout",
        "User-Agent: spaprov",
    ]
    if authorization is not None:
        lines.append(f"{authorization[0]}: {authorization[1]}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    cseq: int | None
    call_id: str
    challenge: tuple[str, str] | None  # (header to answer with, challenge value)


_STATUS = re.compile(r"SIP/2\.0 ([1-6][0-9]{2}) ?(.*)")


def parse_response(data: bytes) -> Response | None:
    """A SIP response, or None for anything else (a request, garbage)."""
    if len(data) > MAX_MESSAGE:
        return None
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
    lines = head.split("\n")
    found = _STATUS.fullmatch(lines[0].strip())
    if found is None:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(_compact(name.strip().lower()), value.strip())
    cseq_text = headers.get("cseq", "").split()
    number = cseq_text[0] if cseq_text else ""
    cseq = int(number) if number.isascii() and number.isdigit() and len(number) < 10 else None
    challenge = None
    if "www-authenticate" in headers:
        challenge = ("Authorization", headers["www-authenticate"])
    elif "proxy-authenticate" in headers:
        challenge = ("Proxy-Authorization", headers["proxy-authenticate"])
    return Response(int(found.group(1)), found.group(2)[:100], cseq, headers.get("call-id", ""), challenge)


def _compact(name: str) -> str:
    """RFC 3261 compact header forms that matter here."""
    return {"i": "call-id"}.get(name, name)


class ChallengeError(ValueError):
    """A challenge this client cannot answer."""


def answer(challenge: str, credentials: SipCredentials, uri: str, *, cnonce: str | None = None) -> str:
    """The Authorization value answering a Digest challenge for a NOTIFY to `uri` (MD5; qop=auth
    when offered, else RFC 2069)."""
    try:
        fields = parse_challenge(challenge)
    except AuthHeaderError as error:
        raise ChallengeError(f"unreadable challenge: {error}") from None
    algorithm = fields.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise ChallengeError(f"unsupported algorithm {algorithm[:20]!r}")
    if any(not value.isprintable() for value in fields.values()):
        raise ChallengeError("control characters in the challenge")  # never echoed into our request
    realm, nonce = fields.get("realm", ""), fields.get("nonce", "")
    if not nonce:
        raise ChallengeError("challenge without a nonce")
    secret = ha1("MD5", credentials.auth_user, realm, credentials.password)
    parts = [
        f"username={quote(credentials.auth_user)}",
        f"realm={quote(realm)}",
        f"nonce={quote(nonce)}",
        f"uri={quote(uri)}",
        "algorithm=MD5",
    ]
    qops = [q.strip() for q in fields.get("qop", "").split(",") if q.strip()]
    if "auth" in qops:
        cnonce = cnonce or secrets.token_hex(8)
        asked = DigestCredentials(
            credentials.auth_user, realm, nonce, uri, "", "MD5", "auth", "00000001", cnonce
        )
        response = expected_response(asked, secret, "NOTIFY")
        parts += ["qop=auth", "nc=00000001", f"cnonce={quote(cnonce)}"]
    elif qops:
        raise ChallengeError(f"unsupported qop {fields['qop'][:20]!r}")
    else:
        response = expected_response(
            DigestCredentials(credentials.auth_user, realm, nonce, uri, ""), secret, "NOTIFY"
        )
    parts.append(f'response="{response}"')
    if "opaque" in fields:
        parts.append(f"opaque={quote(fields['opaque'])}")
    return "Digest " + ", ".join(parts)

"""Keeping logs and messages honest: request-controlled text escaped, secrets redacted.

`field()` makes any request-derived value safe to put in a log line: control characters,
line and paragraph separators, non-printables, backslashes and spaces are backslash-escaped the
way `repr` does (without the quotes), and the result is capped, so nobody can forge a log line,
hide one behind terminal escapes, or blow a line up to megabytes.

`redact_url()` takes the password out of a state URL (userinfo, with or without an `@` in the
password, and `password=` query parameters); `redact_secrets()` does the same for any text that
may quote an `Authorization` header or a Digest `response=`, such as aiohttp's own log records of
a rejected request.  `RedactingFilter` applies it to every record of a logger.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

FIELD_LIMIT = 256
MASK = "***"

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", " ": "\\x20", '"': '\\"'}


def _escape_char(char: str, *, keep_space: bool, keep_quote: bool) -> str:
    if (char == " " and keep_space) or (char == '"' and keep_quote):
        return char
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def field(value: object, limit: int = FIELD_LIMIT) -> str:
    """One space-free token for a log line; `-` for None or empty."""
    text = "" if value is None else str(value)
    if not text:
        return "-"
    return _escape(text, limit, keep_space=False, keep_quote=True)


def quoted(value: object, limit: int = FIELD_LIMIT) -> str:
    """A double-quoted log value that may hold spaces (an auth failure reason, say)."""
    return '"' + _escape("" if value is None else str(value), limit, keep_space=True, keep_quote=False) + '"'


def text(value: object, limit: int = FIELD_LIMIT) -> str:
    """Free text (an audit detail, say) for one line of a log or a terminal: escaped like
    `field()` but keeping spaces and quotes, and without surrounding quotes."""
    return _escape("" if value is None else str(value), limit, keep_space=True, keep_quote=True)


def _escape(text: str, limit: int, *, keep_space: bool, keep_quote: bool) -> str:
    if (
        len(text) <= limit
        and text.isprintable()
        and "\\" not in text
        and (keep_space or " " not in text)
        and (keep_quote or '"' not in text)
    ):
        return text  # the common case (a phone's path, a user name, an address): nothing to do
    extra = len(text) - limit
    head = text[:limit] if extra > 0 else text
    escaped = "".join(_escape_char(c, keep_space=keep_space, keep_quote=keep_quote) for c in head)
    return f"{escaped}…(+{extra})" if extra > 0 else escaped


# -- state URLs ------------------------------------------------------------------------------------
# scheme://user:password@host...: the password runs to the *last* @ before the path, so an
# unescaped @ inside it (user:Pa@ss@host) is still all hidden.
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/?#@]*):(?P<password>[^/?#]*)@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&;]password=)[^&#]*")


def redact_url(url: str) -> str:
    """The URL without any password, for messages and logs."""
    redacted = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", url, count=1)
    return _QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, redacted)


def url_password_has_at(url: str) -> bool:
    """True when the userinfo password holds a raw `@` (libpq would take the rest for the host)."""
    match = _USERINFO.match(url)
    return bool(match and "@" in match["password"])


def url_secrets(url: str) -> list[str]:
    """The password(s) a URL carries, to scrub from a driver's error text that may quote them."""
    found: list[str] = []
    match = _USERINFO.match(url)
    if match and match["password"]:
        found += [match["password"], unquote(match["password"])]
        # a driver that split at the first @ quotes the password's tail as part of the host name
        found.extend(part + "@" for part in match["password"].split("@")[1:])
    for m in _QUERY_PASSWORD.finditer(url):
        found += [m.group(0).split("=", 1)[1], unquote(m.group(0).split("=", 1)[1])]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every occurrence of each secret replaced by the mask."""
    for secret in secrets:
        text = text.replace(secret, MASK + "@" if secret.endswith("@") else MASK)
    return text


# -- credentials in free text (aiohttp's records of a rejected request) ------------------------------
_AUTH_HEADER = re.compile(
    # the name as a raw header line or a repr'd pair, then everything to the end of the line
    r"(?i)((?:proxy-)?authorization[\"']?\s*[:=,]\s*)[^\r\n]*"
)
_DIGEST_RESPONSE = re.compile(r"(?i)(\bresponse\s*=\s*)(\"[^\"]*\"?|[^\s,\"']+)")
_BASIC = re.compile(r"(?i)(\bbasic\s+)[A-Za-z0-9+/=._~-]{4,}")


def redact_secrets(text: str) -> str:
    """`text` with Authorization/Proxy-Authorization values, Digest `response=` and Basic
    credentials masked."""
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _DIGEST_RESPONSE.sub(lambda m: m.group(1) + MASK, text)
    return _BASIC.sub(lambda m: m.group(1) + MASK, text)


class RedactingFilter(logging.Filter):
    """Masks credentials in a record's message and traceback before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_secrets(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


# aiohttp's loggers that may quote a rejected request's headers.
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web", "aiohttp.internal", "aiohttp.client")


def install_redaction() -> None:
    """Attach the redacting filter to aiohttp's loggers (idempotent; call in every process)."""
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())

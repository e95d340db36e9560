"""The baseline for the benchmarks: a bare aiohttp handler.

    python bench/bare_server.py PORT                         a fixed body of a profile's size
    python bench/bare_server.py PORT --files DIR --htdigest F --realm R [--digest PATH ...]

With `--files`, it serves each file of DIR at /NAME (the same bytes spaprov renders), and the
paths given with `--digest` only behind a minimal HTTP Digest check: MD5, qop=auth, a stateless
keyed nonce, and a rising nc per nonce (what a correct Digest server cannot do without).  No
lockouts, no audit, no access log: the floor a Python server on aiohttp can reach.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import struct
import time
from pathlib import Path

from aiohttp import web

BODY = b"<flat-profile>" + b"<X>y</X>" * 700 + b"</flat-profile>"
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')
_KEY = os.urandom(32)
_OPAQUE = os.urandom(8).hex()
_LIFETIME = 300.0


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="text/xml")


def _nonce() -> str:
    body = struct.pack(">d", time.time()) + os.urandom(8)
    return (body + hmac.digest(_KEY, body, "sha256")[:16]).hex()


def _nonce_ok(nonce: str) -> bool:
    try:
        raw = bytes.fromhex(nonce)
    except ValueError:
        return False
    if len(raw) != 32 or not hmac.compare_digest(raw[16:], hmac.digest(_KEY, raw[:16], "sha256")[:16]):
        return False
    (issued,) = struct.unpack(">d", raw[:8])
    return bool(time.time() - issued <= _LIFETIME)


class MinimalDigest:
    def __init__(self, htdigest: Path, realm: str) -> None:
        self.realm = realm
        self.ha1 = {}
        for line in htdigest.read_text().splitlines():
            user, line_realm, digest = line.split(":")
            if line_realm == realm:
                self.ha1[user] = digest
        self.last_nc: dict[str, int] = {}

    def challenge(self) -> web.Response:
        value = (
            f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{_nonce()}", opaque="{_OPAQUE}"'
        )
        return web.Response(status=401, text="401: Unauthorized\n", headers={"WWW-Authenticate": value})

    def ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return False
        p = {m[1]: m[2] if m[2] is not None else m[3] for m in _PARAM.finditer(header, 7)}
        ha1 = self.ha1.get(p.get("username", ""))
        nonce, nc = p.get("nonce", ""), p.get("nc", "")
        if ha1 is None or p.get("uri") != request.raw_path or p.get("qop") != "auth" or not _nonce_ok(nonce):
            return False
        ha2 = hashlib.md5(f"{request.method}:{p['uri']}".encode()).hexdigest()
        expected = hashlib.md5(f"{ha1}:{nonce}:{nc}:{p.get('cnonce', '')}:auth:{ha2}".encode()).hexdigest()
        if not hmac.compare_digest(expected, p.get("response", "")):
            return False
        count = int(nc, 16)
        if count <= self.last_nc.get(nonce, 0):
            return False
        self.last_nc[nonce] = count
        return True


def files_app(files: Path, digest: MinimalDigest | None, protected: set[str]) -> web.Application:
    bodies = {f"/{path.name}": path.read_bytes() for path in files.iterdir() if path.is_file()}

    async def serve(request: web.Request) -> web.Response:
        body = bodies.get(request.path)
        if body is None:
            return web.Response(status=404, text="404: Not Found\n")
        if digest is not None and request.path in protected and not digest.ok(request):
            return digest.challenge()
        return web.Response(body=body, content_type="text/xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--files", type=Path)
    parser.add_argument("--htdigest", type=Path)
    parser.add_argument("--realm", default="prov.example.com")
    parser.add_argument("--digest", action="append", default=[], help="a path behind Digest")
    args = parser.parse_args()
    if args.files is None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
    else:
        digest = MinimalDigest(args.htdigest, args.realm) if args.htdigest else None
        app = files_app(args.files, digest, set(args.digest))
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

"""HTTP Digest authentication (RFC 7616): header parsing, nonces, verification, credentials.

Pure: no aiohttp here; spaprov.server.digest_guard wires it into request handling.
"""

from spaprov.auth.digest import AuthResult, CredentialLookup, DigestAuthenticator, Verdict, ha1
from spaprov.auth.header import AuthHeaderError, DigestCredentials, parse_authorization
from spaprov.auth.store import CredentialFileError, CredentialStore

__all__ = [
    "AuthHeaderError",
    "AuthResult",
    "CredentialFileError",
    "CredentialLookup",
    "CredentialStore",
    "DigestAuthenticator",
    "DigestCredentials",
    "Verdict",
    "ha1",
    "parse_authorization",
]

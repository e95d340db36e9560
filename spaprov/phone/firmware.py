"""The simulated SPA5x5 firmware's resync sequence, without I/O: which URL to fetch next, what a
fetched profile changes, and whether the resync failed.

One resync evaluates Profile_Rule, Profile_Rule_B, _C and _D in that order, each fetching at
most one profile; if any of them fails the whole sequence is abandoned (and retried from the
start after Resync_Error_Retry_Delay: spaprov.phone.schedule); a profile received from one rule
does not restart the sequence, the next rule is evaluated with the parameters as they now are
([LSPG30] p.43; [MPP-PG]).  Whether the firmware applies a profile before evaluating the next
rule or only after all four is UNCONFIRMED: we apply it at once.  A blank rule is skipped and
B, C and D are still evaluated ([SPA1xxAG]); a rule none of whose alternatives applies is
skipped, not an error; a rule with only assignments always succeeds ([SPA1xxPG] p.28; [PAP2]
p.38).  A rule succeeds when its profile is received and parsed; file-not-found is a success when
`Resync_Fails_On_FNF` = No ([PAP2] p.38; [LSPG301]).

The caller (spaprov.phone.simulator) fetches each request over TFTP, HTTP or HTTPS and hands
back the body (`receive`), a file-not-found (`not_found`) or why there is none (`fail`).
`changed` tells whether the resync changed any parameter: then the phone reboots ([LSPG30] p.42).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from spaprov.config.models import PhoneModel
from spaprov.phone.flat_profile import MAX_PROFILE_BYTES, ProfileFormatError, parse_flat_profile
from spaprov.profiles.encryption import ProfileDecryptionError, decrypt_profile
from spaprov.rules import RuleSyntaxError, StateError, evaluate
from spaprov.rules.macros import FLAT_PROFILE_NAMES

RULE_PARAMETERS = ("Profile_Rule", "Profile_Rule_B", "Profile_Rule_C", "Profile_Rule_D")
GZIP_MAGIC = b"\x1f\x8b"


def identity_macros(
    mac: str, model: PhoneModel, serial: str, version: str, provisioning_state: str, prvtmr: str = "0"
) -> dict[str, str]:
    """The macros that describe the phone itself rather than its parameters ([LSPG301] Table
    4-4).  `$PSN` is the model without `SPA` (`525G2`), as the `spa$PSN.cfg` names Wazo serves for
    SPA5xx imply ([WAZO]); no client certificate is installed on a simulated phone."""
    return {
        "MA": mac,
        "PN": model.name,
        "PSN": model.name.removeprefix("SPA"),
        "SN": serial,
        "SWVER": version,
        "PRVST": provisioning_state,
        "PRVTMR": prvtmr,
        "CCERT": "Not Installed",
    }


def rule_state(parameters: Mapping[str, str], identity: Mapping[str, str]) -> dict[str, str]:
    """The phone's state as the rule language sees it."""
    state = {name: parameters[name] for name in FLAT_PROFILE_NAMES if name in parameters}
    state.update(identity)
    return state


def apply_profile(parameters: dict[str, str], received: Mapping[str, str]) -> bool:
    """Update the parameters from a received profile: unknown names are ignored, absent ones stay
    ([LSPG30] p.28).  True when a value changed."""
    changed = False
    for name, value in received.items():
        if name not in parameters:
            continue  # not a parameter of this phone: ignored, as the firmware does
        changed |= parameters[name] != value
        parameters[name] = value
    return changed


def decode_body(body: bytes, key: str | None) -> bytes:
    """What a fetched file holds once decrypted (`--key`, `openssl enc -aes-256-cbc` salted format,
    [LSPG30] p.32) and decompressed (gzip, applied before encryption, [LSPG30] p.28).  A wrong key
    or a damaged file raises ProfileFormatError: the resync fails."""
    if key is not None:
        try:
            body = decrypt_profile(body, key)
        except (ProfileDecryptionError, ValueError) as error:
            raise ProfileFormatError(f"cannot decrypt with the rule's --key: {error}") from None
    if body.startswith(GZIP_MAGIC):
        try:
            decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            plain = decompressor.decompress(body, MAX_PROFILE_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile) as error:
            raise ProfileFormatError(f"corrupt gzip: {error}") from None
        if len(plain) > MAX_PROFILE_BYTES:
            raise ProfileFormatError(f"profile larger than {MAX_PROFILE_BYTES} bytes")
        body = plain
    return body


@dataclass(frozen=True)
class FetchRequest:
    rule_name: str
    url: str
    scheme: str
    server: str | None  # None: the TFTP server DHCP named (option 66)
    port: int | None
    path: str
    uid: str | None
    pwd: str | None
    key: str | None


class Round:
    """One resync: the four rules in order, updating `parameters` in place.  Call `next_fetch`
    until it returns None, answering each request with `receive`, `not_found` or `fail`; then
    `failure` (a message, or None) and `changed` say how it went."""

    def __init__(self, parameters: dict[str, str], identity: Mapping[str, str]) -> None:
        self.parameters = parameters
        self._identity = identity
        self._rules: Iterator[str] = iter(RULE_PARAMETERS)
        self._waiting: FetchRequest | None = None
        self.failure: str | None = None
        self.changed = False

    def next_fetch(self) -> FetchRequest | None:
        """The next file to fetch, or None when the resync is over."""
        if self._waiting is not None:
            raise RuntimeError("answer the previous fetch first")
        if self.failure is not None:
            return None  # abandoned: no later rule is evaluated
        for rule_name in self._rules:
            rule = self.parameters.get(rule_name, "")
            if not rule.strip():
                continue
            try:
                result = evaluate(rule, rule_state(self.parameters, self._identity))
            except RuleSyntaxError as error:
                self.failure = f"{rule_name} does not parse: {error}"
                return None
            except StateError as error:  # e.g. an expansion past the bound: the phone cannot fetch
                self.failure = f"{rule_name} cannot be evaluated: {error}"
                return None
            if result.alternative is None:
                continue
            for name, value in result.assignments:  # before the fetch ([LSPG30] p.37)
                self.changed |= self.parameters.get(name) != value
                self.parameters[name] = value
            if result.url is None or result.path is None:
                continue
            self._waiting = FetchRequest(
                rule_name,
                result.url,
                (result.scheme or "tftp").lower(),
                result.server,
                result.port,
                result.path + (f"?{result.query}" if result.query is not None else ""),
                result.options.uid,
                result.options.pwd,
                result.options.key,
            )
            return self._waiting
        return None

    def receive(self, body: bytes) -> None:
        """The file fetched for the last request."""
        request = self._answered()
        try:
            received = parse_flat_profile(decode_body(body, request.key))
        except ProfileFormatError as error:
            self.failure = f"{request.rule_name}: corrupt profile: {error}"
            return
        self.changed |= apply_profile(self.parameters, received)

    def not_found(self, message: str) -> None:
        """The server has no such file: a failure unless Resync_Fails_On_FNF = No."""
        request = self._answered()
        if self.parameters.get("Resync_Fails_On_FNF", "Yes") != "No":
            self.failure = f"{request.rule_name}: {message}"

    def fail(self, message: str) -> None:
        """The last request brought no profile."""
        self._answered()
        self.failure = message

    def _answered(self) -> FetchRequest:
        if self._waiting is None:
            raise RuntimeError("no fetch is waiting for an answer")
        request, self._waiting = self._waiting, None
        return request

"""Fuzz targets: each takes bytes, drives one entry point that faces hostile input, and lets
through only that entry point's documented errors.  Any other exception escapes the target and
is a finding; so is a broken invariant (an AssertionError raised here).

    digest  spaprov.auth: parse_authorization (AuthHeaderError expected), then the whole
            DigestAuthenticator.authenticate path on a real CredentialStore (nothing may escape:
            every header must end in a verdict)
    basic   spaprov.server.admin_auth.authenticate on a real aiohttp request and real AdminAccounts
            (only ApiError with a 4xx status expected)
    rules   spaprov.rules: parse, format, lint and evaluate with macro expansion, on random states
            (the rules package's public error types expected; expansion output stays bounded)
    toml    spaprov.config.load_profile_directory on a tmp copy of sample_profiles with one file
            replaced by the input (ConfigError expected), and the running server's SiteTree told
            of the change, which must give the same problems or the same documents
    csv     spaprov.commands.bulk.import_rows on a tmp copy of sample_profiles (nothing may
            escape: every problem is a reported row error); validated rows go through the
            journaled write (re-validation, password hashing) up to the commit, which is recorded,
            not installed
    sip     spaprov.push.sip: a phone's answer to a resync NOTIFY (parse_response returns None for
            what is not a SIP response) and the Digest answer to its challenge (ChallengeError)
    tftp    spaprov.tftp: one datagram through the packet parser (PacketError expected), then,
            for a read request, option negotiation and the file resolver on the sample site
            (FileRefused expected; negotiated values stay within RFC 2348/2349 bounds)

The input is the text a client or an administrator controls, as bytes: headers are decoded the
way aiohttp decodes them (UTF-8 with surrogateescape), files as the loader reads them.  Targets
with options take them from a leading control byte (see each target).  Targets are used by the
CI run (tests/fuzz/test_fuzz_short.py) and by the long runs (python -m tests.fuzz).
"""

from __future__ import annotations

import abc
import asyncio
import base64
import contextlib
import inspect
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, ClassVar
from unittest import mock

from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict, CIMultiDictProxy
from passlib.hash import pbkdf2_sha256

import spaprov.rules
from spaprov.auth import AuthHeaderError, CredentialStore, DigestAuthenticator, Verdict, parse_authorization
from spaprov.auth.admins import AdminAccounts
from spaprov.clock import ManualClock
from spaprov.commands import bulk
from spaprov.config import Config, ConfigError, Problem, load_profile_directory
from spaprov.config.tree import SiteTree
from spaprov.profiles import ProfileBuilder, Renderer
from spaprov.push import sip
from spaprov.push.sip import SipCredentials
from spaprov.rules import RuleKind, evaluate, format_rule, lint, parse
from spaprov.server.admin_auth import authenticate as admin_authenticate
from spaprov.server.api_errors import ApiError
from spaprov.tftp import BootstrapFiles, FileRefused, TftpServer
from spaprov.tftp import packets as tftp_packets
from spaprov.transaction import Transaction
from tests.helpers.digest_client import authorization, parse_challenge
from tests.helpers.rule_corpus import SEED_RULE, VALID
from tests.helpers.site import SAMPLE as SAMPLE_SITE

# What a successful evaluation may produce in total (URL, options, assignments, trace), in
# characters.  Item 4 of the hardening issue: expansion must be bounded, with a clear error.
MAX_EXPANSION = 1 << 20
# The loader opens every file of the site per input: on tmpfs that costs a tenth of a disk open.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class Target(abc.ABC):
    """A fuzz target; a context manager that owns its temporary files."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"spaprov-fuzz-{self.name}-", dir=FAST_TMP)
        self.tmp = Path(self._tmp.name)

    @abc.abstractmethod
    def __call__(self, data: bytes) -> None:
        """Drive the entry point with one input; only its documented errors may escape."""

    @abc.abstractmethod
    def seeds(self) -> list[bytes]:
        """Real inputs to mutate."""

    def dictionary(self) -> list[bytes]:
        """Tokens of the input language, for the mutator."""
        return []

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> Target:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def header_text(data: bytes) -> str:
    """A header value as aiohttp hands it to handlers."""
    return data.decode("utf-8", "surrogateescape")


# -- 1. Digest ----------------------------------------------------------------------------------------
class DigestTarget(Target):
    name = "digest"
    description = "Digest Authorization header: parse_authorization, then DigestAuthenticator.authenticate"
    REALM = "spaprov-fuzz"
    SECRET = b"fuzz-secret-0123456789abcdef"
    USERS: ClassVar[dict[str, str]] = {"alice@example.com": "1234", "conf-room-1@example.com": "host-secret"}
    URI = "/mobilephone.cfg"
    # A fresh authenticator (replay table, lockouts) every RESET inputs, its clock advancing one
    # second per input: lockouts expire and nonces (lifetime 300 s) go stale within each round.
    RESET = 400

    def __init__(self) -> None:
        super().__init__()
        self.store = CredentialStore(self.tmp / "credentials.htdigest", self.REALM)
        self.store.set_passwords(self.USERS)
        self._inputs = 0
        self._new_authenticator()

    def _new_authenticator(self) -> None:
        self.clock = ManualClock()
        self.authenticator = DigestAuthenticator(
            self.REALM, self.store, self.SECRET, clock=self.clock, allow_rfc2069=True
        )

    def __call__(self, data: bytes) -> None:
        self._inputs += 1
        if self._inputs % self.RESET == 0:
            self._new_authenticator()
        self.clock.advance(1.0)
        header = header_text(data)
        with contextlib.suppress(AuthHeaderError):
            parse_authorization(header)
        result = self.authenticator.authenticate("GET", self.URI, header, "127.0.0.1")
        assert isinstance(result.verdict, Verdict), result

    def seeds(self) -> list[bytes]:
        authenticator = DigestAuthenticator(self.REALM, self.store, self.SECRET, clock=ManualClock())
        challenges = [parse_challenge(c) for c in authenticator.challenges()]
        headers = []
        for challenge in challenges:
            for user, password in self.USERS.items():
                headers.append(authorization(challenge, user, password, uri=self.URI))
                headers.append(authorization(challenge, user, password, uri=self.URI, nc=7, cnonce='c\\"x'))
                headers.append(authorization(challenge, user, password, uri=self.URI, qop=None))
            headers.append(authorization(challenge, "mallory", "guess", uri=self.URI))
        headers += [
            'Digest username="a", realm="r", nonce="n", uri="/", response="0", userhash=true',
            'Digest  ,, username=a , realm="spaprov-fuzz",nonce=00,uri="/mobilephone.cfg",response=x,'
            ' qop=auth, nc=00000001, cnonce="a\\"b", opaque="", algorithm=sha-256',
        ]
        return [h.encode() for h in headers]

    def dictionary(self) -> list[bytes]:
        names = ("username", "realm", "nonce", "uri", "response", "algorithm", "qop", "nc", "cnonce")
        return [
            *(n.encode() for n in (*names, "opaque", "userhash")),
            b"Digest ",
            b", ",
            b'="',
            b'"',
            b"\\",
            b"=",
            b"auth",
            b"auth-int",
            b"MD5",
            b"SHA-256",
            b"MD5-sess",
            b"00000001",
            b"ffffffff",
            b"true",
            self.REALM.encode(),
            self.URI.encode(),
            b"alice@example.com",
        ]


# -- 2. Basic -----------------------------------------------------------------------------------------
class _CheapDecoyAccounts(AdminAccounts):
    """AdminAccounts whose decoy hash (checked for unknown names) costs one pbkdf2 round instead
    of 29,000: fuzzing at tens of thousands of inputs per second instead of forty.  The account
    file's hashes are cheap too; verify() itself is unchanged."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._decoy = pbkdf2_sha256.using(rounds=1).hash("decoy")


class BasicTarget(Target):
    name = "basic"
    description = "Basic Authorization header: admin_auth.authenticate with real AdminAccounts"
    ACCOUNTS: ClassVar[dict[str, tuple[str, str]]] = {
        "admin": ("admin", "correct horse"),
        "viewer": ("viewer", "battery staple"),
    }

    def __init__(self) -> None:
        super().__init__()
        path = self.tmp / "admins.toml"
        cheap = pbkdf2_sha256.using(rounds=1)
        path.write_text(
            "".join(
                f'[admins.{name}]\nrole = "{role}"\nhash = "{cheap.hash(password)}"\n'
                for name, (role, password) in self.ACCOUNTS.items()
            )
        )
        self.accounts = _CheapDecoyAccounts(path)
        self.loop = asyncio.new_event_loop()
        self.requests = {
            write: make_mocked_request("POST" if write else "GET", "/api/v1/users") for write in (False, True)
        }

    def __call__(self, data: bytes) -> None:
        write = bool(data) and data[0] & 1 == 1  # a control byte: its low bit makes it a write
        request = self.requests[write].clone()  # make_mocked_request (mocks) costs ~3 ms a call
        # aiohttp hands handlers header values decoded with surrogateescape; clone() would encode
        # them strictly, so the decoded headers are put in place directly (before first use).
        request._headers = CIMultiDictProxy(CIMultiDict({"Authorization": header_text(data[1:])}))
        try:
            outcome: Any = admin_authenticate(request, self.accounts, write=write)
            if inspect.isawaitable(outcome):  # the check may move off the event loop (item 6)
                self.loop.run_until_complete(outcome)
        except ApiError as error:
            assert 400 <= error.status < 500, f"ApiError {error.status} {error.code}: {error.message}"

    def close(self) -> None:
        self.loop.close()
        super().close()

    def seeds(self) -> list[bytes]:
        credentials = [f"{name}:{password}" for name, (_, password) in self.ACCOUNTS.items()] + [
            "admin:wrong",
            "admin:" + "p" * 3000,
            "nobody:x",
            "admin:",
            ":",
            "admin",
            "é:ü",
            "a:b:c",
        ]
        headers = [b"Basic " + base64.b64encode(c.encode()) for c in credentials]
        headers += [b"basic   " + base64.b64encode(b"admin:correct horse") + b"  ", b"Digest x", b""]
        return [bytes([index % 2]) + header for index, header in enumerate(headers)]

    def dictionary(self) -> list[bytes]:
        return [b"Basic ", b"basic", b"=", b"==", b"+", b"/", b" ", base64.b64encode("é".encode()), b"Og=="]


# -- 3. Rules -----------------------------------------------------------------------------------------
RULE_ERRORS: tuple[type[Exception], ...] = tuple(
    item
    for item in (getattr(spaprov.rules, name) for name in spaprov.rules.__all__)
    if isinstance(item, type) and issubclass(item, Exception)
)  # the rules package's public error types: RuleSyntaxError, StateError, and any added later
KINDS = tuple(RuleKind)


class RulesTarget(Target):
    """Input: a control byte (bits 0-1: the rule kind, bit 2: trace), the rule text, then
    NUL-separated state entries `NAME=value` (macro or flat-profile names); `NAME*N=value` stands
    for the value repeated N times (a long value in a short input, as in a 26 KB API request)."""

    name = "rules"
    description = "rule language: parse, format, lint, evaluate (macro expansion) with random states"

    def __call__(self, data: bytes) -> None:
        control = data[0] if data else 0
        kind, trace = KINDS[control & 3], bool(control & 4)
        text, *entries = rule_text(data[1:]).split("\x00")
        state = dict(state_entry(entry) for entry in entries)
        try:
            rule = parse(text, kind)
        except RULE_ERRORS:
            return
        formatted = format_rule(rule)
        try:
            parse(formatted, kind)
        except RULE_ERRORS as error:
            raise AssertionError(f"format_rule produced a rule that does not parse: {error}") from error
        lint(rule)
        try:
            result = evaluate(rule, state, trace=trace)
        except RULE_ERRORS:
            return
        produced = len(result.url or "") + sum(len(v or "") for v in result.options[:5])
        produced += sum(len(value) for _, value in result.assignments)
        for alternative in result.trace or ():
            produced += sum(len(c.left) + len(c.right) for c in alternative.comparisons)
        assert produced <= MAX_EXPANSION, f"evaluation produced {produced:,} characters"

    def seeds(self) -> list[bytes]:
        states = [
            {},
            {
                "EMS": "mobile",
                "MUID": "alice",
                "MPWD": "1234",
                "PUID": "conf",
                "PPWD": "pw",
                "PDOM": "@x.com",
            },
            {"MA": "00:0e:08:01:23:45", "A": "Provisioned", "REGTMR1": "400", "PRVTMR": "1300"},
            {"SWVER": "2.0.6", "CCERT": "Installed", "EXTIP": "192.0.2.1", "GPP_B": "b", "SA": "k"},
            {"A": "x" * 64, "EM_Login_State": "mobile", "User_ID_1_": "1000"},
            {"A*2000": "a", "MUID*500": "m", "PDOM": "@" + "d" * 50, "GPP_B*100": "/"},
        ]
        seeds = []
        examples = [(example.text, example.kind) for example in VALID] + [(SEED_RULE, "profile")]
        examples += [("http://x/$A", "profile"), ('("$A" eq "$MUID")? [--uid $MUID$PDOM] /$B$A', "profile")]
        for index, (text, kind) in enumerate(examples):
            control = KINDS.index(RuleKind(kind)) | (4 if index % 3 == 0 else 0)
            seeds.append(encode_rule_input(text, states[index % len(states)], control))
            if "$A" in text or "$MUID" in text:  # and with long values
                seeds.append(encode_rule_input(text, states[-1], control))
        return seeds

    def dictionary(self) -> list[bytes]:
        macros = ("$EMS", "$MUID", "$MA", "$A", "$(A:2:3)", "$(MAC:0:99)", "$$", "$SA", "$UID12", "$PORT")
        return [
            *(m.encode() for m in macros),
            *(
                w.encode()
                for w in (
                    " eq ", " ne ", " lt ", " le ", " gt ", " ge ", " and ", " | ", "? ", "! ", ";",
                    '"', "(", ")", "[", "]", "--key ", "--uid ", "--pwd ", "--post ", "--alias ",
                    "--delta", "http://", "https://", "tftp://", ":8080", ":99999", "/", "?", "=",
                    "\x00A=", "\x00MA=", "\x00GPP_A=", "\x00REGTMR1=", "1.2.3", "-5", "00:0e:08:01:23:45",
                )
            ),
        ]  # fmt: skip


def rule_text(data: bytes) -> str:
    """JSON (the API's rule eval) carries any string, lone surrogates included: let them occur."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape")


MAX_REPEAT = 100_000


def state_entry(entry: str) -> tuple[str, str]:
    name, _, value = entry.partition("=")
    name, star, count = name.partition("*")
    if star and count.isascii() and count.isdigit() and len(count) <= 6:
        return name, value * min(int(count), MAX_REPEAT, 1_000_000 // max(1, len(value)))
    return name + star + count, value


def encode_rule_input(rule: str, state: dict[str, str], control: int = 0) -> bytes:
    return bytes([control]) + "\x00".join([rule, *(f"{k}={v}" for k, v in state.items())]).encode()


# -- 4. TOML profile directory ------------------------------------------------------------------------
class TomlTarget(Target):
    """Input: a control byte choosing the file (mod 4), then the file's new content.

    Both readers of the directory take it: the full load (`spaprov render`, import, the first
    load) and the SiteTree a running server keeps, told which file changed as the watcher tells
    it.  The tree must give what the full load gives: the same problems, or the same documents."""

    name = "toml"
    description = "profile directory: one TOML file of a sample site copy replaced by the input, read by "
    description += "the full loader and by a running server's SiteTree (which must agree)"
    FILES = ("site.toml", "devices/001122334455.toml", "users/alice.toml", "em_profiles/alice.toml")

    def __init__(self) -> None:
        super().__init__()
        self.root = self.tmp / "site"
        shutil.copytree(SAMPLE_SITE, self.root)
        self.pristine = {name: (self.root / name).read_bytes() for name in self.FILES}
        self._dirty: str | None = None
        self.tree = SiteTree(self.root)

    def __call__(self, data: bytes) -> None:
        name = self.FILES[data[0] % len(self.FILES)] if data else self.FILES[0]
        changed = {name}
        if self._dirty is not None and self._dirty != name:
            (self.root / self._dirty).write_bytes(self.pristine[self._dirty])
            changed.add(self._dirty)
        (self.root / name).write_bytes(data[1:])
        self._dirty = name
        try:
            full: Config | list[Problem] = load_profile_directory(self.root)
        except ConfigError as error:
            full = list(error.problems)
        self.tree.refresh(changed)
        try:
            tree: Config | list[Problem] = self.tree.config()
        except ConfigError as error:
            tree = list(error.problems)
        if isinstance(full, list) or isinstance(tree, list):
            assert full == tree, f"SiteTree: {tree!r}, full load: {full!r}"
        else:
            assert (tree.site, dict(tree.devices), dict(tree.users), dict(tree.em_profiles)) == (
                full.site, dict(full.devices), dict(full.users), dict(full.em_profiles)
            ), "SiteTree and the full load read different documents"  # fmt: skip

    def seeds(self) -> list[bytes]:
        seeds = [bytes([index]) + self.pristine[name] for index, name in enumerate(self.FILES)]
        extra = (
            b'[[lines]]\nnumber = 2\nuser_id = "3000"\n'
            b'[[line_keys]]\nkey = 6\nkind = "blf"\nname = "x"\ntarget = "1"\n'
        )
        return [*seeds, bytes([1]) + self.pristine[self.FILES[1]] + extra, bytes([3]) + extra]

    def dictionary(self) -> list[bytes]:
        return [
            *(
                w.encode()
                for w in (
                    "[site]\n", "[auth]\n", "[mobility]\n", "[[lines]]\n", "[[line_keys]]\n",
                    "[[speed_dials]]\n",
                    " = ", '"', "'''", '"""', "\n", "[", "]", "{", "}", ",", "true", "false", "-1", "0x7f",
                    "1e400", "inf", "nan", "1979-05-27T07:32:00Z", "\\u0000", "\\uFFFE", "number", "key",
                    "slot", "kind", "model", "host_user", "em_profiles", "profile_rule", "realm",
                    "max_login_time", "nonce_secret", "file:/dev/null", "env:X", "99:99", "SPA525G2",
                )
            ),
        ]  # fmt: skip


# -- 5. CSV import ------------------------------------------------------------------------------------
class CsvTarget(Target):
    """Input: a control byte (bits 0-1: --kind none/users/devices/none, bit 2: --partial), then
    the CSV text (read as `spaprov import` reads it: UTF-8 with an optional BOM)."""

    name = "csv"
    description = "spaprov import: CSV parsing and validation against the whole profile directory"

    def __init__(self) -> None:
        super().__init__()
        self.root = self.tmp / "site"
        shutil.copytree(SAMPLE_SITE, self.root)
        self.writes = 0
        # Rows that validated go through the whole journaled write (the directory re-validated
        # with them, their passwords hashed into the credential files) up to the journal's
        # commit, which is recorded instead of installed: what is fuzzed is everything the input
        # reaches, and the site stays the same for every input.
        self._patch = mock.patch.object(Transaction, "commit", self._record_commit)
        self._patch.start()

    def _record_commit(self, files: Mapping[str, bytes | None], **_: object) -> None:
        # Every file stays inside the directory and is not hidden: no absolute path, no ".." and
        # no component starting with "." (a user "a..b" is the file users/a..b.toml: fine).
        for label in files:
            parts = PurePosixPath(label).parts
            assert not label.startswith("/") and not any(part.startswith(".") for part in parts), label
        self.writes += bool(files)

    def __call__(self, data: bytes) -> None:
        control = data[0] if data else 0
        kind = (None, "users", "devices", None)[control & 3]
        # As `spaprov import` reads the file (Path.read_text: universal newlines); an undecodable
        # file is the CLI's own error message, so bad bytes are replaced here.
        text = io.TextIOWrapper(io.BytesIO(data[1:]), encoding="utf-8-sig", errors="replace").read()
        bulk.import_rows(self.root, text, kind=kind, partial=bool(control & 4), progress=False)

    def close(self) -> None:
        self._patch.stop()
        super().close()

    def seeds(self) -> list[bytes]:
        users = (
            "id,display_name,em_profiles,default_profile,password\n"
            "carol,Carol Example,alice;bob,alice,s3cret\n"
            'dave,"Dave, Jr.",bob,,\n'
            "erin,,alice,,pw\n"
        )
        devices = (
            "mac,model,station_name,host_user,em_enabled\n"
            "00:11:22:33:44:66,SPA525G2,Lobby,lobby-phone,yes\n"
            '001122334477,SPA504G,"Room ""B""",room-b,no\n'
        )
        bad = "id,display_name,em_profiles\nBad Id,x,nope\ncarol,c,alice\ncarol,c,alice\n"
        return [
            b"\x00" + users.encode(),
            b"\x04" + users.encode(),
            b"\x00" + devices.encode(),
            b"\x02" + devices.encode(),
            b"\x05" + ("\ufeff" + bad).encode(),
            b"\x01" + users.replace("\n", "\r\n").encode(),
        ]

    def dictionary(self) -> list[bytes]:
        return [
            b",", b'"', b'""', b"\n", b"\r\n", b"\r", b";", b":", b"-", b"\xef\xbb\xbf", b"id", b"mac",
            b"em_profiles", b"default_profile", b"password", b"model", b"host_user", b"em_enabled",
            b"alice", b"bob", b"SPA525G2", b"yes", b"no", b"001122334455", b"conf-room-1",
        ]  # fmt: skip


# -- 6. TFTP packets ---------------------------------------------------------------------------------
class TftpTarget(Target):
    """Input: one UDP datagram as a client would send it to the TFTP listener."""

    name = "tftp"
    description = "TFTP listener: packet parser, option negotiation, file-name resolver"

    def __init__(self) -> None:
        super().__init__()
        holder = mock.Mock()
        holder.config = load_profile_directory(SAMPLE_SITE)
        self.files = BootstrapFiles(holder, ProfileBuilder(Renderer()))
        self.server = TftpServer(self.files)

    def __call__(self, data: bytes) -> None:
        try:
            packet = tftp_packets.parse(data)
        except tftp_packets.PacketError as error:
            assert 0 <= error.code <= 8
            return
        if not isinstance(packet, tftp_packets.Request):
            return
        block, timeout, granted = self.server.negotiate(packet, 1000)
        assert tftp_packets.MIN_BLOCK <= block <= tftp_packets.MAX_BLOCK
        assert 0 < timeout <= self.server.limits.max_timeout
        assert set(granted) <= {"blksize", "tsize", "timeout"}
        tftp_packets.oack(granted)
        try:
            content = self.files(packet.filename)
        except FileRefused as refusal:
            tftp_packets.error(refusal.code, refusal.message)
            return
        assert content.startswith(b"<?xml") and b"Password" not in content

    def seeds(self) -> list[bytes]:
        def rrq(*fields: bytes, opcode: int = 1) -> bytes:
            return opcode.to_bytes(2, "big") + b"".join(field + b"\0" for field in fields)

        return [
            rrq(b"spa525G2.cfg", b"octet"),
            rrq(b"/spa504G.cfg", b"netascii", b"blksize", b"1428", b"tsize", b"0", b"timeout", b"3"),
            rrq(b"SPA001122334455.CFG", b"OCTET"),
            rrq(b"../etc/passwd", b"octet"),
            rrq(b"spa525G2.cfg", b"octet", opcode=2),
            b"\x00\x04\x00\x01",
            b"\x00\x05\x00\x01oops\x00",
        ]

    def dictionary(self) -> list[bytes]:
        return [
            b"\0", b"\x00\x01", b"\x00\x02", b"\x00\x04", b"\x00\x05", b"\x00\x06", b"octet",
            b"netascii", b"mail", b"blksize", b"tsize", b"timeout", b"65464", b"8", b"0", b"-1",
            b"spa", b".cfg", b"525G2", b"001122334455", b"/", b"..", b"\\",
        ]  # fmt: skip


# -- 7. SIP answers to a resync push --------------------------------------------------------------------
class SipTarget(Target):
    """Input: one UDP datagram as a phone (or anyone who can reach the push's socket) answers."""

    name = "sip"
    description = "resync push: SIP response parser and the Digest answer to the phone's challenge"
    ACCOUNT = SipCredentials("2001", "2001", "sip-alice")

    def __call__(self, data: bytes) -> None:
        response = sip.parse_response(data)
        if response is None or response.challenge is None:
            return
        assert 100 <= response.status <= 699
        with contextlib.suppress(sip.ChallengeError):
            value = sip.answer(response.challenge[1], self.ACCOUNT, "sip:2001@127.0.0.1:5060")
            assert value.startswith("Digest ") and "\r" not in value and "\n" not in value

    def seeds(self) -> list[bytes]:
        head = b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\nCall-ID: abc\r\nCSeq: 1 NOTIFY\r\n"
        return [
            b"SIP/2.0 401 Unauthorized\r\n" + head
            + b'WWW-Authenticate: Digest realm="spa", nonce="n0", qop="auth"\r\nContent-Length: 0\r\n\r\n',
            b"SIP/2.0 407 Proxy Authentication Required\r\n" + head
            + b'Proxy-Authenticate: Digest realm="spa", nonce="n1", opaque="o", algorithm=MD5\r\n\r\n',
            b"SIP/2.0 200 OK\r\n" + head + b"\r\n",
            b"SIP/2.0 100 Trying\r\ni: abc\r\nCSeq: 1 NOTIFY\r\n\r\n",
        ]  # fmt: skip

    def dictionary(self) -> list[bytes]:
        return [
            b"SIP/2.0 ", b"401", b"407", b"200", b"\r\n", b"WWW-Authenticate: ", b"Digest ", b"realm=",
            b"nonce=", b"qop=", b'"auth"', b"auth-int", b"algorithm=", b"SHA-256", b"opaque=", b'"',
            b"\\", b",", b"CSeq: ", b"Call-ID: ",
        ]  # fmt: skip


TARGETS: dict[str, Callable[[], Target]] = {
    target.name: target
    for target in (DigestTarget, BasicTarget, RulesTarget, TomlTarget, CsvTarget, TftpTarget, SipTarget)
}


def target_names() -> Sequence[str]:
    return tuple(TARGETS)

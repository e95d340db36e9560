"""A small seeded mutation fuzzer: the engine of the CI run, and of `python -m tests.fuzz` without atheris.

`Mutator` derives inputs from a seed corpus of real inputs (the sample site's files, the rule
corpus, genuine Digest headers) by stacking a few byte-level mutations: bit flips, interesting
bytes, non-ASCII and invalid UTF-8 sequences, the target's own tokens, deletions, duplications,
splices, and now and then an inflation of a short slice to tens or hundreds of KiB (size limits
are where parsers break).  The same seed gives the same inputs, so a CI run is deterministic.

`Campaign` feeds inputs to a target and records findings: any exception that escapes the target
(targets let their documented errors through themselves), grouped by a signature (exception type
and the innermost spaprov frame), keeping the smallest input seen per signature.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Bytes that tend to matter to text parsers, and encodings that tend to matter to text handling.
INTERESTING_BYTES = b"\x00\x01\x09\x0a\x0d\x1b\x20\x22\x27\x2c\x3a\x3b\x3d\x5c\x7f\x80\xc0\xff$()[]{}#@%+-=."
NON_ASCII = (
    "é".encode(),
    "\u00ff".encode(),
    "\ufffe".encode(),
    "\uffff".encode(),
    "\u2028".encode(),
    "\U0001f4de".encode(),
    "\u00b2".encode(),  # a digit to str.isdigit(), not to int()
    "\u0663".encode(),  # ARABIC-INDIC DIGIT THREE: int() accepts it
    b"\xed\xa0\x80",  # a UTF-16 surrogate in UTF-8 form: invalid UTF-8
    b"\xc0\x80",  # overlong NUL
    b"\xff\xfe",
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
)
MAX_INFLATED = 300 * 1024


class Mutator:
    def __init__(
        self,
        seeds: Sequence[bytes],
        dictionary: Sequence[bytes] = (),
        *,
        seed: int = 0,
        inflate_probability: float = 0.01,
    ) -> None:
        if not seeds:
            raise ValueError("a mutator needs at least one seed input")
        self.seeds = list(seeds)
        self.dictionary = list(dictionary) or [b"\x00"]
        self.random = random.Random(seed)
        self.inflate_probability = inflate_probability
        self._operations: list[Callable[[bytearray], None]] = [
            self._flip_bit,
            self._random_byte,
            self._interesting_byte,
            self._non_ascii,
            self._token,
            self._token,
            self._insert_random,
            self._delete,
            self._duplicate,
            self._splice,
            self._truncate,
            self._swap_token,
        ]

    def __iter__(self) -> Iterator[bytes]:
        while True:
            yield self.next()

    def next(self) -> bytes:
        chance = self.random.random()
        data = bytearray(self.random.choice(self.seeds))
        if chance < 0.005:
            return bytes(data)  # the seeds themselves, now and then
        for _ in range(self.random.choice((1, 1, 2, 2, 3, 4, 6, 8))):
            self.random.choice(self._operations)(data)
        if self.random.random() < self.inflate_probability:
            self._inflate(data)
        return bytes(data)

    # -- mutations ------------------------------------------------------------------------------
    def _position(self, data: bytearray, *, inclusive: bool = False) -> int:
        return (
            self.random.randint(0, len(data)) if inclusive or not data else self.random.randrange(len(data))
        )

    def _flip_bit(self, data: bytearray) -> None:
        if data:
            data[self._position(data)] ^= 1 << self.random.randrange(8)

    def _random_byte(self, data: bytearray) -> None:
        if data:
            data[self._position(data)] = self.random.randrange(256)

    def _interesting_byte(self, data: bytearray) -> None:
        byte = self.random.choice(INTERESTING_BYTES)
        if data and self.random.random() < 0.5:
            data[self._position(data)] = byte
        else:
            data.insert(self._position(data, inclusive=True), byte)

    def _non_ascii(self, data: bytearray) -> None:
        position = self._position(data, inclusive=True)
        data[position:position] = self.random.choice(NON_ASCII)

    def _token(self, data: bytearray) -> None:
        position = self._position(data, inclusive=True)
        data[position:position] = self.random.choice(self.dictionary)

    def _swap_token(self, data: bytearray) -> None:
        """Replace one occurrence of a dictionary token by another (keeps the structure)."""
        old, new = self.random.choice(self.dictionary), self.random.choice(self.dictionary)
        where = data.find(old, self._position(data, inclusive=True)) if old else -1
        if where >= 0:
            data[where : where + len(old)] = new

    def _insert_random(self, data: bytearray) -> None:
        position = self._position(data, inclusive=True)
        data[position:position] = self.random.randbytes(self.random.randint(1, 8))

    def _delete(self, data: bytearray) -> None:
        if data:
            start = self._position(data)
            del data[start : start + self.random.randint(1, max(1, len(data) // 4))]

    def _duplicate(self, data: bytearray) -> None:
        if data:
            start = self._position(data)
            chunk = data[start : start + self.random.randint(1, 32)]
            position = self._position(data, inclusive=True)
            data[position:position] = chunk

    def _splice(self, data: bytearray) -> None:
        other = self.random.choice(self.seeds)
        if other:
            start = self.random.randrange(len(other))
            chunk = other[start : start + self.random.randint(1, 64)]
            position = self._position(data, inclusive=True)
            data[position:position] = chunk

    def _truncate(self, data: bytearray) -> None:
        if data:
            del data[self._position(data) :]

    def _inflate(self, data: bytearray) -> None:
        """Repeat a short slice until the input is KiBs to hundreds of KiBs long."""
        if not data:
            return
        start = self._position(data)
        if self.random.random() < 0.5:  # a slice of the input, or one of the target's tokens
            chunk = bytes(data[start : start + self.random.randint(1, 16)])
        else:
            chunk = self.random.choice(self.dictionary) or b"\x00"
        target = self.random.choice((5_000, 20_000, 70_000, 140_000, MAX_INFLATED))
        data[start:start] = chunk * max(1, (target - len(data)) // len(chunk))


@dataclass
class Finding:
    signature: str
    kind: str
    message: str
    traceback: str
    data: bytes
    count: int = 1


@dataclass
class Campaign:
    """Feeds inputs to `target` and records every exception that escapes it."""

    target: Callable[[bytes], None]
    findings: dict[str, Finding] = field(default_factory=dict)
    runs: int = 0
    seconds: float = 0.0

    def run_one(self, data: bytes) -> Finding | None:
        self.runs += 1
        try:
            self.target(data)
        except Exception as error:  # noqa: BLE001 - any escaping exception is what we look for
            return self.record(error, data)
        return None

    def run(
        self, inputs: Iterator[bytes], count: int, *, report: Callable[[Campaign], None] | None = None
    ) -> None:
        started = time.perf_counter()
        next_report = started + 30.0
        try:
            for _ in range(count):
                self.run_one(next(inputs))
                if report is not None and (now := time.perf_counter()) >= next_report:
                    self.seconds += now - started
                    started, next_report = now, now + 30.0
                    report(self)
        finally:
            self.seconds += time.perf_counter() - started

    def record(self, error: Exception, data: bytes) -> Finding:
        key = signature(error)
        known = self.findings.get(key)
        if known is not None:
            known.count += 1
            if len(data) < len(known.data):
                known.data = data
            return known
        finding = Finding(
            key, type(error).__name__, str(error)[:500], "".join(traceback.format_exception(error)), data
        )
        self.findings[key] = finding
        return finding

    @property
    def finding_count(self) -> int:
        return sum(f.count for f in self.findings.values())

    def rate(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0


def signature(error: BaseException) -> str:
    """Exception type and the innermost frame in spaprov (or the innermost frame at all)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/spaprov/" in f.filename.replace("\\", "/")]
    chosen = ours or frames
    where = f"{_short(chosen[-1].filename)}:{chosen[-1].lineno}" if chosen else "?"
    return f"{type(error).__name__} at {where}"


def _short(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/spaprov/", "/site-packages/", "/lib/python"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1]
    return Path(path).name


def minimize(
    target: Callable[[bytes], None], data: bytes, key: str, *, budget: int = 20_000, seconds: float = 60.0
) -> bytes:
    """The shortest input found (by removing chunks, then single bytes) that still fails with `key`,
    within `budget` tries and about `seconds` (a 128 KiB input costs a lot per try)."""
    deadline = time.monotonic() + seconds

    def fails(candidate: bytes) -> bool:
        try:
            target(candidate)
        except Exception as error:  # noqa: BLE001 - the same signature is what we keep
            return signature(error) == key
        return False

    best, tries = data, 0
    chunk = max(1, len(best) // 2)
    while chunk >= 1 and tries < budget and time.monotonic() < deadline:
        position, shrunk = 0, False
        while position < len(best) and tries < budget and time.monotonic() < deadline:
            candidate = best[:position] + best[position + chunk :]
            tries += 1
            if candidate != best and fails(candidate):
                best, shrunk = candidate, True
            else:
                position += chunk
        if not shrunk:
            chunk //= 2
    return best

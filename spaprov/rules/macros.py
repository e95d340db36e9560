"""Macro expansion, compiled once per text so that evaluation is a join of ready segments.

`$NAME` takes the longest run of upper-case letters and digits after `$`; `$(NAME)`,
`$(NAME:p)` and `$(NAME:p:q)` take a substring; `$$` is a literal `$`.  Unknown names, and the
secure GPPs `$SA`..`$SD` outside `--key/--uid/--pwd`, stay exactly as written.  Expansion happens
once: an expanded value containing `$` is not expanded again.

Expansion is bounded (see MAX_EXPANDED_VALUE): a template's expanded length is known from the
lengths of the values before anything is built, so an oversized expansion is refused without
allocating it.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from spaprov.mac import colon_form, normalize_mac

GPP_LETTERS = "ABCDEFGHIJKLMNOP"
SECURE_NAMES = frozenset({"SA", "SB", "SC", "SD"})

KNOWN_MACROS: frozenset[str] = frozenset(
    {
        *GPP_LETTERS,
        *SECURE_NAMES,
        "MA", "MAU", "MAC", "PN", "PSN", "SN", "CCERT", "IP", "EXTIP", "SWVER", "HWVER",
        "PRVST", "UPGST", "UPGERR", "PRVTMR", "UPGTMR", "REGTMR1", "REGTMR2", "UPGCOND",
        "SCHEME", "METH", "SERV", "SERVIP", "PORT", "PATH", "ERR", "ISCUST",
        *(f"UID{n}" for n in range(1, 13)),
        "EMS", "PUID", "PPWD", "MUID", "MPWD", "PDOM",
    }
)  # fmt: skip

# Flat-profile parameter names accepted in a phone state, and the macro each one feeds.
FLAT_PROFILE_NAMES: dict[str, str] = {
    "EM_Login_State": "EMS",
    "EM_Phone_User_ID": "PUID",
    "EM_Phone_Password": "PPWD",
    "EM_Mobile_User_ID": "MUID",
    "EM_Mobile_Password": "MPWD",
    "EM_User_Domain": "PDOM",
    **{f"GPP_{letter}": letter for letter in GPP_LETTERS},
    **{f"GPP_{name}": name for name in SECURE_NAMES},
    **{f"User_ID_{n}_": f"UID{n}" for n in range(1, 13)},
}

_MAC_NAMES = ("MA", "MAU", "MAC")
_NAME_CHARS = frozenset(string.ascii_uppercase + string.digits)
_PAREN_FORM = re.compile(r"\$\(([A-Z0-9]+)(?::([0-9]+)(?::([0-9]+))?)?\)")

# Expansion limits.  No public source gives a length limit for SPA rule URLs or macro values (the
# Linksys and Cisco SPA provisioning guides document none; the firmware's own limits are
# unknown), but a real profile URL is a few hundred characters and a macro value (a MAC, a user
# id, a password, a GPP) far shorter.  The limits only stop hostile input from multiplying one
# long value thousands of times (`"$A" * 8176` with a 10,000-character A is 82 million
# characters).
MAX_EXPANDED_VALUE = 4096  # characters in any one expanded string: URL, option, operand, value
MAX_EXPANSION_TOTAL = 65536  # characters across all the strings one evaluation can expand
# Template texts longer than this are compiled without the cache (a bound on its bytes).
_CACHED_TEXT = 256


@dataclass(frozen=True)
class MacroRef:
    name: str
    offset: int = 0
    length: int | None = None


Part = str | MacroRef


Expander = Callable[[Mapping[str, str]], str]


@dataclass(frozen=True)
class Template:
    """Text that may contain macros.  Equal when the written text is equal."""

    text: str
    parts: tuple[Part, ...] = field(compare=False, repr=False, default=())
    secure: bool = field(compare=False, repr=False, default=False)
    # What `expanded_length` needs: the literal characters, and the macro references.
    literal_chars: int = field(compare=False, repr=False, default=0)
    refs: tuple[MacroRef, ...] = field(compare=False, repr=False, default=())
    # `expand(values)`: generated once per distinct text (see _expander); the evaluator's hot path.
    expand: Expander = field(compare=False, repr=False, default=lambda values: "")

    @classmethod
    def compile(cls, text: str, *, secure: bool = False) -> Template:
        if len(text) > _CACHED_TEXT:  # long texts are rare and must not fill the cache
            return _compile_uncached(text, secure)
        return _compile(text, secure)

    def expanded_length(self, values: Mapping[str, str]) -> int:
        """The length `expand(values)` would return, computed without building it."""
        length = self.literal_chars
        for ref in self.refs:
            size = len(values.get(ref.name, ""))
            if ref.offset or ref.length is not None:
                end = size if ref.length is None else min(size, ref.offset + ref.length)
                size = max(0, end - ref.offset)
            length += size
        return length

    @property
    def is_constant(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    @property
    def macro_names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts if isinstance(part, MacroRef))


def _expander(parts: tuple[Part, ...]) -> Expander:
    """A closure specialised to the shape of `parts`: cheap to build (parse stays fast) and
    close to a hand-written lookup for the common shapes ("$EMS", "", "$MUID$PDOM")."""
    if len(parts) == 1:
        only = parts[0]
        if isinstance(only, str):
            return lambda values: only
        return _macro_getter(only)
    if all(isinstance(p, MacroRef) and not p.offset and p.length is None for p in parts) and len(parts) == 2:
        first, second = (p.name for p in parts if isinstance(p, MacroRef))
        return lambda values: values.get(first, "") + values.get(second, "")
    getters = tuple(_literal(p) if isinstance(p, str) else _macro_getter(p) for p in parts)
    return lambda values: "".join([getter(values) for getter in getters])


def _literal(text: str) -> Expander:
    return lambda values: text


def _macro_getter(ref: MacroRef) -> Expander:
    name = ref.name
    if not ref.offset and ref.length is None:
        return lambda values: values.get(name, "")
    start, end = ref.offset, None if ref.length is None else ref.offset + ref.length
    return lambda values: values.get(name, "")[start:end]


def unknown_macros(text: str) -> tuple[str, ...]:
    """The `$NAME` / `$(NAME)` spellings in `text` that are not known macros (left as written)."""
    found: list[str] = []
    index = 0
    while (index := text.find("$", index)) != -1:
        if text.startswith("$$", index):
            index += 2
            continue
        paren = _PAREN_FORM.match(text, index)
        name = paren.group(1) if paren else _name_at(text, index + 1)
        if name and name not in KNOWN_MACROS:
            found.append(name)
        index += 1
    return tuple(found)


def _name_at(text: str, start: int) -> str:
    end = start
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return text[start:end]


def _compile_uncached(text: str, secure: bool) -> Template:
    parts: list[Part] = []
    literal: list[str] = []

    def known(name: str) -> bool:
        return name in KNOWN_MACROS and (secure or name not in SECURE_NAMES)

    def flush_literal() -> None:
        if literal:
            parts.append("".join(literal))
            literal.clear()

    index = 0
    while index < len(text):
        char = text[index]
        if char != "$":
            literal.append(char)
            index += 1
            continue
        if text.startswith("$$", index):
            literal.append("$")
            index += 2
            continue
        paren = _PAREN_FORM.match(text, index)
        if paren and known(paren.group(1)):
            offset = int(paren.group(2) or 0)
            length = int(paren.group(3)) if paren.group(3) is not None else None
            flush_literal()
            parts.append(MacroRef(paren.group(1), offset, length))
            index = paren.end()
            continue
        if paren:  # unknown name in the $( ) form: stays exactly as written
            literal.append(paren.group(0))
            index = paren.end()
            continue
        name = _name_at(text, index + 1)
        if name and known(name):
            flush_literal()
            parts.append(MacroRef(name))
        else:
            literal.append("$" + name)
        index += 1 + len(name)
    flush_literal()
    compiled = tuple(parts) or ("",)
    refs = tuple(part for part in compiled if isinstance(part, MacroRef))
    literal_chars = sum(len(part) for part in compiled if isinstance(part, str))
    return Template(
        text, compiled, secure, literal_chars=literal_chars, refs=refs, expand=_expander(compiled)
    )


# Bounded in bytes, not only in entries: keys are at most _CACHED_TEXT characters (see
# Template.compile), and a compiled 256-character template weighs ~2 KB, so the cache holds at
# most ~4 MB (measured 4.2 MiB full of 256-character templates; it used to take 8192 templates
# of up to 16 KiB).
_compile = lru_cache(maxsize=2048)(_compile_uncached)


class StateError(ValueError):
    """A phone state that names an unknown parameter or carries an unusable value."""


class ExpansionTooLarge(StateError):
    """The state's values would expand some string of the rule past a limit.

    `where` says which string ("alternative 1: the URL"); `size` is what it would have been.
    The values themselves are not repeated (they may be passwords).
    """

    def __init__(self, where: str, size: int, limit: int) -> None:
        super().__init__(
            f"{where} would expand to {size:,} characters; the limit is {limit:,} "
            "(a phone's macro values and URLs are far shorter)"
        )
        self.where, self.size, self.limit = where, size, limit


def _close_name(name: str) -> str | None:
    """The known state name `name` most likely misspells (case first, then a close spelling)."""
    known = sorted({*KNOWN_MACROS, *FLAT_PROFILE_NAMES})
    by_case = {candidate.lower(): candidate for candidate in known}
    if name.lower() in by_case:
        return by_case[name.lower()]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return close[0] if close else None


def normalize_state(state: Mapping[str, object]) -> dict[str, str]:
    """Macro values from a phone state given by macro names and/or flat-profile names.

    `MA`, `MAU` and `MAC` are all derived from whichever one is given, in any common form
    (`00:0E:08:01:23:45`, `000e.0801.2345`, `000E08012345`).
    """
    values: dict[str, str] = {}
    for name, raw in state.items():
        macro = FLAT_PROFILE_NAMES.get(name, name)
        if macro not in KNOWN_MACROS:
            close = _close_name(name)
            raise StateError(
                f"unknown phone-state name {name!r}: "
                + (f"did you mean {close!r}? " if close else "")
                + "use a macro name (EMS, MUID, A…) or a flat-profile name (EM_Login_State, GPP_A…)"
            )
        values[macro] = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    if "MA" in values or "MAU" in values or "MAC" in values:
        macs = {values[name] for name in _MAC_NAMES if values.get(name)}
        if not macs:
            return values
        digits = {_mac_digits(mac) for mac in macs}
        if len(digits) > 1:
            raise StateError("MA, MAU and MAC name different MAC addresses")
        hexdigits = digits.pop()
        values["MA"] = hexdigits
        values["MAU"] = hexdigits.upper()
        values["MAC"] = colon_form(hexdigits)
    return values


def _mac_digits(mac: str) -> str:
    digits = normalize_mac(mac)
    if digits is None:
        raise StateError(f"{mac!r} is not a MAC address (12 hexadecimal digits)")
    return digits

"""What a line key's `target` and `name` may contain.

Both are pasted into `Extended_Function_n_` by the profile templates; its syntax is `;`-separated
`keyword=value` fields (as SPA5xx profile generators write it, e.g. wazo-provd-plugins' Cisco SPA
plugin: `fnc=blf+sd+cp;sub=123@$PROXY;nme=Label`, `fnc=xml;url=…`).  A `;` in a value starts a
field of the attacker's choosing (`3003;fnc=xml;url=http://evil.example/x` turns a BLF key into an
XML service), an `@` names another SIP domain (the server writes `@$PROXY` itself), and `$` is a
macro the phone expands.
So each field is held to what it legitimately is:

- a BLF `target`: an extension, the user part of `sub=<target>@$PROXY`;
- a service `target`: a plain http(s) URL: host, optional port, path and query, without `;`,
  `@` (no credentials in a URL shown to every phone), `$`, `#`, whitespace or `fnc=`;
- a `name` (`nme=`, the key's label): any text without `;`, `=`, `@` or `$`.
"""

from __future__ import annotations

import re

from spaprov.config.reader import TableReader
from spaprov.config.schema import LineKey

# A SIP user part as a phone dials it: a user id, a speed-dial number, a BLF target.
EXTENSION = re.compile(r"[A-Za-z0-9_.+*#\-]{1,64}")
SERVICE_URL = re.compile(
    r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
    r"(?:[/?][A-Za-z0-9._~%!&'()*+,=:/?\-]*)?",
    re.ASCII,
)
LABEL_FORBIDDEN = re.compile(r"[;=@$]")
_KEYWORD = re.compile(r"fnc=", re.IGNORECASE)


def checked_line_key(reader: TableReader, key: LineKey) -> LineKey | None:
    """`key` when its target and name are safe in Extended_Function; else None, with a Problem
    on `reader` naming the field (`line_keys[n].target` / `.name`)."""
    ok = True
    if key.kind == "blf" and not EXTENSION.fullmatch(key.target):
        reader.problem(
            "target",
            f"{key.target!r} is not an extension (letters, digits, _ . + * # -; "
            "the server adds the @domain itself)",
        )
        ok = False
    elif key.kind == "service" and (not SERVICE_URL.fullmatch(key.target) or _KEYWORD.search(key.target)):
        reader.problem(
            "target",
            f"{key.target!r} is not a plain http(s) URL (no ; @ $ # spaces or fnc=: "
            "they would change the key's Extended_Function)",
        )
        ok = False
    if (found := LABEL_FORBIDDEN.search(key.name)) is not None:
        reader.problem(
            "name", f"{key.name!r} contains {found.group()!r}, which would change the key's Extended_Function"
        )
        ok = False
    return key if ok else None

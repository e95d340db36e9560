"""Rendering a flat profile: the Jinja2 environment over the package's templates/ (autoescape
on, StrictUndefined) and the per-key and speed-dial slots the templates iterate over.

Output is US-ASCII, as the templates' XML declaration says: the SPA firmware's XML parser takes
ASCII only, so any other character becomes a numeric character reference (`&#233;`), which that
parser does accept.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup, escape

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # markupsafe without its C extension
    from markupsafe._native import _escape_inner

from spaprov.config.models import PhoneModel
from spaprov.config.schema import Device, Line, LineKey, ProfileContent, RouteKind, Site, User
from spaprov.resources import resource_dir

RenderKind = RouteKind | Literal["logout"]


@dataclass(frozen=True)
class HostCredentials:
    user: str
    password: str


@dataclass(frozen=True)
class KeySlot:
    n: int
    line: Line | None
    short_name: str
    function: str


@dataclass(frozen=True)
class SpeedDialSlot:
    n: int
    number: str


_new_str = str.__new__


def _escape(value: object) -> Markup:
    """markupsafe.escape, without its Markup.__new__ frame: the same Markup strings (Markup(s) is
    str.__new__(Markup, s) for a plain string), built in C.  A profile render escapes ~190 values,
    and that frame was a tenth of a boot storm's server time."""
    if type(value) is str:
        return _new_str(Markup, _escape_inner(value))
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    return _new_str(Markup, _escape_inner(str(value)))


class _Template(jinja2.Template):
    """Compiled templates whose output expressions call `_escape` instead of markupsafe's."""

    @classmethod
    def _from_namespace(
        cls,
        environment: jinja2.Environment,
        namespace: MutableMapping[str, Any],
        globals: MutableMapping[str, Any],  # noqa: A002 - jinja2's own parameter name
    ) -> jinja2.Template:
        if namespace.get("escape") is escape:
            namespace["escape"] = _escape
        return super()._from_namespace(environment, namespace, globals)


class Renderer:
    def __init__(self, template_dir: Path | None = None) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir or resource_dir("templates"))),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.environment.template_class = _Template

    def render(
        self,
        kind: RenderKind,
        site: Site,
        model: PhoneModel,
        *,
        device: Device | None = None,
        user: User | None = None,
        content: ProfileContent | None = None,
        host_credentials: HostCredentials | None = None,
    ) -> bytes:
        template = self.environment.get_template(f"{kind}.xml.j2")
        text = template.render(
            kind=kind,
            site=site,
            model=model,
            mac=device.mac if device else "",
            station_name=device.station_name if device else "",
            em_enabled=device.em_enabled if device else True,
            user=user,
            keys=key_slots(model, content or ProfileContent()),
            speed_dials=speed_dial_slots(content or ProfileContent()),
            host_credentials=host_credentials,
        )
        return text.encode("ascii", "xmlcharrefreplace")


def key_slots(model: PhoneModel, content: ProfileContent) -> list[KeySlot]:
    """Every line key of the model: its line, or its BLF/service function, or nothing (cleared).
    Lines and keys past the model's count are left out (a 12-key profile on a 1-key phone)."""
    lines = {line.number: line for line in content.lines}
    functions = {key.key: key for key in content.line_keys}
    slots = []
    for n in range(1, model.line_keys + 1):
        line = lines.get(n)
        key = functions.get(n)
        slots.append(
            KeySlot(
                n, line, line.short_name if line else (key.name if key else ""), _function(key) if key else ""
            )
        )
    return slots


def _function(key: LineKey) -> str:
    if key.kind == "blf":  # busy lamp + speed dial + call pickup, the SPA5x5 keyword syntax
        return f"fnc=blf+sd+cp;sub={key.target}@$PROXY;nme={key.name}"
    return f"fnc=xml;url={key.target};nme={key.name}"


def speed_dial_slots(content: ProfileContent) -> list[SpeedDialSlot]:
    dials = {dial.slot: dial.number for dial in content.speed_dials}
    return [SpeedDialSlot(n, dials.get(n, "")) for n in range(2, 10)]

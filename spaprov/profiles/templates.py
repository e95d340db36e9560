"""Rendering a flat profile: the Jinja2 environment over the package's templates/ (autoescape
on, StrictUndefined), fed the model's layout (spaprov.profiles.layout).

Output is ASCII: the SPA firmware's XML parser takes ASCII only ([LSPG301] p.2-3), so any other
character becomes a numeric character reference (`&#233;`), which that parser does accept.  The
XML declaration names no encoding (ASCII is UTF-8 too), as real SPA profiles write it ([WAZO]
xivo-cisco-spa base.tpl and spa.xml: `<?xml version="1.0" standalone="yes"?>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jinja2

from spaprov.config.models import PhoneModel
from spaprov.config.schema import Device, ProfileContent, RouteKind, Site, User
from spaprov.profiles.layout import layout
from spaprov.resources import resource_dir

RenderKind = RouteKind | Literal["logout", "bootstrap"]


@dataclass(frozen=True)
class HostCredentials:
    user: str
    password: str


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
        resync_periodic: int | None = None,
        profile_key: str = "",
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
            # The user's name while one is logged in; the phone's own otherwise, so a logout
            # never leaves the last user's name on the screen.
            station_display_name=user.display_name if user else (device.station_name if device else ""),
            layout=layout(model, content or ProfileContent()),
            host_credentials=host_credentials,
            resync_periodic=site.resync.periodic if resync_periodic is None else resync_periodic,
            profile_key=profile_key,
        )
        return text.encode("ascii", "xmlcharrefreplace")

"""What a phone gets: the flat profile for a route kind, a device and an identity (pure, no aiohttp).

builder.py decides what goes into a profile (which template, which content, whether the phone's
own credentials travel in it); templates.py renders it with Jinja2 over the package's templates/.
"""

from spaprov.profiles.builder import ProfileBuilder
from spaprov.profiles.templates import HostCredentials, Renderer, RenderKind

__all__ = ["HostCredentials", "ProfileBuilder", "RenderKind", "Renderer"]

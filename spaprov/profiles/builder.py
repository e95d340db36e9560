"""What a phone receives: the profile for a route kind, a device and an identity (pure, but for
one log line when a profile does not fit the phone it is rendered for)."""

from __future__ import annotations

import logging

from spaprov.config.models import PhoneModel
from spaprov.config.schema import Config, Device, ProfileContent, User
from spaprov.profiles.layout import layout
from spaprov.profiles.templates import HostCredentials, Renderer, RenderKind
from spaprov.push.accounts import push_possible

log = logging.getLogger("spaprov.profiles")


class ProfileBuilder:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def build(
        self,
        config: Config,
        kind: RenderKind,
        device: Device,
        *,
        user: User | None = None,
        secure: bool = False,
    ) -> bytes:
        site = config.site
        if kind == "mobile":
            if user is None:
                raise ValueError("a mobile profile needs a user")
            profile = config.em_profiles[user.default_profile]
            _warn_misfits(f"EM profile {profile.name!r} of {user.user_id!r}", device, profile.content)
            return self.renderer.render(
                "mobile",
                site,
                device.model,
                device=device,
                user=user,
                content=profile.content,
                resync_periodic=self.mobile_periodic(config, device, user),
            )
        if kind == "logout":
            return self.renderer.render("logout", site, device.model, device=device)
        if kind == "host":
            _warn_misfits("the host profile", device, device.content)
            return self.renderer.render("host", site, device.model, device=device, content=device.content)
        return self.renderer.render(
            "default",
            site,
            device.model,
            device=device,
            host_credentials=self.host_credentials(config, device, secure=secure),
            profile_key=self.profile_key(config, device, secure=secure),
        )

    @staticmethod
    def mobile_periodic(config: Config, device: Device, user: User) -> int | None:
        """A short Resync_Periodic for a logged-in phone that no SIP NOTIFY can reach, so a
        forced logout still arrives within `[push] fallback_periodic`; None: the site's own."""
        fallback, periodic = config.site.push.fallback_periodic, config.site.resync.periodic
        if not fallback or push_possible(config, device, user.user_id):
            return None
        return fallback if periodic == 0 else min(fallback, periodic)

    def bootstrap(self, config: Config, model: PhoneModel) -> bytes:
        """The profile a factory-reset phone fetches at `/spa$PSN.cfg` (TFTP): the site's rule and
        resync timers only, the same for every phone of a model."""
        return self.renderer.render("bootstrap", config.site, model)

    @staticmethod
    def misfits(
        config: Config, kind: RenderKind, device: Device, user: User | None = None
    ) -> tuple[str, ...]:
        """What of the profile `build` renders does not fit this phone as written (moved or left
        out; spaprov.profiles.layout), one line each."""
        content = _content(config, kind, device, user)
        return layout(device.model, content).misfits if content is not None else ()

    @staticmethod
    def profile_key(config: Config, device: Device, *, secure: bool) -> str:
        """The phone's key phrase (GPP_SA) travels in its default profile, so that it can read the
        profiles the rule fetches with `--key $SA`, under the same rule as its host credentials:
        only when the site allows it and over HTTPS (or plain HTTP forced); "" otherwise."""
        policy = config.site.host_credentials
        if not (policy.in_default_profile and device.profile_key):
            return ""
        if not (secure or policy.allow_plain_http):
            return ""
        return device.profile_key if any(route.encrypted for route in config.routes) else ""

    @staticmethod
    def host_credentials(config: Config, device: Device, *, secure: bool) -> HostCredentials | None:
        """The phone's own credentials travel in its default profile only when the site allows
        it, the device has a bootstrap password, and the request is over HTTPS (or forced).

        EM_Phone_User_ID is the bare host user (`conf-room-1`): it is $PUID, and the seed rule
        sends `--uid $PUID$PDOM`, so the phone authenticates as `conf-room-1@example.com`, the
        Digest user the host route expects.  With the domain here too it would send
        `conf-room-1@example.com@example.com` and never reach its host profile."""
        policy = config.site.host_credentials
        if not (policy.in_default_profile and device.host_password):
            return None
        if not (secure or policy.allow_plain_http):
            return None
        return HostCredentials(device.host_user, device.host_password)


def _content(config: Config, kind: RenderKind, device: Device, user: User | None) -> ProfileContent | None:
    if kind == "mobile" and user is not None:
        return config.em_profiles[user.default_profile].content
    return device.content if kind == "host" else None


def _warn_misfits(what: str, device: Device, content: ProfileContent) -> None:
    """Rendered profiles are cached, so this is said once per profile, phone and generation."""
    misfits = layout(device.model, content).misfits
    if misfits:
        log.warning(
            "%s does not fit %s %s as written: %s", what, device.model.name, device.mac, "; ".join(misfits)
        )

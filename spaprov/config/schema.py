"""The validated profile directory: immutable objects, built once per (re)load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from spaprov.config.models import PhoneModel

RouteKind = Literal["default", "host", "mobile"]
MultipleLogin = Literal["allowed", "not_allowed", "auto_logout"]


@dataclass(frozen=True)
class Line:
    """One SIP extension (`User_ID_n_`, `Password_n_`, …) shown on line key `number`."""

    number: int
    user_id: str
    display_name: str = ""
    password: str = ""  # the SIP registration secret: the phone needs it verbatim
    auth_id: str = ""
    proxy: str = ""
    short_name: str = ""


@dataclass(frozen=True)
class SpeedDial:
    slot: int  # Speed_Dial_2 .. Speed_Dial_9
    name: str
    number: str


@dataclass(frozen=True)
class LineKey:
    """A line key used as BLF (busy lamp + speed dial + call pickup) or an XML service."""

    key: int
    kind: Literal["blf", "service"]
    name: str
    target: str  # extension for BLF, URL for a service


@dataclass(frozen=True)
class ProfileContent:
    """What a host profile (a device's own) and an EM profile (a user's) both carry."""

    lines: tuple[Line, ...] = ()
    speed_dials: tuple[SpeedDial, ...] = ()
    line_keys: tuple[LineKey, ...] = ()


@dataclass(frozen=True)
class Device:
    mac: str  # 12 lower-case hex digits
    model: PhoneModel
    station_name: str
    host_user: str  # Digest user is host_user + em_user_domain
    em_enabled: bool = True
    host_password: str = ""  # only for pushing EM_Phone_Password in the default profile
    content: ProfileContent = ProfileContent()
    sip_port: int = 0  # where the phone takes SIP NOTIFY (0: the site's [push] sip_port)
    # The phone's own key phrase (GPP_SA on the phone): routes whose rule says `--key $SA` are
    # served encrypted with it. Stored recoverably, as the server must encrypt with it.
    profile_key: str = ""


@dataclass(frozen=True)
class EmProfile:
    name: str
    content: ProfileContent


@dataclass(frozen=True)
class User:
    user_id: str
    display_name: str
    em_profiles: tuple[str, ...]
    default_profile: str
    locked: bool = False  # an administrator locked the account: no phone login until unlocked


@dataclass(frozen=True)
class Resync:
    periodic: int = 3600
    error_retry_delay: int = 3600
    random_delay: int = 2
    on_reset: bool = True


@dataclass(frozen=True)
class AuthPolicy:
    nonce_secret: str = "random"  # "random" | "env:NAME" | "file:PATH"
    nonce_lifetime: int = 300
    allow_rfc2069: bool = False
    max_failures: int = 5
    failure_window: int = 300
    lockout: int = 300


@dataclass(frozen=True)
class HostCredentialPolicy:
    """The phone's own secrets (EM_Phone_User_ID/Password, its key GPP_SA) go into its default
    profile when `in_default_profile`, over HTTPS only unless `allow_plain_http` (an opt-in)."""

    in_default_profile: bool = True
    allow_plain_http: bool = False


@dataclass(frozen=True)
class PushPolicy:
    """[push]: a SIP NOTIFY `Event: resync` tells a phone at once that its session ended."""

    enabled: bool = True
    sip_port: int = 5060
    timeout: int = 4  # seconds one push may take, retransmissions and challenge included
    # Resync_Periodic in a mobile profile when no push can reach the phone (push disabled, or no
    # SIP account to answer the phone's challenge): how late a forced logout may arrive. 0: off.
    fallback_periodic: int = 300


@dataclass(frozen=True)
class MobilityPolicy:
    multiple_login: MultipleLogin = "not_allowed"
    max_login_minutes: int = 0  # 0: no limit
    max_concurrent_logins: int = 5


@dataclass(frozen=True)
class Site:
    name: str
    realm: str
    em_user_domain: str  # with its leading "@"
    profile_rule: str
    sip_proxy: str = ""
    text_logo: str = ""
    rule_lint_ignore: frozenset[str] = frozenset()
    trusted_origins: tuple[str, ...] = ()  # public origins behind a TLS proxy (CSRF checks)
    resync: Resync = Resync()
    auth: AuthPolicy = AuthPolicy()
    host_credentials: HostCredentialPolicy = HostCredentialPolicy()
    mobility: MobilityPolicy = MobilityPolicy()
    push: PushPolicy = PushPolicy()


@dataclass(frozen=True)
class Route:
    """One URL path the site's rule makes phones fetch."""

    alternative: int
    kind: RouteKind
    path: str  # as in the rule, macros included
    pattern: str  # the path with {mac} for $MA/$MAU and {mac:colons} for $MAC
    # The query with {mac}/{mac:colons} when the MAC travels there (`/x.cfg?mac=$MA`), else "".
    query_pattern: str = ""
    encrypted: bool = False  # `[--key $SA]`: served encrypted with the device's profile_key


@dataclass(frozen=True)
class Config:
    site: Site
    devices: MappingProxyType[str, Device]
    users: MappingProxyType[str, User]
    em_profiles: MappingProxyType[str, EmProfile]
    routes: tuple[Route, ...]
    fingerprint: str = field(default="", compare=False)  # of the files it was read from

    @cached_property
    def _host_devices(self) -> Mapping[str, Device]:
        domain = self.site.em_user_domain
        return MappingProxyType({device.host_user + domain: device for device in self.devices.values()})

    def device_for_host_identity(self, identity: str) -> Device | None:
        """The device whose host user a Digest identity `<host_user><EM_User_Domain>` is (host
        users are unique per device, as the loader checks): how a host fetch from a phone that
        states no MAC (the SPA525G's User-Agent) is identified."""
        return self._host_devices.get(identity)

    def user_for_identity(self, identity: str) -> User | None:
        """The mobility user a Digest identity `<id><EM_User_Domain>` names, if any."""
        domain = self.site.em_user_domain
        return self.users.get(identity[: -len(domain)]) if identity.endswith(domain) else None

    def audit_name(self, identity: str) -> str:
        """The one form the audit log records a Digest identity in: the user id (no domain) for a
        user of this site, so `audit --user carol` finds carol's logins and failures alike; any
        other name (a host, an unknown or mistyped user) exactly as sent."""
        user = self.user_for_identity(identity)
        return user.user_id if user is not None else identity

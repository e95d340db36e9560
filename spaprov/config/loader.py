"""Read and validate a whole profile directory into an immutable Config.

Every file and every cross-reference is checked and all problems are reported together, each
naming its file, field and reason: an administrator fixes a bad edit in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomli  # tomllib's own source, compiled (mypyc): 3x faster on the thousands of files of a site

from spaprov.config.errors import ConfigError, Problem
from spaprov.config.file_modes import warn_readable_secrets
from spaprov.config.fingerprint import fingerprint
from spaprov.config.line_keys import EXTENSION, LABEL_FORBIDDEN, checked_line_key
from spaprov.config.models import MAX_KEY, MAX_LINE_KEYS, MODELS
from spaprov.config.reader import TableReader
from spaprov.config.routes import RouteError, routes_from_rule
from spaprov.config.schema import (
    AuthPolicy,
    Config,
    Device,
    EmProfile,
    HostCredentialPolicy,
    Line,
    LineKey,
    MobilityPolicy,
    ProfileContent,
    PushPolicy,
    Resync,
    Route,
    Site,
    SpeedDial,
    User,
)
from spaprov.mac import MAC_DIGITS, normalize_mac
from spaprov.rules import RuleSyntaxError, lint
from spaprov.rules.lint import ADVISORY
from spaprov.transaction import JOURNAL, interrupted_message, pending_journal

_ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
MAC_NAME = re.compile(MAC_DIGITS)
ID_NAME = re.compile(r"[a-z0-9][a-z0-9._\-]{0,63}")
_DOMAIN = re.compile(r"@[A-Za-z0-9.\-]+")
_HOURS_MINUTES = re.compile(r"([0-9]{1,3}):([0-5][0-9])")
_SECRET_SOURCE = re.compile(r"random|env:[A-Za-z_][A-Za-z0-9_]*|file:.+")


def load_profile_directory(root: Path, overrides: Mapping[str, bytes | None] | None = None) -> Config:
    """The validated configuration; raises ConfigError listing every problem.  `overrides`:
    proposed file contents (None: deleted) to validate as if they were on disk."""
    problems: list[Problem] = []
    source = SourceDirectory(root, overrides or {})
    if not root.is_dir():
        raise ConfigError([Problem(str(root), "", "is not a directory")])
    # Taken before reading: a file written while we read makes the watcher load again.
    seen = fingerprint(root)
    if pending_journal(root):  # half installed: a mix of old and new files, never served
        raise ConfigError([Problem(JOURNAL, "", interrupted_message(root))])
    site = load_site(source, problems)
    devices = {device.mac: device for device in _load_all(source, "devices", problems)}
    profiles = {p.name: p for p in _load_all(source, "em_profiles", problems)}
    users = {user.user_id: user for user in _load_all(source, "users", problems)}
    routes = site_routes(site, problems) if site else ()
    cross_check(devices, profiles, users, problems)
    problems += missing_profile_keys(routes, devices.values())
    if problems or site is None:
        raise ConfigError(problems or [Problem("site.toml", "", "could not be read")])
    config = Config(
        site,
        MappingProxyType(devices),
        MappingProxyType(users),
        MappingProxyType(profiles),
        routes,
        seen,
    )
    if not overrides:  # what is on disk now, not a proposed edit
        warn_readable_secrets(root, config)
    return config


class SourceDirectory:
    """The files of a profile directory, with proposed edits laid over them (`overrides` maps a
    relative path such as "devices/001122334455.toml" to new bytes, or None for a deletion), so
    that an edit is validated together with everything else before anything is written."""

    def __init__(self, root: Path, overrides: Mapping[str, bytes | None]) -> None:
        self.root = root
        self.overrides = overrides

    def names(self, folder: str) -> list[str]:
        directory = self.root / folder
        on_disk = {p.name for p in directory.iterdir() if not p.is_dir()} if directory.is_dir() else set()
        prefix = f"{folder}/"
        for label, content in self.overrides.items():
            if label.startswith(prefix):
                name = label[len(prefix) :]
                if content is None:
                    on_disk.discard(name)
                else:
                    on_disk.add(name)
        return sorted(on_disk)

    def read_toml(self, label: str, problems: list[Problem]) -> dict[str, Any] | None:
        try:
            if label in self.overrides:
                content = self.overrides[label]
                if content is None:
                    raise FileNotFoundError(label)
                return tomli.loads(content.decode("utf-8"))
            with (self.root / label).open("rb") as stream:
                return tomli.load(stream)
        except FileNotFoundError:
            problems.append(Problem(label, "", "is missing"))
        except tomli.TOMLDecodeError as error:
            problems.append(Problem(label, "", f"is not valid TOML: {error}"))
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(label, "", f"cannot be read: {error}"))
        except ValueError as error:  # tomllib: an integer past int()'s 4,300-digit limit
            problems.append(Problem(label, "", f"is not valid TOML: {str(error)[:200]}"))
        except RecursionError:  # tomllib recurses once per nested array or inline table
            problems.append(Problem(label, "", "is not valid TOML: arrays or tables nested too deeply"))
        return None


def _load_all(source: SourceDirectory, folder: str, problems: list[Problem]) -> list[Any]:
    loaded = []
    for name in source.names(folder):
        if name.startswith("."):
            continue
        item = read_document(source, folder, name, problems)
        if item is not None:
            loaded.append(item)
    return loaded


def document_stem(folder: str, name: str, problems: list[Problem]) -> str | None:
    """The id a document file's name gives it (a device's MAC as written), or None (a problem)."""
    label = f"{folder}/{name}"
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix != "toml":
        problems.append(Problem(label, "", "is not a .toml file"))
        return None
    if not _NAME_PATTERNS[folder].fullmatch(stem):
        hint = (
            "12 hexadecimal digits (the MAC)" if folder == "devices" else "lower-case letters, digits, . _ -"
        )
        problems.append(Problem(label, "", f"the file name must be {hint}.toml"))
        return None
    return stem


def read_document(source: SourceDirectory, folder: str, name: str, problems: list[Problem]) -> Any:
    """One device, user or EM profile file (`name` in `folder`), validated on its own; None when
    its name or its TOML is unusable.  Its problems are appended to `problems`."""
    stem = document_stem(folder, name, problems)
    if stem is None:
        return None
    label = f"{folder}/{name}"
    data = source.read_toml(label, problems)
    if data is None:
        return None
    reader = TableReader(label, data, problems)
    item = _BUILDERS[folder](stem, reader)
    reader.finish()
    return item


# -- site.toml --------------------------------------------------------------------------------------
def _origins(section: TableReader) -> tuple[str, ...]:
    """[site] trusted_origins: the public origins of a server behind a TLS-terminating proxy."""
    origins = section.strings("trusted_origins")
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            section.problem("trusted_origins", f"{origin[:100]!r} is not an origin (https://host[:port])")
    return tuple(o for o in origins if _ORIGIN.fullmatch(o))


def load_site(source: SourceDirectory, problems: list[Problem]) -> Site | None:
    data = source.read_toml("site.toml", problems)
    if data is None:
        return None
    top = TableReader("site.toml", data, problems)
    section = top.table("site")
    site_fields = dict(
        name=section.text("name", "spaprov site"),
        realm=section.text("realm", required=True, max_length=128),
        em_user_domain=section.text(
            "em_user_domain",
            required=True,
            pattern=_DOMAIN,
            pattern_hint="a domain with its leading @ (@example.com)",
        ),
        profile_rule=section.text("profile_rule", required=True, max_length=4096),
        sip_proxy=section.text("sip_proxy", ""),
        text_logo=section.text("text_logo", "", max_length=64),
        rule_lint_ignore=frozenset(section.strings("rule_lint_ignore")),
        trusted_origins=_origins(section),
    )
    section.finish()
    resync_table = top.table("resync")
    resync = Resync(
        periodic=resync_table.integer("periodic", 3600, minimum=0, maximum=7 * 86400),
        error_retry_delay=resync_table.integer("error_retry_delay", 3600, minimum=0, maximum=7 * 86400),
        random_delay=resync_table.integer("random_delay", 2, minimum=0, maximum=65535),
        on_reset=resync_table.boolean("on_reset", True),
    )
    resync_table.finish()
    auth_table = top.table("auth")
    auth = AuthPolicy(
        nonce_secret=_secret_source(auth_table),
        nonce_lifetime=auth_table.integer("nonce_lifetime", 300, minimum=10, maximum=86400),
        allow_rfc2069=auth_table.boolean("allow_rfc2069", False),
        max_failures=auth_table.integer("max_failures", 5, minimum=1, maximum=1000),
        failure_window=auth_table.integer("failure_window", 300, minimum=1, maximum=86400),
        lockout=auth_table.integer("lockout", 300, minimum=1, maximum=86400),
    )
    auth_table.finish()
    host_table = top.table("host_credentials")
    host = HostCredentialPolicy(
        in_default_profile=host_table.boolean("in_default_profile", True),
        allow_plain_http=host_table.boolean("allow_plain_http", False),
    )
    host_table.finish()
    mobility_table = top.table("mobility")
    mobility = MobilityPolicy(
        multiple_login=mobility_table.choice(  # type: ignore[arg-type]
            "multiple_login", ("allowed", "not_allowed", "auto_logout"), "not_allowed"
        ),
        max_login_minutes=_hours_minutes(mobility_table, "max_login_time", "0:00"),
        max_concurrent_logins=mobility_table.integer("max_concurrent_logins", 5, minimum=1, maximum=100000),
    )
    mobility_table.finish()
    push_table = top.table("push")
    push = PushPolicy(
        enabled=push_table.boolean("enabled", True),
        sip_port=push_table.integer("sip_port", 5060, minimum=1, maximum=65535),
        timeout=push_table.integer("timeout", 4, minimum=1, maximum=60),
        fallback_periodic=push_table.integer("fallback_periodic", 300, minimum=0, maximum=7 * 86400),
    )
    push_table.finish()
    top.finish()
    if not all(site_fields[key] for key in ("realm", "em_user_domain", "profile_rule")):
        return None
    return Site(**site_fields, resync=resync, auth=auth, host_credentials=host, mobility=mobility, push=push)  # type: ignore[arg-type]


def _secret_source(table: TableReader) -> str:
    """Never quote the value in a problem: a mistaken literal secret would reach logs and /healthz."""
    source = table.text("nonce_secret", "random")
    if _SECRET_SOURCE.fullmatch(source):
        return source
    table.problem("nonce_secret", 'is not "random", "env:NAME" or "file:PATH" (value not shown)')
    return "random"


def _hours_minutes(reader: TableReader, key: str, default: str) -> int:
    """CUCM's "H:MM" (0:00-168:00) as minutes."""
    text = reader.text(key, default)
    match = _HOURS_MINUTES.fullmatch(text)
    minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not 0 <= minutes <= 168 * 60:
        reader.problem(key, f"{text!r} is not a duration from 0:00 to 168:00 (H:MM)")
        return 0
    return minutes


def site_routes(site: Site, problems: list[Problem]) -> tuple[Route, ...]:
    try:
        routes = routes_from_rule(site.profile_rule)
    except RuleSyntaxError as error:
        problems.append(
            Problem("site.toml", "site.profile_rule", f"{error.line}:{error.column}: {error.message}")
        )
        return ()
    except RouteError as error:
        problems.append(Problem("site.toml", "site.profile_rule", str(error)))
        return ()
    served = {route.path: route.kind != "default" for route in routes}
    for warning in lint(site.profile_rule, served_paths=served):
        # Advisory warnings never refuse a site (`serve` logs them at start-up): a site whose
        # phones all state their MAC in the User-Agent is served well without $MA.
        if warning.code not in site.rule_lint_ignore and warning.code not in ADVISORY:
            problems.append(
                Problem(
                    "site.toml",
                    "site.profile_rule",
                    f"lint: {warning} (list the code in rule_lint_ignore to accept it)",
                )
            )
    return routes


# -- devices, users, EM profiles -----------------------------------------------------------------------
def _content(reader: TableReader, max_lines: int, max_keys: int) -> ProfileContent:
    """Lines sit on line keys 1..max_lines; BLF/service keys may go on past them, onto the
    attendant consoles' keys (max_keys: spaprov.config.models.PhoneModel.max_key)."""

    def line(r: TableReader) -> Line | None:
        number = r.integer("number", 0, minimum=1, maximum=max_lines, required=True)
        user_id = r.text("user_id", required=True, pattern=EXTENSION, pattern_hint="a SIP user id")
        item = Line(
            number,
            user_id,
            r.text("display_name"),
            r.text("password", max_length=128),
            r.text("auth_id"),
            r.text("proxy"),
            r.text("short_name", max_length=32),
        )
        return item if number and user_id else None

    def speed_dial(r: TableReader) -> SpeedDial | None:
        slot = r.integer("slot", 0, minimum=2, maximum=9, required=True)
        item = SpeedDial(
            slot,
            r.text("name", required=True, max_length=64),
            r.text("number", required=True, pattern=EXTENSION, pattern_hint="a number to dial"),
        )
        # On a model without Speed_Dial_n the dial becomes a key's Extended_Function (nme=name).
        if (found := LABEL_FORBIDDEN.search(item.name)) is not None:
            r.problem(
                "name",
                f"{item.name!r} contains {found.group()!r}, which would change a key's Extended_Function",
            )
            return None
        return item if slot else None

    def key(r: TableReader) -> LineKey | None:
        number = r.integer("key", 0, minimum=1, maximum=max_keys, required=True)
        kind = r.choice("kind", ("blf", "service"), "blf", required=True)
        target = r.text("target", required=True)
        item = LineKey(number, kind, r.text("name", required=True, max_length=32), target)  # type: ignore[arg-type]
        return checked_line_key(r, item) if number and target else None

    content = ProfileContent(
        reader.tables("lines", line),
        reader.tables("speed_dials", speed_dial),
        reader.tables("line_keys", key),
    )
    _unique(reader, "lines", [line.number for line in content.lines], "line number")
    _unique(reader, "speed_dials", [dial.slot for dial in content.speed_dials], "slot")
    _unique(
        reader,
        "line_keys",
        [k.key for k in content.line_keys] + [line.number for line in content.lines],
        "key (a key is either a line or a BLF/service key)",
    )
    return content


def _unique(reader: TableReader, key: str, values: list[int], what: str) -> None:
    seen: set[int] = set()
    for value in values:
        if value in seen:
            reader.problem(key, f"{what} {value} is used twice")
        seen.add(value)


def _canonical(stem: str) -> str:
    mac = normalize_mac(stem)
    assert mac is not None, "device file names are matched against MAC_NAME before this"
    return mac


def _device(stem: str, reader: TableReader) -> Device:
    model_name = reader.choice("model", MODELS, "SPA525G2", required=True)
    model = MODELS[model_name]
    return Device(
        mac=_canonical(stem),
        model=model,
        station_name=reader.text("station_name", "", max_length=64),
        host_user=reader.text("host_user", required=True, pattern=ID_NAME, pattern_hint="a user id"),
        em_enabled=reader.boolean("em_enabled", True),
        host_password=reader.text("host_password", "", max_length=128),
        content=_content(reader, model.line_keys, model.max_key),
        sip_port=reader.integer("sip_port", 0, minimum=1, maximum=65535),
        profile_key=_profile_key(reader),
    )


def _profile_key(reader: TableReader) -> str:
    """Never quoted in a problem: it is a secret."""
    key = reader.text("profile_key", "", max_length=256)
    if key and (len(key) < 16 or not key.isascii() or not key.isprintable() or '"' in key or " " in key):
        reader.problem(
            "profile_key",
            "must be 16 to 256 printable ASCII characters, no spaces or quotes (value not shown)",
        )
        return ""
    return key


def _em_profile(stem: str, reader: TableReader) -> EmProfile:
    return EmProfile(stem, _content(reader, MAX_LINE_KEYS, MAX_KEY))


def _user(stem: str, reader: TableReader) -> User:
    profiles = reader.strings("em_profiles", required=True)
    default = reader.text("default_profile", profiles[0] if profiles else "")
    display_name = reader.text("display_name", stem, max_length=64)
    return User(stem, display_name, profiles, default, reader.boolean("locked", False))


def missing_profile_keys(routes: tuple[Route, ...], devices: Iterable[Device]) -> list[Problem]:
    """A site whose rule fetches profiles encrypted (--key $SA) needs every device's key."""
    if not any(route.encrypted for route in routes):
        return []
    return [
        Problem(
            f"devices/{device.mac}.toml",
            "profile_key",
            "is needed: the site's rule fetches profiles with --key $SA",
        )
        for device in devices
        if not device.profile_key
    ]


_ID_HINT = "lower-case letters, digits, . _ -"
_NAME_PATTERNS = {"devices": MAC_NAME, "users": ID_NAME, "em_profiles": ID_NAME}
_BUILDERS: dict[str, Any] = {"devices": _device, "users": _user, "em_profiles": _em_profile}


def profile_name_problems(
    name: str, profiles: Mapping[str, EmProfile], devices: Mapping[str, Device]
) -> tuple[Problem, ...]:
    """An EM profile named like a device (checked by the full load and by an edit alike)."""
    if name in profiles and name in devices:
        return (Problem(f"em_profiles/{name}.toml", "", "an EM profile may not have a device's name"),)
    return ()


def user_reference_problems(user: User | None, profiles: Mapping[str, EmProfile]) -> tuple[Problem, ...]:
    """A user's EM profiles that do not exist, and a default profile not among them."""
    if user is None:
        return ()
    label = f"users/{user.user_id}.toml"
    problems = []
    if not user.em_profiles:
        problems.append(Problem(label, "em_profiles", "lists no profile"))
    for name in user.em_profiles:
        if name not in profiles:
            problems.append(
                Problem(label, "em_profiles", f"no EM profile {name!r} (em_profiles/{name}.toml)")
            )
    if user.em_profiles and user.default_profile not in user.em_profiles:
        problems.append(Problem(label, "default_profile", f"{user.default_profile!r} is not in em_profiles"))
    return tuple(problems)


def cross_check(
    devices: dict[str, Device],
    profiles: dict[str, EmProfile],
    users: dict[str, User],
    problems: list[Problem],
) -> None:
    for name in profiles:
        problems.extend(profile_name_problems(name, profiles, devices))
    for user in users.values():
        problems.extend(user_reference_problems(user, profiles))
    owners: dict[str, str] = {}
    for device in devices.values():
        other = owners.setdefault(device.host_user, device.mac)
        if other != device.mac:
            problems.append(
                Problem(
                    f"devices/{device.mac}.toml",
                    "host_user",
                    f"{device.host_user!r} is already the host user of {other}",
                )
            )
        if device.host_user in users:
            problems.append(
                Problem(
                    f"devices/{device.mac}.toml",
                    "host_user",
                    f"{device.host_user!r} is also a mobility user; host users are the phone's own",
                )
            )


__all__ = ["ConfigError", "Problem", "fingerprint", "load_profile_directory"]

"""What `serve` says at start-up about a site it will serve anyway: advisory lint warnings on
the site's rule (a URL that names no phone) and EM profiles that do not fit a model they may be
served to.  Pure: a list of one-line messages, logged by the caller."""

from __future__ import annotations

from spaprov.config.schema import Config
from spaprov.profiles.layout import layout  # the same fitting the templates render
from spaprov.rules import lint
from spaprov.rules.lint import ADVISORY


def rule_advice(config: Config) -> list[str]:
    """The site rule's advisory warnings, `site.toml: profile_rule: line:col: warning: … [code]`."""
    served = {route.path: route.kind != "default" for route in config.routes}
    return [
        f"site.toml: profile_rule: {warning}"
        for warning in lint(config.site.profile_rule, served_paths=served)
        if warning.code in ADVISORY and warning.code not in config.site.rule_lint_ignore
    ]


def fit_advice(config: Config, limit: int = 20) -> list[str]:
    """One line per EM profile that does not fit a model of the EM-enabled phones it may be
    served to, and per device whose own profile does not fit it (at most `limit` lines)."""
    lines: list[str] = []
    models = {device.model.name: device.model for device in config.devices.values() if device.em_enabled}
    for profile in config.em_profiles.values():
        for model in sorted(models.values(), key=lambda m: m.name):
            misfits = layout(model, profile.content).misfits
            if misfits:
                lines.append(f"em_profiles/{profile.name}.toml on a {model.name}: {'; '.join(misfits)}")
    for device in config.devices.values():
        misfits = layout(device.model, device.content).misfits
        if misfits:
            lines.append(f"devices/{device.mac}.toml ({device.model.name}): {'; '.join(misfits)}")
    if len(lines) > limit:
        lines[limit:] = [f"… and {len(lines) - limit} more profiles that do not fit as written"]
    return lines


def startup_advice(config: Config) -> list[str]:
    return rule_advice(config) + fit_advice(config)


__all__ = ["fit_advice", "rule_advice", "startup_advice"]

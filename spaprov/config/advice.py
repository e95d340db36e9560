"""What `serve` says at start-up about a site it will serve anyway: advisory lint warnings on
the site's rule (a URL that names no phone) and EM profiles that do not fit a model they may be
served to.  Pure: a list of one-line messages, logged by the caller."""

from __future__ import annotations

from spaprov.config.schema import Config
from spaprov.rules import lint
from spaprov.rules.lint import ADVISORY


def rule_advice(config: Config) -> list[str]:
    """The site rule's advisory warnings, `site.toml: profile_rule: line:col: warning: … [code]`."""
    return [
        f"site.toml: profile_rule: {warning}"
        for warning in lint(config.site.profile_rule)
        if warning.code in ADVISORY and warning.code not in config.site.rule_lint_ignore
    ]


def startup_advice(config: Config) -> list[str]:
    return rule_advice(config)


__all__ = ["rule_advice", "startup_advice"]

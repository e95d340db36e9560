"""`spaprov rule check|eval|lint|fmt`: the rule language from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from spaprov.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from spaprov.config import ConfigError, load_profile_directory
from spaprov.rules import (
    Evaluation,
    ExpansionTooLarge,
    RuleKind,
    RuleSyntaxError,
    StateError,
    evaluate,
    format_rule,
    lint,
    parse,
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rule = subparsers.add_parser("rule", help="check, evaluate, lint or format a profile rule")
    actions = rule.add_subparsers(dest="rule_action", required=True, metavar="ACTION")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        action: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        action.add_argument(
            "rule", metavar="RULE|@FILE", help="the rule text, or @FILE to read it from a file (@- for stdin)"
        )
        action.add_argument(
            "--kind",
            choices=[k.value for k in RuleKind],
            default="profile",
            help="which parameter the rule is for (default: profile)",
        )
        return action

    add("check", "parse a rule; exit 1 with line:col and a caret on error").set_defaults(run=run_check)
    evaluate_parser = add("eval", "show what a phone in a given state would fetch")
    evaluate_parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="phone state: a macro (EMS=mobile) or flat-profile name (EM_Login_State=mobile); repeatable",
    )
    evaluate_parser.add_argument("--trace", action="store_true", help="show every comparison")
    evaluate_parser.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_parser.add_argument(
        "--show-secrets", action="store_true", help="print --pwd and --key values instead of masking them"
    )
    evaluate_parser.set_defaults(run=run_eval)
    lint_parser = add("lint", "warn about rules that parse but probably misbehave (exit 1 on any warning)")
    lint_parser.add_argument(
        "--profiles",
        type=Path,
        metavar="DIR",
        help="also check the URLs against the routes this profile directory serves: unserved "
        "paths, missing credentials, routes that cannot identify a phone with no MAC in its User-Agent",
    )
    lint_parser.set_defaults(run=run_lint, profiles_optional=lambda _args: True)  # only when named
    add("fmt", "print the rule in canonical form").set_defaults(run=run_fmt)


def read_rule(argument: str) -> str:
    if argument == "@-":
        return sys.stdin.read()
    if argument.startswith("@"):
        return Path(argument[1:]).read_text(encoding="utf-8")
    return argument


def _report(error: RuleSyntaxError, out: TextIO) -> int:
    print(error.render(), file=out)
    return EXIT_FAILED


def run_check(args: argparse.Namespace) -> int:
    try:
        rule = parse(read_rule(args.rule), args.kind)
    except RuleSyntaxError as error:
        return _report(error, sys.stderr)
    count = len(rule.alternatives)
    print(f"ok: {count} alternative{'s' if count != 1 else ''}")
    return EXIT_OK


def run_lint(args: argparse.Namespace) -> int:
    served = None
    if args.profiles is not None:
        try:
            routes = load_profile_directory(args.profiles).routes
        except ConfigError as error:
            print(f"spaprov rule lint: {error}", file=sys.stderr)
            return EXIT_USAGE
        served = {route.path: route.kind != "default" for route in routes}
    try:
        warnings = lint(read_rule(args.rule), kind=args.kind, served_paths=served)
    except RuleSyntaxError as error:
        return _report(error, sys.stderr)
    for warning in warnings:
        print(warning)
    return EXIT_FAILED if warnings else EXIT_OK


def run_fmt(args: argparse.Namespace) -> int:
    try:
        print(format_rule(parse(read_rule(args.rule), args.kind)))
    except RuleSyntaxError as error:
        return _report(error, sys.stderr)
    return EXIT_OK


def parse_state(assignments: list[str]) -> dict[str, str]:
    state: dict[str, str] = {}
    for item in assignments:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise StateError(f"--set takes NAME=VALUE, not {item!r}")
        state[name] = value
    return state


def run_eval(args: argparse.Namespace) -> int:
    try:
        state = parse_state(args.assignments)
        rule = parse(read_rule(args.rule), args.kind)
        result = evaluate(rule, state, trace=args.trace)
    except RuleSyntaxError as error:
        return _report(error, sys.stderr)
    except ExpansionTooLarge as error:  # the rule and the state together, not a usage mistake
        print(f"spaprov rule eval: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except StateError as error:
        print(f"spaprov rule eval: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(describe(result, len(rule.alternatives), show_secrets=args.show_secrets))
    return EXIT_OK


def _mask(value: str | None, show: bool) -> str | None:
    if value is None or show:
        return value
    count = len(value)
    plural = "" if count == 1 else "s"
    return f"({count} character{plural}, hidden; --show-secrets to print)"


def describe(result: Evaluation, count: int, *, show_secrets: bool = False) -> str:
    """A person-readable account of an evaluation."""
    lines: list[str] = []
    if result.trace is not None:
        for step in result.trace:
            lines.append(
                f"alternative {step.alternative + 1}: "
                f"{'condition holds' if step.matched else 'condition fails'}"
            )
            for c in step.comparisons:
                verdict = "error: " + c.error if c.error else str(c.result).lower()
                lines.append(f"    {c.left!r} {c.op} {c.right!r} -> {verdict}")
    if result.alternative is None:
        lines.append(f"no alternative applies (of {count}): the rule is skipped")
    else:
        lines.append(f"alternative {result.alternative + 1} of {count} applies")
    for name, value in result.assignments:
        lines.append(f"  set {name} = {value!r}")
    if result.url is not None:
        lines.append(f"  fetch {result.url}")
        if result.scheme is not None:
            lines.append(
                f"    scheme {result.scheme}, server {result.server or '(DHCP option 66)'}, "
                f"port {result.port}, path {result.path}"
                + (f", query {result.query!r}" if result.query is not None else "")
            )
        options = result.options
        shown: dict[str, str | None] = {
            "uid": options.uid,
            "pwd": _mask(options.pwd, show_secrets),
            "key": _mask(options.key, show_secrets),
            "post": options.post,
            "alias": options.alias,
        }
        for option, shown_value in shown.items():
            if shown_value is not None:
                lines.append(f"    --{option} {shown_value}")
        if options.delta:
            lines.append("    --delta")
    for error in result.errors:
        lines.append(f"  error: {error}")
    return "\n".join(lines)

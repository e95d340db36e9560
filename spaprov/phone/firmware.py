"""The simulated SPA5x5 firmware's provisioning state machine, without I/O: which URL to fetch
next, what a fetched profile changes, and when the rules must be evaluated again.

One resync round evaluates Profile_Rule, Profile_Rule_B, _C and _D in order with spaprov.rules
(the same evaluation the server's routes come from) and runs the chosen alternative's
assignments; an alternative with a URL asks the caller to fetch it (`Round.next_fetch`), and the
caller hands back the body (`Round.receive`) or why there is none (`Round.fail`).  A received
profile updates the parameters the phone knows (unknown ones are ignored, absent ones stay).
When it changes what the rules depend on (a rule itself, the EM state or credentials), the real
phone reboots: the round ends and another one is due.  spaprov.phone.simulator drives it over
HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from spaprov.config.models import PhoneModel
from spaprov.phone.flat_profile import ProfileFormatError, parse_flat_profile
from spaprov.rules import RuleSyntaxError, StateError, evaluate
from spaprov.rules.macros import FLAT_PROFILE_NAMES

RULE_PARAMETERS = ("Profile_Rule", "Profile_Rule_B", "Profile_Rule_C", "Profile_Rule_D")
# A change to any of these makes the phone reboot and evaluate its rules again.
REEVALUATE_ON = frozenset(RULE_PARAMETERS) | {
    "EM_Login_State",
    "EM_User_Domain",
    "EM_Phone_User_ID",
    "EM_Phone_Password",
    "EM_Mobile_User_ID",
    "EM_Mobile_Password",
}
MAX_ROUNDS = 4


def identity_macros(
    mac: str, model: PhoneModel, serial: str, version: str, provisioning_state: str
) -> dict[str, str]:
    """The macros that describe the phone itself rather than its parameters."""
    return {
        "MA": mac,
        "PN": model.name,
        "PSN": model.name.removeprefix("SPA"),
        "SN": serial,
        "SWVER": version,
        "PRVST": provisioning_state,
    }


def rule_state(parameters: Mapping[str, str], identity: Mapping[str, str]) -> dict[str, str]:
    """The phone's state as the rule language sees it."""
    state = {name: parameters[name] for name in FLAT_PROFILE_NAMES if name in parameters}
    state.update(identity)
    return state


def apply_profile(parameters: dict[str, str], received: Mapping[str, str]) -> bool:
    """Update the parameters from a received profile; True when the rules must be evaluated
    again (the phone reboots)."""
    changed = False
    for name, value in received.items():
        if name not in parameters:
            continue  # not a parameter of this phone: ignored, as the firmware does
        if parameters[name] != value and name in REEVALUATE_ON:
            changed = True
        parameters[name] = value
    return changed


@dataclass(frozen=True)
class FetchRequest:
    rule_name: str
    url: str
    uid: str | None
    pwd: str | None


class Round:
    """One pass over the four rules, updating `parameters` in place.  Call `next_fetch` until it
    returns None, answering each request with `receive` or `fail`; then `failure` (a message, or
    None) and `reevaluate` (another round is due) say how it went."""

    def __init__(self, parameters: dict[str, str], identity: Mapping[str, str]) -> None:
        self.parameters = parameters
        self._identity = identity
        self._rules: Iterator[str] = iter(RULE_PARAMETERS)
        self._waiting: FetchRequest | None = None
        self.failure: str | None = None
        self.reevaluate = False

    @property
    def done(self) -> bool:
        return self.failure is not None or self.reevaluate

    def next_fetch(self) -> FetchRequest | None:
        """The next URL to fetch, or None when the round is over."""
        if self._waiting is not None:
            raise RuntimeError("answer the previous fetch first")
        if self.done:
            return None
        for rule_name in self._rules:
            rule = self.parameters.get(rule_name, "")
            if not rule.strip():
                continue
            try:
                result = evaluate(rule, rule_state(self.parameters, self._identity))
            except RuleSyntaxError as error:
                self.failure = f"{rule_name} does not parse: {error}"
                return None
            except StateError as error:  # e.g. an expansion past the bound: the phone cannot fetch
                self.failure = f"{rule_name} cannot be evaluated: {error}"
                return None
            if result.alternative is None:
                continue
            for name, value in result.assignments:
                self.parameters[name] = value
            if result.url is None:
                continue
            self._waiting = FetchRequest(rule_name, result.url, result.options.uid, result.options.pwd)
            return self._waiting
        return None

    def receive(self, body: bytes) -> None:
        """The body fetched for the last request."""
        request = self._answered()
        try:
            received = parse_flat_profile(body)
        except ProfileFormatError as error:
            self.failure = f"{request.rule_name}: corrupt profile: {error}"
            return
        self.reevaluate = apply_profile(self.parameters, received)

    def fail(self, message: str) -> None:
        """The last request brought no profile."""
        self._answered()
        self.failure = message

    def _answered(self) -> FetchRequest:
        if self._waiting is None:
            raise RuntimeError("no fetch is waiting for an answer")
        request, self._waiting = self._waiting, None
        return request

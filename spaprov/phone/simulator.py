"""An SPA5x5 phone, simulated: boot, resync, Login and Logout against a real server.

The HTTP client around spaprov.phone.firmware: the firmware's state machine decides which URL
each resync fetches and what the fetched profile changes; this module fetches them with aiohttp
and a real SPA User-Agent, answering Digest challenges with the rule's --uid/--pwd, and reports
each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from spaprov.config.models import MODELS, PhoneModel
from spaprov.mac import normalize_mac
from spaprov.phone.firmware import MAX_ROUNDS, Round, identity_macros, rule_state
from spaprov.phone.parameters import factory_defaults


@dataclass(frozen=True)
class Fetch:
    url: str
    status: int | None  # None: no HTTP answer (connection error, unsupported scheme)
    note: str = ""
    uid: str | None = None  # the Digest user the rule named for this fetch (not printed)

    def __str__(self) -> str:
        status = self.status if self.status is not None else "no answer"
        return f"GET {self.url} -> {status}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class StepReport:
    action: str
    ok: bool
    fetches: tuple[Fetch, ...]
    login_state: str
    line_1: str
    line_1_name: str
    station_name: str
    message: str = ""

    def __str__(self) -> str:
        fetched = "; ".join(str(f) for f in self.fetches) or "nothing fetched"
        line = f'{self.line_1} "{self.line_1_name}"' if self.line_1 else "(none)"
        verdict = "ok" if self.ok else f"FAILED: {self.message}"
        return (
            f"{self.action}: {verdict}\n  {fetched}\n  state {self.login_state or '(empty)'}, "
            f'line 1 {line}, station "{self.station_name}"'
        )


@dataclass
class SpaPhone:
    mac: str
    model: PhoneModel
    profile_rule: str
    serial: str = "CBT1234567"
    firmware: str = "7.5.5"
    parameters: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        mac = normalize_mac(self.mac)
        if mac is None:
            raise ValueError(f"{self.mac!r} is not a MAC address")
        self.mac = mac
        if not self.parameters:
            self.parameters = factory_defaults(self.model, self.profile_rule)

    @classmethod
    def of_model(cls, mac: str, model: str, profile_rule: str, **kwargs: object) -> SpaPhone:
        return cls(mac, MODELS[model], profile_rule, **kwargs)  # type: ignore[arg-type]

    @property
    def user_agent(self) -> str:
        return f"Cisco/{self.model.name}-{self.firmware} ({self.mac.upper()})({self.serial})"

    def set_host_credentials(self, user_id: str, password: str) -> None:
        """What an administrator types into the phone's web page (EM_Phone_User_ID/Password)."""
        self.parameters["EM_Phone_User_ID"] = user_id
        self.parameters["EM_Phone_Password"] = password

    # -- the actions a person takes ---------------------------------------------------------------
    async def boot(self) -> StepReport:
        return await self._resync("boot", provisioning_state="0")

    async def resync(self) -> StepReport:
        return await self._resync("resync", provisioning_state="1")

    async def login(self, user_id: str, password: str) -> StepReport:
        """The Login softkey: user id and password typed in; the phone resyncs as mobile.
        If the mobile profile is refused, the phone stays as it was (the screen says so)."""
        saved = {
            name: self.parameters[name]
            for name in ("EM_Login_State", "EM_Mobile_User_ID", "EM_Mobile_Password")
        }
        self.parameters.update(
            EM_Login_State="mobile", EM_Mobile_User_ID=user_id, EM_Mobile_Password=password
        )
        report = await self._resync(f"login {user_id}", provisioning_state="-1")
        fetched_as_user = any(
            fetch.status == 200 and fetch.uid is not None and fetch.uid.partition("@")[0] == user_id
            for fetch in report.fetches
        )
        if report.ok and self.parameters["EM_Login_State"] == "mobile" and fetched_as_user:
            return report
        if not report.ok:
            message = report.message
        elif self.parameters["EM_Login_State"] == "mobile":  # but no mobile profile came
            message = self._why_no_mobile_profile(user_id, password)
        else:
            message = "the server sent the phone back to its host profile"
        if self.parameters["EM_Login_State"] == "mobile" or not report.ok:
            self.parameters.update(saved)  # not logged in: the phone stays as it was
        return self._report(report.action, False, list(report.fetches), message)

    @staticmethod
    def _why_no_mobile_profile(user_id: str, password: str) -> str:
        if not password:
            return f"no password given for {user_id}: the rule never asked for the mobile profile"
        return (
            f"the mobile profile was never fetched as {user_id}: the rule chose no URL with --uid {user_id}"
        )

    async def logout(self) -> StepReport:
        self.parameters.update(EM_Login_State="host", EM_Mobile_User_ID="", EM_Mobile_Password="")
        return await self._resync("logout", provisioning_state="-1")

    # -- resync -----------------------------------------------------------------------------------
    async def _resync(self, action: str, provisioning_state: str) -> StepReport:
        fetches: list[Fetch] = []
        message = ""
        ok = True
        for _ in range(MAX_ROUNDS):
            changed, ok, message = await self._one_round(fetches, provisioning_state)
            if not ok or not changed:
                break
        return self._report(action, ok, fetches, message)

    async def _one_round(self, fetches: list[Fetch], provisioning_state: str) -> tuple[bool, bool, str]:
        """One firmware round over the four rules; (re-evaluation needed, success, failure message)."""
        round_ = Round(self.parameters, self._identity(provisioning_state))
        while (request := round_.next_fetch()) is not None:
            fetch, body = await self._fetch(request.url, request.uid, request.pwd)
            fetch = Fetch(fetch.url, fetch.status, fetch.note, request.uid)
            fetches.append(fetch)
            if body is None:
                round_.fail(fetch.note or f"{request.rule_name}: HTTP {fetch.status}")
            else:
                round_.receive(body)
        if round_.failure is not None:
            return False, False, round_.failure
        return round_.reevaluate, True, ""

    async def _fetch(self, url: str, uid: str | None, pwd: str | None) -> tuple[Fetch, bytes | None]:
        if not url.lower().startswith(("http://", "https://")):
            return Fetch(url, None, "the simulator speaks http and https only"), None
        middlewares = (aiohttp.DigestAuthMiddleware(uid, pwd or ""),) if uid else ()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(middlewares=middlewares, timeout=timeout) as session,
                session.get(url, headers={"User-Agent": self.user_agent}) as response,
            ):
                body = await response.read()
                if response.status != 200:
                    return Fetch(url, response.status, body.decode("ascii", "replace").strip()[:120]), None
                return Fetch(url, 200), body
        except (aiohttp.ClientError, TimeoutError) as error:
            return Fetch(url, None, f"{type(error).__name__}: {error}"), None

    def macros(self, provisioning_state: str = "1") -> dict[str, str]:
        """The phone's state as the rule language sees it."""
        return rule_state(self.parameters, self._identity(provisioning_state))

    def _identity(self, provisioning_state: str) -> dict[str, str]:
        return identity_macros(self.mac, self.model, self.serial, self.firmware, provisioning_state)

    def _report(self, action: str, ok: bool, fetches: list[Fetch], message: str) -> StepReport:
        p = self.parameters
        return StepReport(
            action,
            ok,
            tuple(fetches),
            p.get("EM_Login_State", ""),
            p.get("User_ID_1_", ""),
            p.get("Display_Name_1_", ""),
            p.get("Station_Name", ""),
            message,
        )

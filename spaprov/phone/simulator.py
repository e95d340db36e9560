"""An SPA5x5 phone, simulated: power-up, timers, pushed resyncs, Login and Logout against a real
server, in simulated time.

The firmware's resync sequence (spaprov.phone.firmware) decides what each resync fetches, its
timers (spaprov.phone.schedule) decide when, on the injected `clock` (a ManualClock: nothing here
sleeps on wall time); this module fetches over TFTP/HTTP (spaprov.phone.transport), answers SIP
NOTIFY (spaprov.phone.sip), and reports each step.

A resync that changes parameters reboots the phone ([LSPG30] p.42); after a reboot
`Resync_On_Reset` resyncs again after `Resync_Random_Delay` ([SIPURA]; [SPA1xxAG]).  The SPA232D
guide excepts reboots caused by parameter updates ([SPA1xxAG]); whether SPA5x5 firmware does is
UNCONFIRMED, so `resync_after_update_reboot=False` simulates that reading (the phone then waits
for `Resync_Periodic`).  The step methods (`boot`, `resync`, `login`, `logout`) run the action and
the reboot resyncs it causes, moving the clock through the random delays; `advance`/`run_until`
let the timers fire.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from dataclasses import dataclass, field

from spaprov.clock import ManualClock
from spaprov.config.models import MODELS, PhoneModel
from spaprov.mac import normalize_mac
from spaprov.phone.firmware import Round, identity_macros, rule_state
from spaprov.phone.parameters import factory_defaults
from spaprov.phone.schedule import PROVISIONING_STATE, TRIGGERS, Reason, Schedule
from spaprov.phone.sip import NotifyGuard, NotifyListener
from spaprov.phone.transport import Fetch, fetch, parse_server
from spaprov.rules import RuleSyntaxError, StateError, evaluate

# The factory Profile_Rule: `/spa$PSN.cfg` at the DHCP option 66 TFTP server ([SIPURA] p.26;
# [SPA1xxAG]; for SPA5xx implied by [WAZO]'s `spa525G2.cfg` names; the literal SPA5xx default
# is UNCONFIRMED).
FACTORY_PROFILE_RULE = "/spa$PSN.cfg"
MAX_REBOOTS = 8  # reboots one step may cause before the simulator calls it a loop

# What each model sends as its HTTP User-Agent, `Cisco/<MODEL>-<FW> (<MAC>)(<SERIAL>)`; some
# SPA525G builds send only the serial, `Cisco/SPA525G-7.4.7 (CBT141900G7)` (reference section
# 3.2, from [WAZO] common.py and the Provisioner project).  Whether the SPA525G2 sends its MAC is
# UNCONFIRMED: it does here, and `sends_mac=False` simulates the other case.
MACLESS_MODELS = frozenset({"SPA525G"})
MODEL_FIRMWARE = {"SPA501G": "7.4.4", "SPA504G": "7.4.9c", "SPA508G": "7.4.8a", "SPA525G": "7.4.7"}
DEFAULT_FIRMWARE = "7.5.5"


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
    at: float = 0.0  # the simulated time the step ended

    def __str__(self) -> str:
        fetched = "; ".join(str(f) for f in self.fetches) or "nothing fetched"
        line = f'{self.line_1} "{self.line_1_name}"' if self.line_1 else "(none)"
        verdict = (
            ("ok" + (f" ({self.message})" if self.message else "")) if self.ok else f"FAILED: {self.message}"
        )
        return (
            f"{self.action}: {verdict}\n  {fetched}\n  state {self.login_state or '(empty)'}, "
            f'line 1 {line}, station "{self.station_name}"'
        )


@dataclass
class SpaPhone:
    mac: str
    model: PhoneModel
    profile_rule: str = FACTORY_PROFILE_RULE
    serial: str = "CBT1234567"
    firmware: str = ""  # "": the model's (MODEL_FIRMWARE)
    parameters: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0  # network waits (real seconds), not simulated time
    clock: ManualClock = field(default_factory=ManualClock)
    rng: random.Random | None = None  # None: seeded from the MAC, so runs repeat exactly
    dhcp_tftp_server: str | None = None  # DHCP option 66: HOST or HOST:PORT
    sends_mac: bool | None = None  # None: as the model's firmware does
    resync_after_update_reboot: bool = True
    ca_file: str | None = None  # the CA that HTTPS servers' certificates must chain to (None: the system's)

    def __post_init__(self) -> None:
        mac = normalize_mac(self.mac)
        if mac is None:
            raise ValueError(f"{self.mac!r} is not a MAC address")
        self.mac = mac
        self.firmware = self.firmware or MODEL_FIRMWARE.get(self.model.name, DEFAULT_FIRMWARE)
        if self.sends_mac is None:
            self.sends_mac = self.model.name not in MACLESS_MODELS
        self._tftp = parse_server(self.dhcp_tftp_server) if self.dhcp_tftp_server else None
        self._tls = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        if not self.parameters:
            self.parameters = factory_defaults(self.model, self.profile_rule)
        self._schedule = Schedule(self.rng or random.Random(self.mac))
        self._lock = asyncio.Lock()
        self._listener: NotifyListener | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.pushed: asyncio.Queue[StepReport] = asyncio.Queue()

    @classmethod
    def of_model(
        cls, mac: str, model: str, profile_rule: str = FACTORY_PROFILE_RULE, **kwargs: object
    ) -> SpaPhone:
        return cls(mac, MODELS[model], profile_rule, **kwargs)  # type: ignore[arg-type]

    @property
    def user_agent(self) -> str:
        mac = f"({self.mac.upper()})" if self.sends_mac else ""
        return f"Cisco/{self.model.name}-{self.firmware} {mac}({self.serial})"

    def set_host_credentials(self, user_id: str, password: str) -> None:
        """What an administrator types into the phone's web page (EM_Phone_User_ID/Password)."""
        self.parameters["EM_Phone_User_ID"] = user_id
        self.parameters["EM_Phone_Password"] = password

    # -- the actions a person takes ---------------------------------------------------------------
    async def boot(self) -> StepReport:
        """Power-up: Resync_On_Reset decides whether the phone resyncs."""
        async with self._lock:
            fetches: list[Fetch] = []
            self._schedule.powered_up(self.parameters, self.clock())
            if self._schedule.due is None:
                return self._report("boot", True, fetches, "Resync_On_Reset is No: no resync at power-up")
            ok, message = await self._settle(fetches)
            return self._report("boot", ok, fetches, message)

    async def resync(self) -> StepReport:
        """The periodic timer fires now."""
        async with self._lock:
            return await self._step("resync", "periodic")

    async def login(self, user_id: str, password: str) -> StepReport:
        """The Login softkey: user id and password typed in; the phone resyncs as mobile.
        If the mobile profile is refused, the phone stays as it was (the screen says so)."""
        action = f"login {user_id}"
        if self.parameters.get("EM_Enable") != "Yes":  # no Login softkey ([SPA9x2AG] p.94)
            return self._report(action, False, [], "EM_Enable is No: the phone offers no Login")
        async with self._lock:
            saved = {
                name: self.parameters[name]
                for name in ("EM_Login_State", "EM_Mobile_User_ID", "EM_Mobile_Password")
            }
            self.parameters.update(
                EM_Login_State="mobile", EM_Mobile_User_ID=user_id, EM_Mobile_Password=password
            )
            report = await self._step(action, "request")
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
        async with self._lock:
            self.parameters.update(EM_Login_State="host", EM_Mobile_User_ID="", EM_Mobile_Password="")
            return await self._step("logout", "request")

    def report_without_fetch(self, action: str, ok: bool, message: str) -> StepReport:
        """A step that fetched nothing (a wait that no timer interrupted, a push that never
        came), reported with the phone's state and why."""
        return self._report(action, ok, [], message)

    # -- simulated time ---------------------------------------------------------------------------
    def next_event_at(self) -> float | None:
        """When a timer of this phone fires next (a resync or a trigger check), or None."""
        times = [t for t in (self._due_at(), self._schedule.next_trigger_poll) if t is not None]
        return min(times) if times else None

    async def advance(self, seconds: float) -> list[StepReport]:
        return await self.run_until(self.clock() + seconds)

    async def run_until(self, deadline: float) -> list[StepReport]:
        """Let the phone's timers fire up to `deadline`, moving the clock; the resyncs done."""
        reports: list[StepReport] = []
        async with self._lock:
            while (at := self.next_event_at()) is not None and at <= deadline:
                self._move_clock(at)
                due = self._schedule.due
                if due is not None and due.at <= at:
                    reports.append(await self._step(f"{due.reason} resync", due.reason))
                elif self._trigger_holds():
                    reports.append(await self._step("triggered resync", "trigger"))
                else:
                    self._schedule.polled_triggers(self.parameters, self.clock())
            self._move_clock(deadline)
        return reports

    def _due_at(self) -> float | None:
        return self._schedule.due.at if self._schedule.due is not None else None

    def _move_clock(self, at: float) -> None:
        if at > self.clock():
            self.clock.advance(at - self.clock())

    def _trigger_holds(self) -> bool:
        """Resync_Trigger_1/_2: a bare condition each ([LSPG30] p.42); either being true fires."""
        state = rule_state(self.parameters, self._identity("1"))
        for name in TRIGGERS:
            text = self.parameters.get(name, "").strip()
            if not text:
                continue
            try:
                if evaluate(text, state, kind="trigger").alternative is not None:
                    return True
            except (RuleSyntaxError, StateError):
                continue  # a trigger that does not parse never fires
        return False

    # -- SIP NOTIFY --------------------------------------------------------------------------------
    async def listen_sip(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Start the UDP SIP listener; returns the address it listens on."""
        loop = asyncio.get_running_loop()
        guard = NotifyGuard(self.clock)
        transport, listener = await loop.create_datagram_endpoint(
            lambda: NotifyListener(guard, lambda: self.parameters, self._notified), local_addr=(host, port)
        )
        self._listener = listener
        address = transport.get_extra_info("sockname")
        return str(address[0]), int(address[1])

    @property
    def notify_log(self) -> list[tuple[str, int]]:
        """Each NOTIFY received: its Event and the status answered."""
        return list(self._listener.log) if self._listener is not None else []

    async def close(self) -> None:
        if self._listener is not None and self._listener.transport is not None:
            self._listener.transport.close()
        for task in list(self._tasks):
            await task

    def _notified(self, event: str) -> None:
        task = asyncio.get_running_loop().create_task(self._pushed(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pushed(self, event: str) -> None:
        async with self._lock:
            if event == "resync":
                report = await self._step("pushed resync (SIP NOTIFY)", "request")
            else:  # reboot_now / restart_now: the phone restarts
                fetches: list[Fetch] = []
                self._schedule.powered_up(self.parameters, self.clock())
                ok, message = await self._settle(fetches) if self._schedule.due else (True, "")
                report = self._report(f"{event} (SIP NOTIFY)", ok, fetches, message)
        await self.pushed.put(report)

    async def wait_pushed(self, timeout: float = 10.0) -> StepReport:
        """The report of the next resync a NOTIFY caused (a network wait, in real seconds)."""
        return await asyncio.wait_for(self.pushed.get(), timeout)

    # -- resync -----------------------------------------------------------------------------------
    async def _step(self, action: str, reason: Reason) -> StepReport:
        fetches: list[Fetch] = []
        ok, message, rebooted = await self._attempt(reason, fetches)
        if ok and rebooted:
            ok, message = await self._settle(fetches)
        return self._report(action, ok, fetches, message)

    async def _settle(self, fetches: list[Fetch]) -> tuple[bool, str]:
        """The resyncs that reboots cause, until the profiles stop changing anything."""
        for _ in range(MAX_REBOOTS):
            due = self._schedule.due
            if due is None or due.reason != "reset":
                return True, ""
            self._move_clock(due.at)
            ok, message, _ = await self._attempt("reset", fetches)
            if not ok:
                return False, message
        return False, f"still rebooting after {MAX_REBOOTS} reboots: the profiles keep changing the phone"

    async def _attempt(self, reason: Reason, fetches: list[Fetch]) -> tuple[bool, str, bool]:
        """One resync; (success, failure message, rebooted)."""
        if self.parameters.get("Provision_Enable") != "Yes":  # master switch ([SIPURA] p.25; [MPP-PG])
            self._schedule.due = None
            self._schedule.polled_triggers(self.parameters, self.clock())
            return False, "Provision_Enable is No: the phone does not resync", False
        now = self.clock()
        round_ = Round(self.parameters, self._identity(PROVISIONING_STATE[reason]))
        self._schedule.attempted(now)
        while (request := round_.next_fetch()) is not None:
            outcome = await fetch(
                request,
                user_agent=self.user_agent,
                tftp_server=self._tftp,
                timeout=self.timeout,
                tls=self._tls,
            )
            fetches.append(outcome.fetch)
            if outcome.body is not None:
                round_.receive(outcome.body)
            elif outcome.not_found:
                round_.not_found(outcome.fetch.note or "file not found")
            else:
                round_.fail(outcome.fetch.note or f"{request.rule_name}: HTTP {outcome.fetch.status}")
        if round_.failure is not None:
            self._schedule.failed(self.parameters, now)
            return False, round_.failure, False
        self._schedule.succeeded(self.parameters, now)
        if round_.changed:  # a resync that changes parameters reboots the phone ([LSPG30] p.42)
            if self.resync_after_update_reboot:
                self._schedule.powered_up(self.parameters, now)
            return True, "", True
        return True, "", False

    def macros(self, provisioning_state: str = "1") -> dict[str, str]:
        """The phone's state as the rule language sees it."""
        return rule_state(self.parameters, self._identity(provisioning_state))

    def _identity(self, provisioning_state: str) -> dict[str, str]:
        return identity_macros(
            self.mac, self.model, self.serial, self.firmware, provisioning_state,
            self._schedule.prvtmr(self.clock()),
        )  # fmt: skip

    def _report(self, action: str, ok: bool, fetches: list[Fetch], message: str) -> StepReport:
        problem, self._schedule.problem = self._schedule.problem, None
        if problem is not None:  # a timer the profile set cannot run: the step did not go as asked
            ok, message = False, "; ".join(filter(None, (message, f"timer not running: {problem}")))
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
            self.clock(),
        )


async def run_together(phones: list[SpaPhone], deadline: float) -> list[StepReport]:
    """Several phones on one clock: their timers fire in time order up to `deadline`."""
    reports: list[StepReport] = []
    while True:
        pending = [
            (at, index) for index, phone in enumerate(phones) if (at := phone.next_event_at()) is not None
        ]
        pending = [item for item in pending if item[0] <= deadline]
        if not pending:
            break
        at, index = min(pending)
        reports += await phones[index].run_until(at)
    for phone in phones:
        await phone.run_until(deadline)
    return reports

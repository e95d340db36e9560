"""Where a profile's lines, keys and speed dials go on one model of phone (pure).

The layout has every per-user slot the model has, whatever the content: each line key, each
attendant-console key and each `Speed_Dial_n` it has, empty when the content leaves it unused.
So a host, default or logout profile sets exactly the parameters a mobile profile on the same
phone sets, and clears what a logged-in user left behind (the set is the model's, not a list).

A profile written for a bigger phone is fitted, never silently cut ("fill what fits"):
1. a line on key n (n within the phone's line keys) stays there; so does a BLF/service key;
2. a line numbered past the phone's line keys moves to the lowest free line key (a line needs a
   line key: an attendant console's keys take functions only, [WAZO] common.py `_add_fkeys`);
3. a BLF/service key past the line keys goes to the attendant console, key line_keys + 1 being
   Unit_1_Key_1 ([WAZO] `_add_fkeys` numbering), or, on a phone without one, to a free line key;
4. on a model without `Speed_Dial_n` (the SPA525G2) each speed dial takes a free line key, then a
   free console key, as `fnc=sd;ext=NUMBER@$PROXY;nme=NAME` ([WAZO] speed-dial function), so
   its name is its label.  In `Speed_Dial_n` the value is the number alone: the SPA
   administration guides give no name field there.
Whatever moved or did not fit is listed in `misfits`, one line each, for the logs and `render`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from spaprov.config.models import SIDECAR_KEYS, SPEED_DIAL_SLOTS, PhoneModel
from spaprov.config.schema import Line, LineKey, ProfileContent, SpeedDial


@dataclass(frozen=True)
class KeySlot:
    n: int  # line key n: Extension_n_, and extension n's User_ID_n_, Password_n_, …
    line: Line | None
    short_name: str
    function: str  # Extended_Function_n_


@dataclass(frozen=True)
class SidecarSlot:
    unit: int
    key: int
    function: str  # Unit_<unit>_Key_<key>


@dataclass(frozen=True)
class SpeedDialSlot:
    n: int
    number: str


@dataclass(frozen=True)
class Layout:
    keys: tuple[KeySlot, ...]
    sidecar: tuple[SidecarSlot, ...]
    speed_dials: tuple[SpeedDialSlot, ...]
    misfits: tuple[str, ...]


def function_of(key: LineKey) -> str:
    """Extended_Function for a BLF or service key, the SPA5x5 keyword syntax ([WAZO] common.py)."""
    if key.kind == "blf":  # busy lamp + speed dial + call pickup
        return f"fnc=blf+sd+cp;sub={key.target}@$PROXY;nme={key.name}"
    return f"fnc=xml;url={key.target};nme={key.name}"


def speed_dial_function(dial: SpeedDial) -> str:
    return f"fnc=sd;ext={dial.number}@$PROXY;nme={dial.name}"


@lru_cache(maxsize=1024)  # values in, an immutable value out: the builder's warning and the render share it
def layout(model: PhoneModel, content: ProfileContent) -> Layout:
    fitter = _Fitter(model)
    lines = sorted(content.lines, key=lambda item: item.number)
    keys = sorted(content.line_keys, key=lambda item: item.key)
    # What fits as written first, so nothing moved can take a key that something else names.
    for line in lines:
        if line.number <= model.line_keys:
            fitter.lines[line.number] = line
    for key in keys:
        if key.key <= model.line_keys:
            fitter.functions[key.key] = (key.name, function_of(key))
    for line in lines:
        if line.number > model.line_keys:
            fitter.move_line(line)
    for key in keys:
        if key.key > model.line_keys:
            fitter.move_key(key)
    speed_dials: tuple[SpeedDialSlot, ...] = ()
    if model.speed_dials:
        numbers = {dial.slot: dial.number for dial in content.speed_dials}
        speed_dials = tuple(SpeedDialSlot(n, numbers.get(n, "")) for n in SPEED_DIAL_SLOTS)
    else:
        for dial in sorted(content.speed_dials, key=lambda item: item.slot):
            what = f"speed dial {dial.slot} ({dial.name})"
            fitter.on_free_key(what, dial.name, speed_dial_function(dial), consoles=True, quiet=True)
    return Layout(fitter.key_slots(), fitter.sidecar_slots(), speed_dials, tuple(fitter.misfits))


class _Fitter:
    def __init__(self, model: PhoneModel) -> None:
        self.model = model
        self.lines: dict[int, Line] = {}
        self.functions: dict[int, tuple[str, str]] = {}  # key -> (label, Extended_Function)
        self.sidecar: dict[int, str] = {}  # 0-based console key index -> function
        self.misfits: list[str] = []

    def move_line(self, line: Line) -> None:
        """A line numbered past the phone's line keys: onto the lowest free one."""
        what = f"line {line.number} ({line.user_id})"
        free = self._free_key()
        if free is None:
            self.misfits.append(
                f"{what} does not fit: the {self.model.name} has {self.model.line_keys} line keys, all used"
            )
            return
        self.lines[free] = replace(line, number=free)
        self.misfits.append(f"{what} is on line key {free}: the {self.model.name} has {self.model.line_keys}")

    def move_key(self, key: LineKey) -> None:
        """A BLF/service key past the line keys: the console key of that number, else a free key."""
        what = f"{key.kind} key {key.key} ({key.name})"
        index = key.key - self.model.line_keys - 1
        if index < self.model.sidecar_keys:
            self.sidecar[index] = function_of(key)
            unit, number = divmod(index, SIDECAR_KEYS)
            self.misfits.append(f"{what} is on attendant console {unit + 1} key {number + 1}")
            return
        self.on_free_key(what, key.name, function_of(key), consoles=False)

    def on_free_key(
        self, what: str, label: str, function: str, *, consoles: bool, quiet: bool = False
    ) -> None:
        free = self._free_key()
        if free is not None:
            self.functions[free] = (label, function)
            if not quiet:
                self.misfits.append(f"{what} is on line key {free}")
            return
        if consoles:
            index = next((i for i in range(self.model.sidecar_keys) if i not in self.sidecar), None)
            if index is not None:
                self.sidecar[index] = function
                return
        self.misfits.append(f"{what} does not fit: no free key on the {self.model.name}")

    def _free_key(self) -> int | None:
        used = self.lines.keys() | self.functions.keys()
        return next((n for n in range(1, self.model.line_keys + 1) if n not in used), None)

    def key_slots(self) -> tuple[KeySlot, ...]:
        slots = []
        for n in range(1, self.model.line_keys + 1):
            line = self.lines.get(n)
            label, function = self.functions.get(n, ("", ""))
            slots.append(KeySlot(n, line, line.short_name if line else label, function))
        return tuple(slots)

    def sidecar_slots(self) -> tuple[SidecarSlot, ...]:
        return tuple(
            SidecarSlot(index // SIDECAR_KEYS + 1, index % SIDECAR_KEYS + 1, self.sidecar.get(index, ""))
            for index in range(self.model.sidecar_keys)
        )

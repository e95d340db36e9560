"""Which names the TFTP listener serves: `spa$PSN.cfg` for each model (`spa525G2.cfg`,
`spa504G.cfg`: a factory-reset SPA's `Profile_Rule` is `/spa$PSN.cfg`) and `spa<mac>.cfg` for each
known device, case-insensitively, all with the bootstrap profile of the configuration served now.
Everything else is "file not found"; a name that reaches for a path is an access violation."""

from __future__ import annotations

import re

from spaprov.config.models import MODELS, PhoneModel
from spaprov.live.holder import ConfigHolder
from spaprov.profiles import ProfileBuilder
from spaprov.tftp.packets import ErrorCode
from spaprov.tftp.server import FileRefused

_NAME = re.compile(r"spa([0-9a-z]{1,12})\.cfg")


def product_series_number(model: PhoneModel) -> str:
    """`$PSN` of a model: `525G2` for the SPA525G2 (per the names Wazo serves, "G is uppercase")."""
    return model.name.removeprefix("SPA")


_BY_PSN = {product_series_number(model).lower(): model for model in MODELS.values()}


class BootstrapFiles:
    def __init__(self, holder: ConfigHolder, builder: ProfileBuilder) -> None:
        self.holder = holder
        self.builder = builder

    def __call__(self, requested: str) -> bytes:
        name = requested.lstrip("/")
        if not name or "/" in name or "\\" in name or ".." in name or ":" in name:
            raise FileRefused(ErrorCode.ACCESS_VIOLATION, "only spa<model>.cfg and spa<mac>.cfg are served")
        found = _NAME.fullmatch(name.lower())
        if found is None:
            raise FileRefused(ErrorCode.FILE_NOT_FOUND, "file not found")
        config = self.holder.config
        key = found.group(1)
        model = _BY_PSN.get(key)
        if model is None:
            device = config.devices.get(key)
            if device is None:
                raise FileRefused(ErrorCode.FILE_NOT_FOUND, "file not found")
            model = device.model
        return self.builder.bootstrap(config, model)

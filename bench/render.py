"""Uncached profile render time per model (what a phone's first fetch after a reload costs).

Run from the repository root: `python bench/render.py [--number N]`.  Renders the sample site's
mobile profile of alice and the host profile for the conference-room phone as each model, and
prints microseconds per render and the profile size.  Renders are cached per phone and
configuration generation, so this is paid once per phone per reload.  Machines here are noisy:
the best of five runs is printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spaprov.config import load_profile_directory
from spaprov.config.models import MODELS
from spaprov.profiles import ProfileBuilder, Renderer

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=500)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the sample's file-mode warnings
    config = load_profile_directory(ROOT / "sample_profiles")
    builder = ProfileBuilder(Renderer())
    alice = config.users["alice"]
    print(f"{'model':10} {'kind':7} {'us/render':>10} {'bytes':>6}")
    for name, model in sorted(MODELS.items()):
        device = dataclasses.replace(config.devices["001122334455"], model=model)
        for kind in ("mobile", "host"):
            user = alice if kind == "mobile" else None

            def render(device: object = device, kind: str = kind, user: object = user) -> bytes:
                return builder.build(config, kind, device, user=user)  # type: ignore[arg-type]

            best = min(timeit.repeat(render, number=args.number, repeat=5)) / args.number
            print(f"{name:10} {kind:7} {best * 1e6:10.0f} {len(render()):6}")


if __name__ == "__main__":
    main()

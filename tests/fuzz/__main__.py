"""Fuzzing campaign runner: drive one target (or all) with many inputs and report findings.

Run from the repository root (it lives beside its targets, so bench/ never imports tests/):

    python -m tests.fuzz TARGET --runs N [--seed S] [--out DIR] [--engine auto|atheris|mutate]

TARGET is one of digest, basic, rules, toml, csv, tftp, sip (see tests/fuzz/targets.py) or `all`.  With
atheris installed (`pip install atheris`: an optional tool, not a project dependency) the default
engine is atheris, coverage-guided over spaprov; without it, or with `--engine mutate`, a seeded
mutation fuzzer over a corpus of real inputs (tests/fuzz/engine.py) runs instead — the engine of
the short CI run, and the faster of the two per input.  Prints inputs/s, the count run and the
count of findings (every exception a target lets escape); each distinct finding is minimised
and saved, input and traceback, under --out (default: a new temporary directory, never the tree).
Exit status 1 when there are findings.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.fuzz.engine import Campaign, Finding, Mutator, minimize

TARGET_NAMES = ("digest", "basic", "rules", "toml", "csv", "tftp", "sip")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", choices=(*TARGET_NAMES, "all"))
    parser.add_argument("--runs", type=int, default=100_000, help="inputs per target (default 100,000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--out", type=Path, help="where findings are saved (default: a new temporary directory)"
    )
    parser.add_argument("--engine", choices=("auto", "atheris", "mutate"), default="auto")
    parser.add_argument("--max-len", type=int, default=16384, help="atheris: the longest input (bytes)")
    parser.add_argument("--no-minimize", action="store_true", help="save findings as found")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    out = args.out or Path(tempfile.mkdtemp(prefix="spaprov-fuzz-"))
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "mutate"
    # The targets log every refused attempt (as the server does); counted, not printed.
    logging.getLogger("spaprov").addHandler(logging.NullHandler())
    logging.getLogger("spaprov").propagate = False
    names = TARGET_NAMES if args.target == "all" else (args.target,)
    if engine == "atheris":
        if len(names) != 1:
            parser.error("atheris runs one target per process: name it")
        return run_atheris(names[0], args.runs, args.seed, out, args.max_len, not args.no_minimize)
    found = 0
    for name in names:
        found += run_mutate(name, args.runs, args.seed, out, not args.no_minimize)
    return 1 if found else 0


def run_mutate(name: str, runs: int, seed: int, out: Path, shrink: bool) -> int:
    from tests.fuzz.targets import TARGETS

    with TARGETS[name]() as target:
        campaign = Campaign(target)
        print(f"{name}: {target.description}; engine mutate, seed {seed}, {runs:,} inputs", flush=True)
        try:
            inputs = iter(Mutator(target.seeds(), target.dictionary(), seed=seed))
            campaign.run(inputs, runs, report=progress(name))
        finally:  # a run stopped early (Ctrl-C, SIGTERM) still reports what it did
            report(name, campaign, out, "mutate", shrink)
    return len(campaign.findings)


def run_atheris(name: str, runs: int, seed: int, out: Path, max_len: int, shrink: bool) -> int:
    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with atheris.instrument_imports(include=["spaprov"]):
        from tests.fuzz.targets import TARGETS

    target = TARGETS[name]()
    campaign = Campaign(target)
    corpus = out / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    for data in target.seeds():
        (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
    started = time.perf_counter()
    state = {"next_report": started + 30.0}
    print(f"{name}: {target.description}; engine atheris, seed {seed}, {runs:,} inputs", flush=True)

    def one_input(data: bytes) -> None:
        campaign.run_one(data)
        now = time.perf_counter()
        if campaign.runs >= runs or now >= state["next_report"]:
            campaign.seconds = now - started
            state["next_report"] = now + 30.0
            if campaign.runs < runs:
                progress(name)(campaign)
                return
            report(name, campaign, out, "atheris", shrink)
            target.close()
            sys.stdout.flush()
            os._exit(1 if campaign.findings else 0)  # libFuzzer never returns from Fuzz()

    libfuzzer_args = [
        sys.argv[0],
        f"-runs={runs + 10_000}",  # ours stops first, at exactly `runs`
        f"-seed={seed or 1}",
        f"-max_len={max_len}",
        "-rss_limit_mb=3072",
        "-print_final_stats=0",
        f"-artifact_prefix={out}/",  # libFuzzer's slow-unit and crash files: never in the tree
        str(corpus),
    ]
    atheris.Setup(libfuzzer_args, one_input)
    atheris.Fuzz()
    return 0  # pragma: no cover - Fuzz() exits


def progress(name: str) -> Callable[[Campaign], None]:
    def show(campaign: Campaign) -> None:
        print(
            f"  {name}: {campaign.runs:,} inputs, {campaign.rate():,.0f}/s, "
            f"{campaign.finding_count:,} findings ({len(campaign.findings)} distinct)",
            flush=True,
        )

    return show


def report(name: str, campaign: Campaign, out: Path, engine: str, shrink: bool) -> None:
    print(
        f"{name}: {campaign.runs:,} inputs in {campaign.seconds:,.0f} s ({campaign.rate():,.0f} inputs/s, "
        f"engine {engine}): {campaign.finding_count:,} findings, {len(campaign.findings)} distinct",
        flush=True,
    )
    for finding in campaign.findings.values():
        if shrink:
            finding.data = minimize(campaign.target, finding.data, finding.signature)
        path = save(finding, out / name)
        print(f"  {finding.count:,} x {finding.signature}: {finding.message[:160]}", flush=True)
        print(f"    minimal input ({len(finding.data):,} bytes): {preview(finding.data)}", flush=True)
        print(f"    saved: {path}", flush=True)


def save(finding: Finding, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / hashlib.sha1(finding.signature.encode()).hexdigest()[:12]
    stem.with_suffix(".bin").write_bytes(finding.data)
    stem.with_suffix(".txt").write_text(
        f"{finding.signature}\ncount: {finding.count}\n"
        f"input: {preview(finding.data, 4000)}\n\n{finding.traceback}"
    )
    return stem.with_suffix(".bin")


def preview(data: bytes, limit: int = 300) -> str:
    text = repr(data)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(data):,} bytes)"


if __name__ == "__main__":
    sys.exit(main())

"""What would sharing the replay table and the lockout counters across workers cost?

Issue 10 ("Prove it"): with `--workers N` each worker has its own replay table and failure
counters.  The candidate design puts a nonce *claim* in a shared store on a nonce's first use
(INSERT ... ON CONFLICT DO NOTHING, owner = worker id; a worker that finds a nonce claimed by
another answers stale) and shares failure counts on the failure path only.  This measures, on
this machine, per worker process:

- boots/s of the Digest check alone (a challenge + a first-use verification: what every phone
  boot costs), the reference;
- claims/s of each store variant with W processes claiming at once (SQLite as the state store
  opens it: WAL + synchronous=FULL; SQLite WAL + synchronous=OFF; SQLite 32 claims per
  transaction; PostgreSQL autocommit, UNLOGGED table, synchronous_commit=off; PostgreSQL 32 per
  statement), and failure-counter upserts/s (the attacker's path);
- the boots/s a worker would keep if the claim ran inline: 1 / (1/boots + 1/claims).

Run from the repository root: `python bench/shared_auth_state.py [--count 3000] [--workers 2]
[--postgres postgresql://spaprov:spaprov@127.0.0.1:5432/spaprov]`.  Local files and loopback
only; every loop is bounded by --count.

`--boots` measures the built design end to end instead: a real `spaprov serve` with 1 and with
2 workers on a private copy of the sample site, and `--clients` concurrent simulated phones each
booting in a loop for `--seconds`: a new connection, GET /mobilephone.cfg (401), the same GET
with Digest (200), close.  Every boot is a nonce's first use, so with 2 workers every boot
claims its nonce in the shared store; with 1 worker on SQLite nothing touches it.  `--code DIR`
(repeatable, LABEL=DIR) runs the server from other checkouts too, e.g. the code before the
change: `python bench/shared_auth_state.py --boots --code before=/path/to/main --code after=.`
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.digest_client import authorization, parse_challenge
from bench.serve import Connection, Identity, digest_header, free_port
from spaprov.auth import CredentialStore, DigestAuthenticator, Verdict
from spaprov.clock import system_clock

BATCH = 32
CLAIMS = "CREATE TABLE IF NOT EXISTS nonce_claims (nonce TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL)"
FAILURES = (
    "CREATE TABLE IF NOT EXISTS auth_failures (user_id TEXT, client TEXT, count INTEGER NOT NULL,"
    " window_start REAL NOT NULL, PRIMARY KEY (user_id, client))"
)


def boots_per_second(count: int) -> float:
    """Challenge, then a first-use verification on the new nonce: a phone boot's Digest work."""
    with tempfile.TemporaryDirectory() as directory:
        store = CredentialStore(Path(directory) / "credentials.htdigest", "bench")
        store.set_password("desk-1", "secret")
        auth = DigestAuthenticator("bench", store, b"s" * 32, clock=system_clock, max_failures=10**9)
        started = time.perf_counter()
        for _ in range(count):
            challenge = next(parse_challenge(c) for c in auth.challenges(algorithms=("MD5",)))
            header = authorization(challenge, "desk-1", "secret", uri="/hostphone.cfg")
            assert auth.authenticate("GET", "/hostphone.cfg", header, "c").verdict is Verdict.OK
        return count / (time.perf_counter() - started)


# -- store variants: each returns a callable claiming a list of nonces ------------------------------
def sqlite_claimer(path: str, synchronous: str, batch: int) -> Callable[[list[str]], None]:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    owner = str(os.getpid())

    def claim(nonces: list[str]) -> None:
        for start in range(0, len(nonces), batch):
            rows = [(n, owner, time.time() + 300) for n in nonces[start : start + batch]]
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO nonce_claims VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rows)
            db.execute("COMMIT")

    return claim


def sqlite_failures(path: str, synchronous: str) -> Callable[[list[str]], None]:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")

    def fail(users: list[str]) -> None:
        for user in users:
            db.execute(
                "INSERT INTO auth_failures VALUES (?, '10.0.0.1', 1, ?) ON CONFLICT (user_id, client)"
                " DO UPDATE SET count = count + 1 RETURNING count",
                (user[:8], time.time()),
            ).fetchone()

    return fail


def postgres_claimer(url: str, batch: int) -> Callable[[list[str]], None]:
    import psycopg

    db = psycopg.connect(url, autocommit=True)
    db.execute("SET synchronous_commit = off")
    owner = str(os.getpid())

    def claim(nonces: list[str]) -> None:
        for start in range(0, len(nonces), batch):
            chunk = nonces[start : start + batch]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            args: list[object] = []
            for nonce in chunk:
                args += [nonce, owner, time.time() + 300]
            db.execute(
                f"INSERT INTO bench_nonce_claims VALUES {values} ON CONFLICT DO NOTHING RETURNING nonce",
                args,
            ).fetchall()

    return claim


def _worker(variant: str, target: str, count: int, ready: Any, out: Any) -> None:
    if variant == "sqlite-full":
        action = sqlite_claimer(target, "FULL", 1)
    elif variant == "sqlite-off":
        action = sqlite_claimer(target, "OFF", 1)
    elif variant == "sqlite-batch":
        action = sqlite_claimer(target, "OFF", BATCH)
    elif variant == "sqlite-failures":
        action = sqlite_failures(target, "OFF")
    elif variant == "postgres":
        action = postgres_claimer(target, 1)
    else:
        action = postgres_claimer(target, BATCH)
    items = [secrets.token_hex(32) for _ in range(count)]
    ready.wait()
    started = time.perf_counter()
    action(items)
    out.put(count / (time.perf_counter() - started))


def run(variant: str, target: str, count: int, workers: int) -> tuple[float, float]:
    """(the slowest worker's claims/s, the sum over workers) with `workers` processes at once."""
    context = multiprocessing.get_context("spawn")
    ready, out = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_worker, args=(variant, target, count, ready, out)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    rates = [out.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(60)
    return min(rates), sum(rates)


# -- end to end: boots/s of a real server ----------------------------------------------------------
async def _boot_loop(port: int, deadline: float, errors: list[str]) -> int:

    boots = 0
    while time.perf_counter() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connection = Connection(reader, writer, port)
        try:
            status, head, _ = await connection.get("/mobilephone.cfg")
            if status != 401:
                errors.append(f"challenge answered {status}")
                continue
            status, _, _ = await connection.get("/mobilephone.cfg", digest_header(head, Identity()))
            if status != 200:
                errors.append(f"login answered {status}")
            else:
                boots += 1
        finally:
            writer.close()
    return boots


async def _boots(port: int, clients: int, seconds: float) -> tuple[float, int]:

    errors: list[str] = []
    await asyncio.gather(*(_boot_loop(port, time.perf_counter() + 1.0, []) for _ in range(clients)))  # warm
    started = time.perf_counter()
    counts = await asyncio.gather(*(_boot_loop(port, started + seconds, errors) for _ in range(clients)))
    return sum(counts) / (time.perf_counter() - started), len(errors)


def boots_mode(arguments: argparse.Namespace) -> None:

    root = Path(__file__).resolve().parent.parent
    codes = [tuple(code.split("=", 1)) for code in arguments.code] or [("this", str(root))]
    print(
        f"{arguments.clients} concurrent phones booting for {arguments.seconds:.0f} s per run"
        " (new connection, 401, Digest 200), 127.0.0.1, state on SQLite"
    )
    for workers in (1, 2):
        for label, code in codes:
            with tempfile.TemporaryDirectory() as directory:
                site = Path(directory) / "site"
                shutil.copytree(root / "sample_profiles", site, ignore=shutil.ignore_patterns(".spaprov-*"))
                port = free_port()
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "spaprov",
                        "serve",
                        "--profiles",
                        str(site),
                        "--port",
                        str(port),
                        "--state",
                        f"sqlite:///{directory}/state.sqlite3",
                        "--workers",
                        str(workers),
                        "--log-level",
                        "WARNING",
                    ],
                    cwd=code,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    _wait_for(port)

                    rate, errors = asyncio.run(_boots(port, arguments.clients, arguments.seconds))
                finally:
                    process.terminate()
                    process.wait(timeout=20)
                shared = sorted(Path(directory).glob(".state-auth.sqlite3"))
                print(
                    f"{workers} worker(s), code {label:8} {rate:8,.0f} boots/s  errors {errors}"
                    f"  shared store file: {'yes' if shared else 'no'}"
                )


def _wait_for(port: int) -> None:

    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default=os.environ.get("SPAPROV_TEST_POSTGRES"))
    parser.add_argument("--boots", action="store_true", help="end to end: boots/s of a real server")
    parser.add_argument("--code", action="append", default=[], help="LABEL=DIR: a checkout to serve from")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    if arguments.boots:
        boots_mode(arguments)
        return
    count, workers = arguments.count, arguments.workers
    boots = max(boots_per_second(count) for _ in range(3))
    print(f"python {sys.version.split()[0]}, {workers} worker processes, {count:,} operations each")
    print(f"Digest boot (challenge + first use), per worker: {boots:9,.0f} boots/s  (reference)")
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "claims.sqlite3")
        setup = sqlite3.connect(path)
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute(CLAIMS)
        setup.execute(FAILURES)
        setup.commit()
        setup.close()
        variants = [
            ("sqlite-full", "SQLite WAL sync=FULL, 1 claim/txn", path),
            ("sqlite-off", "SQLite WAL sync=OFF, 1 claim/txn", path),
            ("sqlite-batch", f"SQLite WAL sync=OFF, {BATCH} claims/txn", path),
            ("sqlite-failures", "SQLite failure-counter upsert", path),
        ]
        if arguments.postgres:
            import psycopg

            with psycopg.connect(arguments.postgres, autocommit=True) as db:
                db.execute(
                    "CREATE UNLOGGED TABLE IF NOT EXISTS bench_nonce_claims"
                    " (nonce TEXT PRIMARY KEY, owner TEXT NOT NULL, expires DOUBLE PRECISION)"
                )
                db.execute("TRUNCATE bench_nonce_claims")
            variants += [
                ("postgres", "PostgreSQL 1 claim/stmt (unlogged)", arguments.postgres),
                ("postgres-batch", f"PostgreSQL {BATCH} claims/stmt", arguments.postgres),
            ]
        for variant, label, target in variants:
            per_worker, total = run(variant, target, count, workers)
            inline = 1 / (1 / boots + 1 / per_worker)
            print(
                f"{label:38} {per_worker:9,.0f}/s per worker, {total:9,.0f}/s summed;"
                f" inline boots/s per worker {inline:8,.0f} ({inline / boots:4.0%} of reference)"
            )
        if arguments.postgres:
            with psycopg.connect(arguments.postgres, autocommit=True) as db:
                db.execute("DROP TABLE IF EXISTS bench_nonce_claims")


if __name__ == "__main__":
    main()

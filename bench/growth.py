"""Cost growth with the size of the site: start-up, RSS, full reload, and one-file edit latency.

Run from the repository root: `python bench/growth.py [--sizes 1000 10000 100000] [--edits 3]`.
For each size it builds (once, under build/growth-N) a site of N devices, N users, N EM profiles
(one per user) and 2N Digest credentials, then runs `spaprov serve` on it in a subprocess and
prints, one row per size:
- start-up: from launching the process to the first answer of /healthz (and the CPU time the
  server used until then: the figure that does not depend on what else the machine runs);
- RSS: the server's resident memory after start-up and its peak (VmHWM) at the end;
- full reload: SIGHUP to the "configuration reloaded" log line;
- one-file edit: a device, a user and an EM profile file rewritten in turn (atomically, as an
  editor or `spaprov import` does); each from the write until /healthz shows the new generation
  (edit -> validated -> served); the median and the worst.
Progress and each measurement go to standard error as they come; the table to standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
REALM, DOMAIN = "prov.example.com", "@example.com"
MODELS = ("SPA501G", "SPA502G", "SPA504G", "SPA508G", "SPA509G", "SPA525G", "SPA525G2")


def mac(n: int) -> str:
    return f"00b0{n:08x}"


def device_text(n: int, station: str) -> str:
    return (
        f'model = "{MODELS[n % len(MODELS)]}"\nstation_name = "{station}"\nhost_user = "desk-{n}"\n'
        f'[[lines]]\nnumber = 1\nuser_id = "{10000 + n}"\ndisplay_name = "Desk {n}"\npassword = "sip-{n}"\n'
    )


def user_text(n: int, display: str) -> str:
    return f'display_name = "{display}"\nem_profiles = ["user{n}"]\n'


def profile_text(n: int, display: str) -> str:
    return (
        f'[[lines]]\nnumber = 1\nuser_id = "{500000 + n}"\ndisplay_name = "{display}"\n'
        f'password = "sip-u{n}"\n'
    )


def build_site(count: int) -> Path:
    site = BUILD / f"growth-{count}"
    marker = site / f".built-{count}"
    if marker.exists():
        return site
    shutil.rmtree(site, ignore_errors=True)
    os.umask(0o077)  # as spaprov's own writers: files holding passwords readable by the server only
    for folder in ("devices", "users", "em_profiles"):
        (site / folder).mkdir(parents=True)
    (site / "site.toml").write_text((ROOT / "sample_profiles" / "site.toml").read_text())
    shutil.copy(ROOT / "sample_profiles" / "admins.toml", site / "admins.toml")
    for n in range(count):
        (site / "devices" / f"{mac(n)}.toml").write_text(device_text(n, f"Desk {n}"))
        (site / "users" / f"user{n}.toml").write_text(user_text(n, f"User {n}"))
        (site / "em_profiles" / f"user{n}.toml").write_text(profile_text(n, f"User {n}"))
    # HA1 = MD5(user:realm:password), written directly: the store's API would hash 2N passwords
    # with its slower checks, and this file is only a fixture of the benchmark.
    import hashlib

    lines = []
    for n in range(count):
        for user, password in ((f"desk-{n}{DOMAIN}", f"host-{n}"), (f"user{n}{DOMAIN}", f"pin-{n}")):
            ha1 = hashlib.md5(f"{user}:{REALM}:{password}".encode()).hexdigest()
            lines.append(f"{user}:{REALM}:{ha1}\n")
    (site / "credentials.htdigest").write_text("".join(lines))
    os.chmod(site / "credentials.htdigest", 0o600)
    marker.touch()
    return site


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (independent of what else the machine runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.bench.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class Server:
    def __init__(self, site: Path) -> None:
        self.port = free_port()
        self.lines: queue.Queue[str] = queue.Queue()
        command = [sys.executable, "-m", "spaprov", "serve", "--profiles", str(site)]
        command += ["--port", str(self.port)]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def health(self) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=30) as answer:
                result: dict[str, object] = json.load(answer)
                return result
        except OSError:
            return None

    def wait_started(self) -> float:
        while self.health() is None:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited: {self.process.returncode}")
            time.sleep(0.02)
        return time.perf_counter() - self.started

    def generation(self) -> int:
        health = self.health()
        assert health is not None
        return int(str(health["generation"]))

    def wait_generation(self, above: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.generation() <= above:
            if time.monotonic() > deadline:
                raise SystemExit("the edit was not served in time")
            time.sleep(0.02)

    def full_reload(self) -> float:
        while not self.lines.empty():
            self.lines.get_nowait()
        started = time.perf_counter()
        self.process.send_signal(signal.SIGHUP)
        while True:
            line = self.lines.get(timeout=600)
            if "configuration reloaded" in line:
                return time.perf_counter() - started
            if "reload refused" in line:
                raise SystemExit(line)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def edit_latency(server: Server, site: Path, count: int, edit: int) -> float:
    """Edit number `edit`: a device, a user, an EM profile, a device ... in turn."""
    n = (edit * 7919) % count
    path, text = [
        (site / "devices" / f"{mac(n)}.toml", device_text(n, f"Desk {n} edit {edit}")),
        (site / "users" / f"user{n}.toml", user_text(n, f"User {n} edit {edit}")),
        (site / "em_profiles" / f"user{n}.toml", profile_text(n, f"User {n} edit {edit}")),
    ][edit % 3]
    before = server.generation()
    time.sleep(0.3)  # not in the same watcher batch as the previous edit
    started = time.perf_counter()
    atomic_write(path, text)
    server.wait_generation(before)
    took = time.perf_counter() - started
    print(f"  edit {edit} ({path.parent.name}): served after {took:.3f} s", file=sys.stderr, flush=True)
    return took


def measure(count: int, edits: int) -> dict[str, float]:
    print(f"building a site of {count} devices, {count} users ...", file=sys.stderr, flush=True)
    site = build_site(count)
    server = Server(site)
    try:
        startup = server.wait_started()
        startup_cpu = cpu_seconds(server.process.pid)
        rss = rss_mb(server.process.pid, "VmRSS")
        print(
            f"  {count}: started in {startup:.2f} s ({startup_cpu:.2f} s CPU), RSS {rss:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
        before_reload = cpu_seconds(server.process.pid)
        reload_ = server.full_reload()
        reload_cpu = cpu_seconds(server.process.pid) - before_reload
        print(f"  full reload {reload_:.2f} s ({reload_cpu:.2f} s CPU)", file=sys.stderr, flush=True)
        timings = [edit_latency(server, site, count, edit) for edit in range(edits)]
        peak = rss_mb(server.process.pid, "VmHWM")
    finally:
        server.stop()
    return {
        "startup": startup,
        "startup_cpu": startup_cpu,
        "reload_cpu": reload_cpu,
        "rss": rss,
        "peak": peak,
        "reload": reload_,
        "edit_median": statistics.median(timings) if timings else float("nan"),
        "edit_max": max(timings, default=float("nan")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument(
        "--edits", type=int, default=6, help="one-file edits per size (device, user, EM profile in turn)"
    )
    args = parser.parse_args()
    rows = [(count, measure(count, args.edits)) for count in args.sizes]
    print(
        "| devices + users | start-up (CPU) | RSS after start (peak) | full reload, SIGHUP (CPU) "
        "| one-file edit, median (max) |"
    )
    print("|---|---|---|---|---|")
    for count, row in rows:
        print(
            f"| {count:,} + {count:,} | {row['startup']:.2f} s ({row['startup_cpu']:.1f} s) "
            f"| {row['rss']:.0f} MB ({row['peak']:.0f} MB) "
            f"| {row['reload']:.2f} s ({row['reload_cpu']:.1f} s) "
            f"| {row['edit_median']:.3f} s ({row['edit_max']:.3f} s) |"
        )


if __name__ == "__main__":
    main()

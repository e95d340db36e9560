"""Side by side: Apache httpd + mod_auth_digest on static copies of the rendered profiles, a bare
aiohttp handler with a minimal Digest check (bench/bare_server.py), and spaprov with 1 worker.

Run from the repository root (as root, or with apache2 installed):

    python bench/sidebyside.py [--seconds 5] [--runs 3] [--connections 50]

Workloads, each against every server in turn, `--runs` interleaved rounds, medians:
  W1  GET /default.cfg on keep-alive connections (no auth)
  W2  a phone boot: a new connection, GET /mobilephone.cfg -> 401, Digest GET -> 200, close
  W3  a resync: keep-alive, one nonce per connection, nc rising by one per request

The servers run pinned to one core and the load generator to another (sched_setaffinity), all
on 127.0.0.1.  The profiles are rendered with `spaprov render` from a copy of sample_profiles;
every server answers the same bytes and checks the same credentials.htdigest.  Apache is
Debian's `apache2` (installed with apt-get when missing, the script says so), run as `nobody`
from a private ServerRoot in a temporary directory, with an access log like spaprov's.  The
load generator is one asyncio process on raw protocols (uvloop when installed); it prints its
own ceiling (requests per CPU-second it spent) so that one can see it was not the bottleneck.
Each server's CPU time per unit comes from /proc (less noisy than throughput on a shared box).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALM, USER, PASSWORD = "prov.example.com", "alice@example.com", "1234"
MAC = "001122334455"
AGENT = f"Cisco/SPA525G2-7.5.5 ({MAC})(CBT1234567)"
WORKLOADS = ("W1", "W2", "W3")
TITLES = {
    "W1": "W1 default.cfg keep-alive (req/s)",
    "W2": "W2 boot: new conn, 401, Digest 200 (boots/s)",
    "W3": "W3 resync: one nonce, nc+1 (200s/s)",
}
_CHALLENGE = re.compile(rb"(?i)www-authenticate: *Digest ([^\r\n]*)")
_PARAM = re.compile(rb'(\w+)=(?:"([^"]*)"|([^\s,]+))')
_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start listening on {port}")


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        each = todo.pop()
        pids.append(each)
        for task in Path(f"/proc/{each}/task").glob("*/children"):
            todo += [int(child) for child in task.read_text().split()]
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (Apache's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in process_tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


# -- the load generator ------------------------------------------------------------------------------
class Exchange(asyncio.Protocol):
    """One HTTP/1.1 connection: send a request, await (status, head)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[: end + 2]
        match = _LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length :]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((int(head[9:12]), head))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def get(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


def request(path: str, port: int, authorization: str | None = None) -> bytes:
    extra = f"Authorization: {authorization}\r\n" if authorization else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {AGENT}\r\n{extra}\r\n".encode()


@dataclass
class Answerer:
    """Answers a Digest challenge as a phone does (MD5, qop=auth, nc from 1)."""

    path: str
    ha1: str = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    ha2: str = ""
    nonce: str = ""
    opaque: str | None = None
    nc: int = 0
    cnonce: str = field(default_factory=lambda: os.urandom(8).hex())

    def __post_init__(self) -> None:
        self.ha2 = hashlib.md5(f"GET:{self.path}".encode()).hexdigest()

    def challenged(self, head: bytes) -> None:
        match = _CHALLENGE.search(head)
        if match is None:
            raise ValueError("401 without a Digest challenge")
        params = {
            m[1].lower().decode(): (m[2] if m[2] is not None else m[3]).decode()
            for m in _PARAM.finditer(match.group(1))
        }
        self.nonce, self.opaque, self.nc = params["nonce"], params.get("opaque"), 0

    def next(self) -> str:
        self.nc += 1
        nc = f"{self.nc:08x}"
        response = hashlib.md5(
            f"{self.ha1}:{self.nonce}:{nc}:{self.cnonce}:auth:{self.ha2}".encode()
        ).hexdigest()
        opaque = f', opaque="{self.opaque}"' if self.opaque is not None else ""
        return (
            f'Digest username="{USER}", realm="{REALM}", nonce="{self.nonce}", uri="{self.path}", '
            f'algorithm=MD5, response="{response}"{opaque}, qop=auth, nc={nc}, cnonce="{self.cnonce}"'
        )


@dataclass
class Tally:
    units: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


async def connect(port: int) -> Exchange:
    _, protocol = await asyncio.get_running_loop().create_connection(Exchange, "127.0.0.1", port)
    return protocol


async def w1(port: int, deadline: float, tally: Tally) -> None:
    exchange = await connect(port)
    wire = request("/default.cfg", port)
    try:
        while time.perf_counter() < deadline:
            status, _ = await exchange.get(wire)
            tally.requests += 1
            if status != 200:
                tally.errors.append(f"W1 {status}")
                return
            tally.units += 1
    finally:
        assert exchange.transport is not None
        exchange.transport.close()


async def w2(port: int, deadline: float, tally: Tally) -> None:
    first = request("/mobilephone.cfg", port)
    while time.perf_counter() < deadline:
        exchange = await connect(port)
        try:
            status, head = await exchange.get(first)
            tally.requests += 1
            if status != 401:
                tally.errors.append(f"W2 challenge {status}")
                return
            answerer = Answerer("/mobilephone.cfg")
            answerer.challenged(head)
            status, _ = await exchange.get(request("/mobilephone.cfg", port, answerer.next()))
            tally.requests += 1
            if status != 200:
                tally.errors.append(f"W2 {status}")
                return
            tally.units += 1
        finally:
            assert exchange.transport is not None
            exchange.transport.close()


async def w3(port: int, deadline: float, tally: Tally) -> None:
    exchange = await connect(port)
    answerer = Answerer("/mobilephone.cfg")
    try:
        status, head = await exchange.get(request("/mobilephone.cfg", port))
        answerer.challenged(head)
        while time.perf_counter() < deadline:
            status, head = await exchange.get(request("/mobilephone.cfg", port, answerer.next()))
            tally.requests += 1
            if status == 401 and b"stale=true" in head:  # a nonce past its lifetime: take the new one
                answerer.challenged(head)
                continue
            if status != 200:
                tally.errors.append(f"W3 {status}")
                return
            tally.units += 1
    finally:
        assert exchange.transport is not None
        exchange.transport.close()


Runner = Callable[[int, float, Tally], Awaitable[None]]
RUNNERS: dict[str, Runner] = {"W1": w1, "W2": w2, "W3": w3}


async def guarded(runner: Runner, port: int, deadline: float, tally: Tally) -> None:
    try:
        await runner(port, deadline, tally)
    except (OSError, ValueError) as error:  # ConnectionError is an OSError
        tally.errors.append(f"{type(error).__name__}: {error}")


@dataclass
class Result:
    units_per_s: float
    requests_per_s: float
    server_cpu_us: float  # per unit
    client_ceiling: float  # units per client CPU-second
    errors: list[str]


async def drive(workload: str, port: int, connections: int, seconds: float, pid: int) -> Result:
    def runner(port: int, deadline: float, tally: Tally) -> Awaitable[None]:
        return guarded(RUNNERS[workload], port, deadline, tally)

    warm = Tally()
    await asyncio.gather(*(runner(port, time.perf_counter() + 0.5, warm) for _ in range(connections)))
    tally = Tally()
    cpu_before, client_before = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(runner(port, started + seconds, tally) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - cpu_before
    client_cpu = time.process_time() - client_before
    units = max(tally.units, 1)
    return Result(
        tally.units / elapsed,
        tally.requests / elapsed,
        server_cpu / units * 1e6,
        units / client_cpu if client_cpu else float("inf"),
        warm.errors + tally.errors,
    )


def run_load(workload: str, port: int, connections: int, seconds: float, pid: int, core: int) -> Result:
    os.sched_setaffinity(0, {core})
    try:
        import uvloop

        return uvloop.run(drive(workload, port, connections, seconds, pid))
    except ImportError:
        return asyncio.run(drive(workload, port, connections, seconds, pid))


# -- the servers -------------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def ensure_apache() -> Path:
    binary = Path("/usr/sbin/apache2")
    if binary.exists():
        return binary
    if os.geteuid() != 0:
        raise SystemExit("apache2 is not installed: run `apt-get install -y apache2` as root, then again")
    print(
        "apache2 is not installed: installing Debian's package (apt-get install -y apache2) ...", flush=True
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "apache2"], env=env, check=False).returncode:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "apache2"], env=env, check=True)
    # Debian starts the system's own apache2 after installing it: that one is not ours to keep.
    subprocess.run(["service", "apache2", "stop"], check=False, capture_output=True)
    return binary


APACHE_CONF = """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
DefaultRuntimeDir "{root}"
Mutex file:{root} default
ErrorLog "{root}/error.log"
LogLevel warn
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule auth_digest_module {modules}/mod_auth_digest.so
LoadModule mime_module {modules}/mod_mime.so
# One process on one core (taskset); threads enough for every connection of the load generator.
StartServers 1
ServerLimit 1
ThreadsPerChild {threads}
MaxRequestWorkers {threads}
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/access.log" common
DocumentRoot "{docs}"
TypesConfig /dev/null
AddType text/xml .cfg
<Directory "{docs}">
    Require all granted
</Directory>
<Files ~ "^(mobilephone|hostphone)\\.cfg$">
    AuthType Digest
    AuthName "{realm}"
    AuthDigestDomain /
    AuthDigestProvider file
    AuthUserFile "{htdigest}"
    AuthDigestNonceLifetime 300
    Require valid-user
</Files>
"""


def start_apache(workdir: Path, docs: Path, htdigest: Path, core: int, threads: int) -> Server:
    binary = ensure_apache()
    root = workdir / "apache"
    root.mkdir()
    port = free_port()
    (root / "httpd.conf").write_text(
        APACHE_CONF.format(
            root=root,
            port=port,
            modules="/usr/lib/apache2/modules",
            threads=threads,
            docs=docs,
            htdigest=htdigest,
            realm=REALM,
        )
    )
    command = ["taskset", "-c", str(core), str(binary), "-f", str(root / "httpd.conf"), "-DFOREGROUND"]
    if os.geteuid() == 0:  # never run a network server as root: as nobody, in its own directory
        nobody = pwd.getpwnam("nobody")
        for path in (workdir, root, docs, *docs.iterdir(), htdigest):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        command = ["runuser", "-u", "nobody", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port, process, "apache2")
    return Server("Apache httpd + mod_auth_digest", port, process)


def start_bare(docs: Path, htdigest: Path, core: int) -> Server:
    port = free_port()
    command = [
        "taskset", "-c", str(core), sys.executable, str(ROOT / "bench" / "bare_server.py"), str(port),
        "--files", str(docs), "--htdigest", str(htdigest), "--realm", REALM,
        "--digest", "/mobilephone.cfg", "--digest", "/hostphone.cfg",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port, process, "bare aiohttp")
    return Server("bare aiohttp + minimal Digest", port, process)


def start_spaprov(site: Path, core: int, log: Path, log_level: str, tree: Path = ROOT) -> Server:
    """spaprov serve from the source tree `tree` (another checkout: a before/after comparison)."""
    port = free_port()
    command = [
        "taskset", "-c", str(core), sys.executable, "-m", "spaprov", "serve", "--profiles", str(site),
        "--port", str(port), "--log-level", log_level,
    ]  # fmt: skip
    with log.open("ab") as sink:  # the access log goes to a real file, as in production
        env = {**os.environ, "PYTHONPATH": str(tree)}
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    wait_for(port, process, "spaprov")
    label = "" if tree == ROOT else f" from {tree.name}"
    return Server(f"spaprov 1 worker ({log_level} log){label}", port, process)


def render_profiles(site: Path, docs: Path) -> None:
    docs.mkdir()
    spaprov = [sys.executable, "-m", "spaprov", "render", "--profiles", str(site), "--device", MAC]
    for name, extra in (
        ("default.cfg", ["--kind", "default"]),
        ("hostphone.cfg", ["--kind", "host"]),
        ("mobilephone.cfg", ["--kind", "mobile", "--user", "alice"]),
    ):
        body = subprocess.run([*spaprov, *extra], cwd=ROOT, check=True, capture_output=True).stdout
        (docs / name).write_bytes(body)


# -- the table ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="measured seconds per run (after 0.5 s warm-up)"
    )
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (medians are printed)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workloads", default="W1,W2,W3")
    parser.add_argument(
        "--log-level", default="INFO", help="spaprov's --log-level (INFO: an access line each)"
    )
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument(
        "--also-tree",
        type=Path,
        help="another spaprov source tree to measure too (before/after), e.g. `git archive main` unpacked",
    )
    args = parser.parse_args()
    workloads = [w for w in args.workloads.split(",") if w in RUNNERS]
    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True
    )
    with tempfile.TemporaryDirectory(prefix="spaprov-sidebyside-") as temporary:
        workdir = Path(temporary)
        os.chmod(workdir, 0o755)
        site = workdir / "site"
        shutil.copytree(ROOT / "sample_profiles", site)
        docs = workdir / "docs"
        render_profiles(site, docs)
        htdigest = workdir / "credentials.htdigest"
        shutil.copy(site / "credentials.htdigest", htdigest)
        os.chmod(htdigest, 0o600)
        servers = [
            start_apache(workdir, docs, htdigest, args.server_core, 2 * args.connections + 28),
            start_bare(docs, htdigest, args.server_core),
            start_spaprov(site, args.server_core, workdir / "spaprov.log", args.log_level),
        ]
        if args.also_tree:
            other = workdir / "site-other"
            shutil.copytree(ROOT / "sample_profiles", other)
            tree = args.also_tree.resolve()
            log = workdir / "other.log"
            servers.append(start_spaprov(other, args.server_core, log, args.log_level, tree))
        results: dict[tuple[str, str], list[Result]] = {}
        try:
            for server in servers:  # alice logs in on the phone once: the runs measure resyncs
                primed = run_load("W3", server.port, 1, 0.2, server.process.pid, args.client_core)
                if primed.errors:
                    raise SystemExit(f"{server.name} refused the first login: {primed.errors[:3]}")
            for run in range(args.runs):
                for workload in workloads:
                    for server in servers if run % 2 == 0 else servers[::-1]:
                        result = run_load(
                            workload,
                            server.port,
                            args.connections,
                            args.seconds,
                            server.process.pid,
                            args.client_core,
                        )
                        results.setdefault((server.name, workload), []).append(result)
                        errors = (
                            f"  ERRORS {len(result.errors)}: {result.errors[:3]}" if result.errors else ""
                        )
                        print(
                            f"run {run + 1} {workload} {server.name:34} {result.units_per_s:9,.0f}/s  "
                            f"{result.server_cpu_us:6.0f} µs CPU/unit  load generator ceiling "
                            f"{result.client_ceiling:9,.0f}/s{errors}",
                            flush=True,
                        )
            lines = (workdir / "spaprov.log").read_text(errors="replace").count(" spaprov.access: ")
        finally:
            for server in servers:
                server.stop()
    report(servers, workloads, results, args, lines)


def report(
    servers: list[Server],
    workloads: list[str],
    results: dict[tuple[str, str], list[Result]],
    args: argparse.Namespace,
    access_lines: int,
) -> None:
    def median(name: str, workload: str, attribute: str) -> float:
        return float(statistics.median(getattr(r, attribute) for r in results[(name, workload)]))

    print()
    print(
        f"median of {args.runs} interleaved runs, {args.seconds:.0f} s each, {args.connections} connections; "
        f"servers on core {args.server_core}, load generator on core {args.client_core}; "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    print("| server | " + " | ".join(TITLES[w] for w in workloads) + " | µs server CPU per unit |")
    print("|---|" + "---|" * len(workloads) + "---|")
    for server in servers:
        cells = [f"{median(server.name, w, 'units_per_s'):,.0f}" for w in workloads]
        cpu = " / ".join(f"{median(server.name, w, 'server_cpu_us'):.0f}" for w in workloads)
        print(f"| {server.name} | " + " | ".join(cells) + f" | {cpu} |")
    ceiling = " / ".join(
        f"{min(median(s.name, w, 'client_ceiling') for s in servers):,.0f}" for w in workloads
    )
    print(f"load generator ceiling (units per CPU-second it spent, lowest): {ceiling}")
    apache, bare, ours = (s.name for s in servers[:3])
    for label, other in (("Apache", apache), ("bare", bare)):
        ratios = []
        for w in workloads:
            speed = median(ours, w, "units_per_s") / median(other, w, "units_per_s")
            cost = median(other, w, "server_cpu_us") / median(ours, w, "server_cpu_us")
            ratios.append(f"{w} {speed:.2f}x (per CPU-second {cost:.2f}x)")
        print(f"spaprov / {label}: " + ", ".join(ratios))
    for server in servers[3:]:
        cells = []
        for w in workloads:
            speed = median(ours, w, "units_per_s") / median(server.name, w, "units_per_s")
            cost = median(server.name, w, "server_cpu_us") / median(ours, w, "server_cpu_us")
            cells.append(f"{w} {speed:.2f}x (per CPU-second {cost:.2f}x)")
        print(f"spaprov / {server.name}: " + ", ".join(cells))
    print(f"spaprov access-log lines written: {access_lines:,}")


if __name__ == "__main__":
    main()

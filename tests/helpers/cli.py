"""The `spaprov` command run as a subprocess: one-shot commands and `spaprov serve` until a test is
done with it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.site import ROOT, free_port


def spaprov(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spaprov", *args], capture_output=True, text=True, timeout=120
    )


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process, self.url = process, url


def serve(*args: str, port: int | None = None) -> Iterator[Served]:
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "spaprov", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
    scheme = "https" if "--tls-cert" in args else "http"
    try:
        yield Served(process, f"{scheme}://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for_listeners(url: str, count: int) -> None:
    """serve() returns once one worker listens; on a loaded machine the other may still be
    starting, and every connection would go to the first.  Wait for `count` listening sockets
    on the port (Linux /proc/net/tcp: state 0A is LISTEN)."""
    port = f"{int(url.rsplit(':', 1)[1]):04X}"
    deadline = time.monotonic() + 30
    while True:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
        listening = [
            line for line in lines if line.split()[1].endswith(f":{port}") and line.split()[3] == "0A"
        ]
        if len(listening) >= count:
            return
        assert time.monotonic() < deadline, f"only {len(listening)} of {count} workers listen"
        time.sleep(0.1)

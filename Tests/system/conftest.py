"""Process-level tests of warren-server itself: flags, configuration errors, signals.

These are Warren-only (they test our executable, not AMQP behaviour), so they live outside
Conformance/. The binary comes from WARREN_SERVER or .build/release|debug/warren-server.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Conformance"))

from brokers import warren_binary  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc = proc
        self.port = port
        self.url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def binary() -> str:
    path = warren_binary()
    if path is None:
        pytest.skip("no warren-server binary (build with `make release`)")
    return path


def launch(binary: str, data_dir, *args: str) -> Server:
    """Starts warren-server on a free loopback port and waits for its ready line. The log goes to
    a file next to the data directory: a pipe nobody reads would fill up and stall the broker."""
    port = free_port()
    log_path = f"{data_dir}.{port}.log"
    # The management and Prometheus listeners are on by default (15672, 15692): free ports instead.
    http_ports = ["--management-port", str(free_port()), "--prometheus-port", str(free_port())]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--data-dir", str(data_dir),
             *http_ports, *args],
            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        with open(log_path) as log:
            raise AssertionError(f"no ready line; got {line!r}; log: {log.read()[-2000:]}")
    return Server(proc, port)


@pytest.fixture
def start_server(binary, tmp_path):
    started = []

    def start(*args: str) -> Server:
        server = launch(binary, tmp_path / "data", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def run_server(binary: str, *args: str, timeout: float = 10) -> subprocess.CompletedProcess:
    """Runs warren-server expecting it to exit by itself (bad configuration)."""
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)


def wait_exit(proc: subprocess.Popen, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc.returncode
        time.sleep(0.05)
    raise AssertionError("warren-server did not exit")

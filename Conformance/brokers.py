"""Start and stop throwaway brokers on loopback for tests and benchmarks.

    from brokers import start_rabbitmq, start_warren, warren_binary

    b = start_rabbitmq("/tmp/rmq")          # its own node, ports, epmd, data, logs
    try:
        ... connect to b.url / b.host:b.port ...
    finally:
        b.stop()

RabbitMQ is run as a private node (own node name, AMQP port, distribution port,
epmd port, mnesia/log dirs, config and cookie), so it neither depends on nor
disturbs a system node on 5672 that apt may have started. Works as root.

Warren is run as `warren-server --port PORT --bind 127.0.0.1 --data-dir DIR`;
it is ready when it prints a line containing "ready" or its port accepts an
AMQP handshake.

Both take `definitions=`: a dict in RabbitMQ's definitions-export format (sections "policies",
"operator_policies" (a Warren extension), "queues", "exchanges", "bindings"; every entry carries its
"vhost"), written to <workdir>/definitions.json and loaded at start-up, before clients can connect:
RabbitMQ via `load_definitions = FILE` in rabbitmq.conf, Warren via `--import-definitions FILE`.
For RabbitMQ the file is adapted (see _rabbitmq_definitions): 3.10 ignores "operator_policies", so
they become "parameters" of component "operator_policy"; and a node given definitions does not seed
the default vhost and user, so "/" and guest/guest (administrator, all permissions) are added
unless the dict has its own "vhosts"/"users"/"permissions".

Brokers are stopped at interpreter exit (atexit), and the kernel kills them if the thread that
started them dies (PR_SET_PDEATHSIG), so start brokers from a long-lived thread (e.g. the main one).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import weakref
import atexit
import base64
import hashlib
import json
from typing import Optional, Sequence

__all__ = ["Broker", "BrokerStartError", "start_rabbitmq", "start_warren",
           "warren_binary", "free_port", "http_api_ok", "REPO_ROOT"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RABBITMQ_SBIN = "/usr/lib/rabbitmq/bin"


class BrokerStartError(RuntimeError):
    pass


def _die_with_parent(sig: int = signal.SIGTERM):
    """preexec_fn: have the kernel send sig to the child if the process that started it dies
    (so a SIGKILLed test run leaves no broker behind). Linux only; a no-op elsewhere."""
    def preexec() -> None:
        try:
            import ctypes
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:
            pass
    return preexec


_LIVE: "weakref.WeakSet[Broker]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for b in list(_LIVE):
        try:
            b.stop(grace=10)
        except Exception:
            pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def answers_connection_start(s: socket.socket) -> bool:
    """Sends the AMQP 0-9-1 header on a connected (plain or TLS) socket; True if a
    connection.start frame comes back."""
    s.sendall(b"AMQP\x00\x00\x09\x01")
    buf = b""
    while len(buf) < 11:
        chunk = s.recv(4096)
        if not chunk:
            return False
        buf += chunk
    ftype, channel, size = struct.unpack(">BHI", buf[:7])
    cls, meth = struct.unpack(">HH", buf[7:11])
    return ftype == 1 and channel == 0 and (cls, meth) == (10, 10)


def amqp_handshake_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if host:port answers an AMQP 0-9-1 header with a connection.start frame."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return answers_connection_start(s)
    except OSError:
        return False


def _tail(path: str, n: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return f"<no log at {path}: {e}>"


def _kill_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group of proc, wait up to grace seconds, then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left in the group (leader already gone, or ignoring TERM).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class Broker:
    """A running broker on loopback."""

    def __init__(self, name: str, host: str, port: int, proc: subprocess.Popen,
                 workdir: str, log_path: str, helpers: Sequence[subprocess.Popen] = (),
                 node: Optional[str] = None, env: Optional[dict] = None):
        self.name = name
        self.host = host
        self.port = port
        self.url = f"amqp://guest:guest@{host}:{port}/%2F"
        self.pid = proc.pid
        self.workdir = workdir
        self.log_path = log_path
        self.node = node          # Erlang node name (RabbitMQ only)
        self.env = env            # environment to use with rabbitmqctl (RabbitMQ only)
        self.management_port: Optional[int] = None   # HTTP API (RabbitMQ: only with management=True)
        self.prometheus_port: Optional[int] = None   # /metrics (RabbitMQ: only with management=True)
        self._proc = proc
        self._helpers = list(helpers)
        self._lock = threading.Lock()
        self._stopped = False
        _LIVE.add(self)

    def __repr__(self) -> str:
        return f"<Broker {self.name} {self.host}:{self.port} pid={self.pid}>"

    def __enter__(self) -> "Broker":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def log_tail(self, n: int = 40) -> str:
        return _tail(self.log_path, n)

    def stop(self, grace: float = 20.0) -> None:
        """Graceful stop: SIGTERM, wait, then SIGKILL. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        _kill_group(self._proc, grace)
        for h in self._helpers:
            _kill_group(h, 5.0)

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """Run rabbitmqctl against this private node (RabbitMQ only)."""
        if self.node is None:
            raise RuntimeError(f"{self.name} has no rabbitmqctl")
        return subprocess.run([os.path.join(RABBITMQ_SBIN, "rabbitmqctl"), "-n", self.node, *args],
                              env=self.env, capture_output=True, text=True, timeout=timeout)


def _wait_ready(proc: subprocess.Popen, host: str, port: int, timeout: float,
                log_path: str, what: str, ready_event: Optional[threading.Event] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerStartError(
                f"{what} exited with status {proc.returncode} before becoming ready; "
                f"log tail ({log_path}):\n{_tail(log_path)}")
        if ready_event is not None and ready_event.is_set():
            # Printed "ready": still confirm the port really speaks AMQP.
            if amqp_handshake_ok(host, port, timeout=2.0):
                return
        elif amqp_handshake_ok(host, port, timeout=2.0):
            return
        time.sleep(0.2)
    raise BrokerStartError(
        f"{what} not ready on {host}:{port} after {timeout:.0f}s; log tail ({log_path}):\n{_tail(log_path)}")


def http_api_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if GET http://host:port/api/overview with guest:guest answers 200."""
    import urllib.request
    req = urllib.request.Request(f"http://{host}:{port}/api/overview", headers={
        "Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return r.status == 200
    except Exception:
        return False


def _wait_http(broker: "Broker", timeout: float) -> None:
    """Wait until broker.management_port answers GET /api/overview with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not broker.alive():
            raise BrokerStartError(f"{broker.name} exited before its management API answered; "
                                   f"log tail ({broker.log_path}):\n{broker.log_tail()}")
        if http_api_ok(broker.host, broker.management_port):
            return
        time.sleep(0.2)
    raise BrokerStartError(f"{broker.name}: GET /api/overview on {broker.host}:{broker.management_port} "
                           f"did not answer 200 within {timeout:.0f}s; log tail ({broker.log_path}):\n"
                           f"{broker.log_tail()}")


def _write_definitions(workdir: str, definitions: dict) -> str:
    path = os.path.join(workdir, "definitions.json")
    with open(path, "w") as f:
        json.dump(definitions, f, indent=1, sort_keys=True)
    return path


def _guest_password_hash() -> str:
    """rabbit_password_hashing_sha256 hash of "guest": base64(salt ++ sha256(salt ++ password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + b"guest").digest()).decode()


def _rabbitmq_definitions(definitions: dict) -> dict:
    """What RabbitMQ 3.10 needs to load the same definitions as Warren.

    * 3.10's import knows no "operator_policies" section (silently ignored): an operator policy is
      a runtime parameter of component "operator_policy", and "parameters" are imported (after
      "policies", before "queues") through the same validation as `rabbitmqctl set_operator_policy`.
    * A node with definitions to load does not seed the default vhost and user ("Will not seed
      default virtual host and user: have definitions to load"), and an import into a missing
      vhost fails silently; so add "/" and guest/guest unless the caller brings their own.
    """
    d = dict(definitions)
    ops = d.pop("operator_policies", None) or []
    if ops:
        params = list(d.get("parameters") or [])
        for p in ops:
            value = {"pattern": p["pattern"], "definition": p["definition"],
                     "priority": p.get("priority", 0), "apply-to": p.get("apply-to", "all")}
            params.append({"vhost": p.get("vhost", "/"), "component": "operator_policy",
                           "name": p["name"], "value": value})
        d["parameters"] = params
    d.setdefault("vhosts", [{"name": "/"}])
    d.setdefault("users", [{"name": "guest", "password_hash": _guest_password_hash(),
                            "hashing_algorithm": "rabbit_password_hashing_sha256",
                            "tags": "administrator"}])
    d.setdefault("permissions", [{"user": "guest", "vhost": "/", "configure": ".*",
                                  "write": ".*", "read": ".*"}])
    return d


def start_rabbitmq(workdir: str, port: Optional[int] = None, timeout: float = 90.0, *,
                   definitions: Optional[dict] = None, config_lines: Sequence[str] = (),
                   plugins: Sequence[str] = (), bind: str = "127.0.0.1",
                   management: bool = False) -> Broker:
    """Start a private RabbitMQ node whose state lives under workdir; definitions (a dict in the
    definitions-export format) are loaded at boot, before the AMQP listener opens.

    config_lines are appended to rabbitmq.conf (e.g. "listeners.ssl.default = 5671"), plugins
    are enabled (e.g. "rabbitmq_auth_mechanism_ssl"), and bind is the AMQP listener's address
    ("0.0.0.0" for every interface).

    management=True also enables rabbitmq_management and rabbitmq_prometheus on free loopback
    ports (broker.management_port, broker.prometheus_port; None otherwise) and returns only once
    GET /api/overview answers 200."""
    server = os.path.join(RABBITMQ_SBIN, "rabbitmq-server")
    if not os.path.exists(server):
        found = shutil.which("rabbitmq-server")
        if not found:
            raise BrokerStartError("rabbitmq-server not installed (apt-get install rabbitmq-server)")
        server = found
    epmd = shutil.which("epmd") or next(
        (os.path.join(d, "epmd") for d in sorted(
            os.path.join("/usr/lib/erlang", e, "bin") for e in
            (os.listdir("/usr/lib/erlang") if os.path.isdir("/usr/lib/erlang") else [])
            if e.startswith("erts-"))
         if os.path.exists(os.path.join(d, "epmd"))), None)
    if epmd is None:
        raise BrokerStartError("epmd not found (erlang-base missing?)")

    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    amqp_port, dist_port, epmd_port, mgmt_port, prom_port = (
        _free_ports(5) if port is None else [port] + _free_ports(4))
    if management:
        plugins = [*plugins, *(p for p in ("rabbitmq_management", "rabbitmq_prometheus")
                               if p not in plugins)]
    node = f"warren-conf-{os.getpid()}-{amqp_port}@localhost"
    mnesia = os.path.join(workdir, "mnesia")
    logs = os.path.join(workdir, "log")
    os.makedirs(mnesia, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    conf = os.path.join(workdir, "rabbitmq.conf")
    with open(conf, "w") as f:
        f.write(
            f"listeners.tcp.default = {bind}:{amqp_port}\n"
            "loopback_users.guest = true\n"
            "log.console = false\n"
            "log.file.level = info\n"
            # Plenty of disk/memory headroom so alarms never block publishers in tests.
            "disk_free_limit.absolute = 50MB\n"
            "vm_memory_high_watermark.relative = 0.8\n")
        if definitions is not None:
            f.write(f"load_definitions = {_write_definitions(workdir, _rabbitmq_definitions(definitions))}\n")
        if management:
            f.write(f"management.tcp.port = {mgmt_port}\n"
                    "management.tcp.ip = 127.0.0.1\n"
                    f"prometheus.tcp.port = {prom_port}\n"
                    "prometheus.tcp.ip = 127.0.0.1\n")
        for line in config_lines:
            f.write(line + "\n")
    enabled_plugins = os.path.join(workdir, "enabled_plugins")
    with open(enabled_plugins, "w") as f:
        f.write("[" + ",".join(plugins) + "].\n")
    cookie = os.path.join(workdir, ".erlang.cookie")
    if not os.path.exists(cookie):
        with open(cookie, "w") as f:
            f.write("WARRENCONFORMANCE" + str(os.getpid()))
        os.chmod(cookie, 0o400)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
    env.update({
        "HOME": workdir,
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_IP_ADDRESS": bind,
        "RABBITMQ_NODE_PORT": str(amqp_port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_MNESIA_BASE": mnesia,
        "RABBITMQ_MNESIA_DIR": os.path.join(mnesia, node),
        "RABBITMQ_LOG_BASE": logs,
        "RABBITMQ_CONFIG_FILE": conf,
        "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(workdir, "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": os.path.join(workdir, "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": enabled_plugins,
        "RABBITMQ_PLUGINS_EXPAND_DIR": os.path.join(workdir, "plugins-expand"),
        "RABBITMQ_PID_FILE": os.path.join(workdir, "rabbitmq.pid"),
        "RABBITMQ_FEATURE_FLAGS_FILE": os.path.join(workdir, "feature_flags"),
        "RABBITMQ_QUORUM_DIR": os.path.join(mnesia, node, "quorum"),
        "RABBITMQ_STREAM_DIR": os.path.join(mnesia, node, "stream"),
        "RABBITMQ_CTL_DIST_PORT_MIN": str(dist_port + 1000 if dist_port < 60000 else dist_port - 1000),
        "RABBITMQ_SERVER_START_ARGS": f"-kernel inet_dist_use_interface {{127,0,0,1}}",
    })
    env["RABBITMQ_CTL_DIST_PORT_MAX"] = str(int(env["RABBITMQ_CTL_DIST_PORT_MIN"]) + 10)
    with open(env["RABBITMQ_ADVANCED_CONFIG_FILE"], "w") as f:
        f.write("[].\n")
    open(env["RABBITMQ_CONF_ENV_FILE"], "w").close()  # don't read /etc/rabbitmq/rabbitmq-env.conf

    log_path = os.path.join(workdir, "rabbitmq-stdout.log")
    epmd_log = open(os.path.join(workdir, "epmd.log"), "ab")
    # Our own epmd on a private port, so we never talk to (or start) the system one.
    epmd_proc = subprocess.Popen([epmd, "-port", str(epmd_port), "-address", "127.0.0.1"],
                                 stdin=subprocess.DEVNULL, stdout=epmd_log, stderr=subprocess.STDOUT,
                                 env=env, cwd=workdir, start_new_session=True,
                                 preexec_fn=_die_with_parent(signal.SIGKILL))
    epmd_log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", epmd_port), timeout=1).close()
            break
        except OSError:
            if epmd_proc.poll() is not None:
                raise BrokerStartError(f"epmd exited: {_tail(os.path.join(workdir, 'epmd.log'))}")
            time.sleep(0.05)

    out = open(log_path, "ab")
    proc = subprocess.Popen([server], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            env=env, cwd=workdir, start_new_session=True,
                            preexec_fn=_die_with_parent(signal.SIGTERM))
    out.close()
    host = "127.0.0.1" if bind in ("0.0.0.0", "127.0.0.1") else bind
    broker = Broker("rabbitmq", host, amqp_port, proc, workdir,
                    log_path=os.path.join(logs, f"{node}.log"), helpers=[epmd_proc],
                    node=node, env=env)
    if management:
        broker.management_port, broker.prometheus_port = mgmt_port, prom_port
    try:
        started = time.monotonic()
        _wait_ready(proc, host, amqp_port, timeout, log_path, "rabbitmq-server")
        if management:
            _wait_http(broker, max(10.0, timeout - (time.monotonic() - started)))
    except BaseException as e:
        broker.stop(grace=5)
        if isinstance(e, BrokerStartError):
            raise BrokerStartError(f"{e}\nnode log tail:\n{_tail(broker.log_path)}") from None
        raise
    return broker


def warren_binary() -> Optional[str]:
    """env WARREN_SERVER, else <repo>/.build/release/warren-server, else .build/debug/warren-server."""
    env = os.environ.get("WARREN_SERVER")
    if env:
        return env if os.path.exists(env) else None
    for cfg in ("release", "debug"):
        p = os.path.join(REPO_ROOT, ".build", cfg, "warren-server")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def start_warren(workdir: str, port: Optional[int] = None, binary: Optional[str] = None,
                 extra_args: Sequence[str] = (), timeout: float = 30.0, *,
                 definitions: Optional[dict] = None, config_lines: Sequence[str] = (),
                 bind: str = "127.0.0.1", management: bool = False) -> Broker:
    """Start warren-server with its data under workdir; definitions (a dict in the
    definitions-export format) are written to a file loaded with --import-definitions.

    config_lines (rabbitmq.conf syntax, the same keys as for RabbitMQ) are written to
    warren.conf and passed with --config; --port and --bind (bind: the AMQP listener's address)
    override its listeners.tcp.default.

    Warren's management (HTTP API) and Prometheus listeners are on by default (15672, 15692), so
    they are always moved to free ports with --management-port/--prometheus-port
    (broker.management_port, broker.prometheus_port); management=True also waits until
    GET /api/overview answers 200."""
    binary = binary or warren_binary()
    if binary is None:
        raise BrokerStartError("warren-server binary not found (set WARREN_SERVER or build it)")
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    data = os.path.join(workdir, "data")
    os.makedirs(data, exist_ok=True)
    port = port or free_port()
    mgmt_port, prom_port = _free_ports(2)
    log_path = os.path.join(workdir, "warren.log")
    logf = open(log_path, "ab")
    cmd = [binary, "--port", str(port), "--bind", bind, "--data-dir", data,
           "--management-port", str(mgmt_port), "--prometheus-port", str(prom_port), *extra_args]
    if config_lines:
        conf = os.path.join(workdir, "warren.conf")
        with open(conf, "w") as f:
            f.write("".join(line + "\n" for line in config_lines))
        cmd += ["--config", conf]
    if definitions is not None:
        cmd += ["--import-definitions", _write_definitions(workdir, definitions)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
                            preexec_fn=_die_with_parent(signal.SIGKILL))
    ready = threading.Event()

    def pump() -> None:
        # Copy output to the log (forever, so the pipe never fills) and watch for "ready".
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, b""):
            logf.write(line)
            logf.flush()
            if b"ready" in line:
                ready.set()
        logf.close()

    threading.Thread(target=pump, name=f"warren-log-{port}", daemon=True).start()
    host = "127.0.0.1" if bind in ("0.0.0.0", "127.0.0.1") else bind
    broker = Broker("warren", host, port, proc, workdir, log_path=log_path)
    broker.management_port, broker.prometheus_port = mgmt_port, prom_port
    try:
        started = time.monotonic()
        _wait_ready(proc, host, port, timeout, log_path, "warren-server", ready)
        if management:
            _wait_http(broker, max(5.0, timeout - (time.monotonic() - started)))
    except BaseException:
        broker.stop(grace=5)
        raise
    return broker


if __name__ == "__main__":  # manual smoke test: python3 brokers.py [rabbitmq|warren] [--management]
    import sys
    import tempfile
    which = sys.argv[1] if len(sys.argv) > 1 else "rabbitmq"
    d = tempfile.mkdtemp(prefix=f"{which}-")
    t = time.monotonic()
    mgmt = "--management" in sys.argv
    b = start_rabbitmq(d, management=mgmt) if which == "rabbitmq" else start_warren(d, management=mgmt)
    print(f"{b!r} url={b.url} up in {time.monotonic() - t:.1f}s (workdir {d}) "
          f"management={b.management_port} prometheus={b.prometheus_port}")
    b.stop()
    print("stopped")

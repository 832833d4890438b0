"""Differential conformance suite: every test runs once per broker (RabbitMQ, Warren).

Env:
  CONFORMANCE_BROKERS      comma list, default "rabbitmq,warren"
  WARREN_SERVER            path to warren-server (else .build/{release,debug}/warren-server)
  CONFORMANCE_RABBITMQ_PORT / CONFORMANCE_WARREN_PORT
                           use an already running broker on 127.0.0.1:PORT instead of starting one
  CONFORMANCE_WORKDIR      where broker state and logs go (default: pytest tmp dir)
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections import defaultdict

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import brokers  # noqa: E402

KNOWN = ("rabbitmq", "warren")


def _selected() -> list[str]:
    names = [n.strip() for n in os.environ.get("CONFORMANCE_BROKERS", "rabbitmq,warren").split(",") if n.strip()]
    bad = [n for n in names if n not in KNOWN]
    if bad:
        raise pytest.UsageError(f"CONFORMANCE_BROKERS: unknown broker(s) {bad}; known: {KNOWN}")
    return names


class _External:
    """A broker somebody else started (CONFORMANCE_<NAME>_PORT)."""

    def __init__(self, name: str, port: int):
        self.name, self.host, self.port = name, "127.0.0.1", port
        self.url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
        self.pid = -1
        self.log_path = "<external>"

    def alive(self) -> bool:
        return True

    def log_tail(self, n: int = 40) -> str:
        return "<external broker: no log>"

    def stop(self) -> None:
        pass


class _Server:
    """Session-level holder; restarts the broker if a test crashed it, so one crash
    doesn't turn every following test into a connection error."""

    def __init__(self, name: str, workdir_factory):
        self.name = name
        self._workdir_factory = workdir_factory
        self.broker = None
        self.crashes: list[str] = []

    def start(self):
        ext = os.environ.get(f"CONFORMANCE_{self.name.upper()}_PORT")
        if ext:
            self.broker = _External(self.name, int(ext))
            return
        base = os.environ.get("CONFORMANCE_WORKDIR")
        if base:
            workdir = os.path.join(base, f"{self.name}-{len(self.crashes)}")
        else:
            workdir = str(self._workdir_factory.mktemp(self.name))
        if self.name == "rabbitmq":
            self.broker = brokers.start_rabbitmq(workdir)
        else:
            self.broker = brokers.start_warren(workdir)

    def ensure_alive(self, nodeid: str):
        b = self.broker
        if b is None:
            return b
        if not b.alive():
            problem = "died"
        elif not brokers.amqp_handshake_ok(b.host, b.port, timeout=5.0):
            problem = "stopped answering the AMQP handshake"
        else:
            return b
        self.crashes.append(f"{self.name} {problem} before {nodeid}; log tail:\n{b.log_tail()}")
        if isinstance(b, _External):
            pytest.fail(f"external {self.name} broker {problem}")
        b.stop()
        self.start()
        return self.broker

    def stop(self):
        if self.broker is not None:
            self.broker.stop()


_SERVERS: dict[str, _Server] = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "warren_extension(reason): Warren deliberately goes beyond RabbitMQ 3.10 here; "
        "the test must pass on Warren and is a strict xfail on RabbitMQ")
    # Turn SIGTERM (CI timeouts, `timeout`, kill) into KeyboardInterrupt so fixtures tear down and
    # the brokers we started are stopped instead of orphaned.
    import signal

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, on_term)


@pytest.fixture(scope="session", params=_selected())
def _broker_server(request, tmp_path_factory):
    name = request.param
    if name == "warren" and not os.environ.get("CONFORMANCE_WARREN_PORT") and brokers.warren_binary() is None:
        pytest.skip("warren-server binary not found (build it, or set WARREN_SERVER)")
    if name == "rabbitmq" and not os.environ.get("CONFORMANCE_RABBITMQ_PORT") \
            and not os.path.exists(os.path.join(brokers.RABBITMQ_SBIN, "rabbitmq-server")):
        pytest.skip("rabbitmq-server not installed (apt-get install rabbitmq-server)")
    server = _Server(name, tmp_path_factory)
    server.start()
    _SERVERS[name] = server
    yield server
    server.stop()


@pytest.fixture
def broker(_broker_server, request):
    """The broker under test (a brokers.Broker: name, host, port, url)."""
    b = _broker_server.ensure_alive(request.node.nodeid)
    yield b
    if not b.alive():
        pytest.fail(f"{b.name} died during this test; log tail:\n{b.log_tail()}")


# ------------------------------------------------------------------ client fixtures

class _TeardownTimeout(Exception):
    pass


def _bounded_close(close, abort, seconds: float = 5.0) -> None:
    """Graceful close, but never let a broker that doesn't answer close-ok hang the teardown
    (pytest-timeout no longer guards teardown once the test itself timed out)."""
    import signal

    def on_alarm(signum, frame):
        raise _TeardownTimeout()

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, _interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        close()
    except _TeardownTimeout:
        try:
            abort()
        except Exception:
            pass
    except Exception:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:  # re-arm whatever timer (pytest-timeout's) was running
            signal.setitimer(signal.ITIMER_REAL, max(0.001, old_delay - (time.monotonic() - started)))


def _abort_pika(conn) -> None:
    sock = getattr(getattr(conn._impl, "_transport", None), "_sock", None)
    if sock is not None:
        sock.close()


def _abort_py_amqp(conn) -> None:
    sock = getattr(getattr(conn, "transport", None), "sock", None)
    if sock is not None:
        sock.close()


def pika_params(broker, **kw):
    import pika
    kw.setdefault("credentials", pika.PlainCredentials("guest", "guest"))
    kw.setdefault("connection_attempts", 1)
    kw.setdefault("socket_timeout", 10)
    kw.setdefault("blocked_connection_timeout", 30)
    return pika.ConnectionParameters(host=broker.host, port=broker.port, **kw)


@pytest.fixture
def pika_connect(broker):
    """Factory: pika_connect(**ConnectionParameters kwargs) -> BlockingConnection, closed at teardown."""
    import pika
    conns = []

    def connect(**kw):
        c = pika.BlockingConnection(pika_params(broker, **kw))
        conns.append(c)
        return c

    yield connect
    for c in conns:
        if c.is_open:
            _bounded_close(c.close, lambda: _abort_pika(c))


@pytest.fixture
def pika_conn(pika_connect):
    return pika_connect()


@pytest.fixture
def pika_channel(pika_conn):
    return pika_conn.channel()


@pytest.fixture
def amqp_connect(broker):
    """Factory: amqp_connect(**amqp.Connection kwargs) -> connected py-amqp Connection."""
    import amqp
    conns = []

    def connect(**kw):
        kw.setdefault("userid", "guest")
        kw.setdefault("password", "guest")
        kw.setdefault("virtual_host", "/")
        kw.setdefault("connect_timeout", 10)
        c = amqp.Connection(host=f"{broker.host}:{broker.port}", **kw)
        conns.append(c)
        c.connect()
        return c

    yield connect
    for c in conns:
        _bounded_close(c.close, lambda: _abort_py_amqp(c))


@pytest.fixture
def amqp_conn(amqp_connect):
    return amqp_connect()


@pytest.fixture
def raw_connect(broker):
    """Factory: raw_connect(**kw) -> amqpraw.RawConnection (TCP connected, no handshake yet)."""
    import amqpraw
    conns = []

    def connect(**kw):
        c = amqpraw.RawConnection(broker.host, broker.port, **kw)
        conns.append(c)
        return c

    yield connect
    for c in conns:
        c.close()


@pytest.fixture
def unique_name(request):
    """A fresh queue/exchange name per test, e.g. 'conf.test_foo.1a2b3c4d'."""
    base = request.node.originalname or request.node.name
    return f"conf.{base[:80]}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def names(request):
    """Factory for several fresh names in one test: names('q') -> 'conf.<test>.q.<hex>'."""
    base = (request.node.originalname or request.node.name)[:80]
    return lambda tag="x": f"conf.{base}.{tag}.{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ per-broker summary

_outcomes: dict[str, dict[str, str]] = defaultdict(dict)  # nodeid -> passed/failed/skipped/xfailed
_skip_reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_item_broker: dict[str, str] = {}


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        cs = getattr(item, "callspec", None)
        if cs is not None and "_broker_server" in cs.params:
            _item_broker[item.nodeid] = cs.params["_broker_server"]
            ext = item.get_closest_marker("warren_extension")
            if ext is not None and cs.params["_broker_server"] == "rabbitmq":
                # Beyond RabbitMQ 3.10 on purpose: RabbitMQ must fail it (strict, so an XPASS tells
                # us it is not an extension after all).
                reason = ext.args[0] if ext.args else ext.kwargs.get("reason", "")
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"Warren extension: {reason}"))


def pytest_runtest_logreport(report):
    b = _item_broker.get(report.nodeid)
    if b is None:
        return
    prev = _outcomes[b].get(report.nodeid)
    if report.failed:
        outcome = "failed"
    elif report.skipped and hasattr(report, "wasxfail"):
        outcome = "xfailed"
    elif report.skipped:
        outcome = "skipped"
    elif report.when == "call":
        outcome = "passed"
    else:
        return
    if outcome == "skipped" and isinstance(report.longrepr, tuple) and prev is None:
        _skip_reasons[b][str(report.longrepr[2]).removeprefix("Skipped: ")] += 1
    if prev == "failed":
        return  # a teardown pass can't undo a call failure
    if prev == "passed" and outcome == "skipped":
        return
    _outcomes[b][report.nodeid] = outcome


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    if not _item_broker:
        return
    tr.section("conformance per broker")
    for b in _selected():
        res = _outcomes.get(b, {})
        counts = {k: sum(1 for v in res.values() if v == k) for k in ("passed", "failed", "skipped", "xfailed")}
        xfailed = f", {counts['xfailed']} xfailed (Warren extensions)" if counts["xfailed"] else ""
        tr.write_line(f"{b}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped{xfailed}")
        for reason, n in sorted(_skip_reasons.get(b, {}).items(), key=lambda kv: -kv[1])[:5]:
            tr.write_line(f"    ({n} skipped: {reason})")
    for name, server in _SERVERS.items():
        for c in server.crashes:
            tr.write_line(f"!! {c}")

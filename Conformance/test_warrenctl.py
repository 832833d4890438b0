"""`warrenctl` (Sources/warrenctl: rabbitmqctl's verbs and columns over the management HTTP API) run
as a subprocess against both brokers' management API.

warrenctl only speaks the RabbitMQ 3.10 management HTTP API, so it must work the same against a real
RabbitMQ 3.10.8 (with rabbitmq_management) and against Warren. Its output format is ours, so every
test asserts the same thing for both brokers; a test that fails on RabbitMQ is a warrenctl bug or a
wrong test, one that fails only on Warren is a Warren (management API) gap.

This module starts ONE extra broker of the kind under test with the management listener on a free
loopback port (module-scoped `ctl_broker`, `brokers.start_*(management=True)`; RabbitMQ also gets
the short stats intervals of test_management_api.py so its listings lag ~1 s, not 5 s) and runs
`warrenctl VERB ... --url http://127.0.0.1:PORT` (default credentials guest/guest) with a clean
environment (no WARREN_URL/WARREN_USER/WARREN_PASSWORD, HOME without a ~/.warrenctl.conf). The
alarm tests start a second broker of the kind (`alarm_broker`) whose disk alarm is on from boot
(`disk_free_limit.absolute = 900000GB`).

The binary: env WARRENCTL, else .build/release/warrenctl, else .build/debug/warrenctl; every test is
skipped with that reason when there is none.

warrenctl's contract, as asserted here:
* Tables: a header row of the column names (unless --no-table-headers), then one row per object,
  cells separated by a tab and padded with spaces to the column's width (the last column is not
  padded); strings as is, numbers and booleans as written, lists/objects as compact JSON, a
  missing field as an empty cell. `--formatter json`: a pretty-printed JSON array of objects keyed
  by the chosen columns.
* The informational line ("Listing queues for vhost / ...", "Adding user "u" ...") goes to stderr,
  and not at all with -q or --formatter json; data goes to stdout.
* Errors: one "Error: ..." line on stderr, never a Swift stack trace, and a sysexits.h code:
  64 usage, 65 the broker refused the request (400) or bad input, 66 unreadable input file,
  69 broker unreachable / check failed / await_startup timed out, 70 not found (404) or already
  exists, 73 unwritable output file, 77 access refused (401). (docs/warrenctl.md)

RabbitMQ 3.10 facts relied on: a vhost created over the API gives its creator full permissions
there; `DELETE /api/queues/..?if-empty=true` on a non-empty queue is 400 "queue 'q' in vhost '/'
not empty" (`if-unused`: "... in use"); `X-Reason` becomes `320 CONNECTION_FORCED - <reason>`;
with a disk alarm, `GET /api/health/checks/alarms` is 503 `{"status":"failed","reason":"There are
alarms in effect in the cluster","alarms":[{"node":N,"resource":"disk space"}]}`; the node's
figures (mem_used, uptime, ...) appear in /api/nodes a moment after boot.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid
from urllib.parse import quote

import pika
import pika.exceptions
import pytest
import requests

import brokers
from util import management_config, start_own_broker, watched

# The first test starts the module's broker (RabbitMQ: ~7-10 s); listings poll with a deadline.
pytestmark = pytest.mark.timeout(60)

# What a crashed or trapped Swift program leaves on stderr.
CRASH_MARKERS = ("Fatal error", "Stack dump", "Current stack trace", "Backtrace", "backtrace",
                 "Segmentation fault", "Illegal instruction", "Trace/breakpoint trap", "Aborted",
                 "Thread 0 crashed", "💣")


def warrenctl_binary() -> str | None:
    """env WARRENCTL, else <repo>/.build/release/warrenctl, else .build/debug/warrenctl."""
    env = os.environ.get("WARRENCTL")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    for cfg in ("release", "debug"):
        p = os.path.join(brokers.REPO_ROOT, ".build", cfg, "warrenctl")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def _missing_reason() -> str:
    env = os.environ.get("WARRENCTL")
    if env:
        return f"WARRENCTL={env} is not an executable file"
    return "warrenctl binary not found (build it, or set WARRENCTL)"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ctl_binary():
    """Resolved once per module, so a build finishing mid-run cannot swap the binary under us."""
    path = warrenctl_binary()
    if path is None:
        pytest.skip(_missing_reason())
    return path


@pytest.fixture(scope="module")
def ctl_broker(_broker_server, ctl_binary, tmp_path_factory):
    kind = _broker_server.name
    b = start_own_broker(kind, tmp_path_factory, "warrenctl", management=True,
                         config_lines=management_config(kind))
    yield b
    b.stop()


@pytest.fixture
def cb(ctl_broker):
    yield from watched(ctl_broker, "warrenctl")


@pytest.fixture(scope="module")
def clean_home(tmp_path_factory):
    """A HOME without ~/.warrenctl.conf."""
    return str(tmp_path_factory.mktemp("warrenctl-home"))


def assert_no_crash(r: subprocess.CompletedProcess, args) -> None:
    assert r.returncode >= 0, f"warrenctl {args} was killed by signal {-r.returncode}; stderr:\n{r.stderr}"
    assert r.returncode not in (132, 133, 134, 139), f"warrenctl {args} crashed ({r.returncode}):\n{r.stderr}"
    for marker in CRASH_MARKERS:
        assert marker not in r.stderr, f"warrenctl {args}: stack trace on stderr:\n{r.stderr}"
        assert marker not in r.stdout, f"warrenctl {args}: stack trace on stdout:\n{r.stdout}"


class Ctl:
    def __init__(self, binary: str, broker, home: str):
        self.binary = binary
        self.broker = broker
        self.url = f"http://127.0.0.1:{broker.management_port}"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("WARREN_URL", "WARREN_USER", "WARREN_PASSWORD")}
        self.env["HOME"] = home

    def run(self, *args, url: str | None = None, user: str | None = None, password: str | None = None,
            stdin: str | None = None, expect: int | None = 0, timeout: float = 20) -> subprocess.CompletedProcess:
        """warrenctl ARGS --url URL [--username U --password P]; asserts no crash and (unless expect
        is None) the exit status."""
        cmd = [self.binary, *args, "--url", url or self.url]
        if user is not None:
            cmd += ["--username", user]
        if password is not None:
            cmd += ["--password", password]
        try:
            r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            pytest.fail(f"warrenctl {list(args)} did not finish within {timeout} s", pytrace=False)
        assert_no_crash(r, list(args))
        if expect is not None:
            assert r.returncode == expect, (list(args), r.returncode, r.stdout, r.stderr)
        return r

    def table(self, *args, **kw) -> tuple[list[str], list[list[str]]]:
        """`-q ARGS` as a table -> (header, rows), cells without their padding."""
        r = self.run(*args, "-q", **kw)
        assert r.stderr == "", r.stderr
        lines = r.stdout.splitlines()
        assert lines, f"no header for {args}"
        split = [[cell.rstrip(" ") for cell in line.split("\t")] for line in lines]
        return split[0], split[1:]

    def json(self, *args, **kw):
        r = self.run(*args, "--formatter", "json", **kw)
        assert r.stderr == "", r.stderr  # no informational line with JSON output
        return json.loads(r.stdout)

    def poll_json(self, pred, *args, timeout: float = 10.0, conn=None):
        """`--formatter json ARGS` until pred(result) (the broker's stats lag); returns the last result.
        conn: a pika connection to keep serviced meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            res = self.json(*args)
            if pred(res) or time.monotonic() > deadline:
                return res
            if conn is not None:
                conn.process_data_events(0.2)
            else:
                time.sleep(0.2)


@pytest.fixture
def ctl(ctl_binary, cb, clean_home):
    return Ctl(ctl_binary, cb, clean_home)


@pytest.fixture
def connect(cb):
    """Factory: connect(user, password, vhost, **kw) -> pika BlockingConnection to the module's broker."""
    conns = []

    def make(user="guest", password="guest", vhost="/", **kw):
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=cb.host, port=cb.port, virtual_host=vhost, credentials=pika.PlainCredentials(user, password),
            connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30, **kw))
        conns.append(c)
        return c

    yield make
    for c in conns:
        try:
            if c.is_open:
                c.close()
        except Exception:
            pass


@pytest.fixture
def ch(connect):
    c = connect().channel()
    c.confirm_delivery()
    return c


def uid(prefix="wc") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def local_port(conn) -> int:
    return conn._impl._transport._sock.getsockname()[1]


def channel_name(conn, broker, number: int = 1) -> str:
    """RabbitMQ's (and Warren's) name of a channel: "PEER_HOST:PEER_PORT -> HOST:PORT (N)"."""
    return f"127.0.0.1:{local_port(conn)} -> 127.0.0.1:{broker.port} ({number})"


def row_by(rows, index: int, value: str):
    found = [r for r in rows if r[index] == value]
    assert len(found) == 1, (value, rows)
    return found[0]


def message_count(ch, queue: str) -> int:
    return ch.queue_declare(queue, passive=True).method.message_count


def publish(ch, queue: str, n: int, body: bytes = b"m", **props) -> None:
    for _ in range(n):
        ch.basic_publish("", queue, body, pika.BasicProperties(**props) if props else None)


def pika_refused(cb, user, password, vhost="/"):
    """The exception a pika login raises (None if the login works)."""
    try:
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=cb.host, port=cb.port, virtual_host=vhost, credentials=pika.PlainCredentials(user, password),
            connection_attempts=1, socket_timeout=10))
    except pika.exceptions.AMQPConnectionError as e:
        return e
    c.close()
    return None


# ---------------------------------------------------------------- node commands

STATUS_KEYS = {"alarms", "fd_used", "listeners", "mem_used", "node", "object_totals", "processors",
               "product_name", "product_version", "rabbitmq_version", "uptime"}


def test_status_table(ctl, cb):
    # the node's figures come from its stats, which RabbitMQ collects a moment after boot
    deadline = time.monotonic() + 10
    while True:
        r = ctl.run("status")
        if "uptime: " in r.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert r.stderr == "Status of node ...\n"
    fields = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    assert set(fields) == STATUS_KEYS
    assert list(fields) == sorted(fields)  # one "key: value" line per key, in key order
    assert fields["alarms"] == "[]"
    assert fields["rabbitmq_version"].startswith("3.10.")
    assert int(fields["uptime"]) > 0 and int(fields["processors"]) >= 1 and int(fields["mem_used"]) > 0
    listeners = json.loads(fields["listeners"])
    assert {(x["protocol"], x["port"]) for x in listeners} >= {("amqp", cb.port), ("http", cb.management_port)}
    assert set(json.loads(fields["object_totals"])) >= {"connections", "channels", "exchanges", "queues",
                                                        "consumers"}
    # -q drops the informational line only
    r = ctl.run("status", "-q")
    assert r.stderr == "" and set(dict(line.split(": ", 1) for line in r.stdout.splitlines())) == STATUS_KEYS


def test_status_json(ctl, cb):
    status = ctl.json("status")
    assert set(status) == STATUS_KEYS
    assert status["alarms"] == []
    assert status["rabbitmq_version"].startswith("3.10.")
    assert isinstance(status["uptime"], int) and isinstance(status["mem_used"], int)
    assert any(x["protocol"] == "amqp" and x["port"] == cb.port for x in status["listeners"])
    assert isinstance(status["object_totals"]["queues"], int)


def test_await_startup_running_broker(ctl):
    r = ctl.run("await_startup", "-t", "5")
    assert r.stdout == ""
    assert r.stderr == f"Waiting for the broker at {ctl.url} to start ...\n"
    r = ctl.run("await_startup", "-q")
    assert r.stdout == "" and r.stderr == ""


def test_await_startup_nothing_listening(ctl):
    url = f"http://127.0.0.1:{brokers.free_port()}"
    started = time.monotonic()
    r = ctl.run("await_startup", "-t", "1", url=url, expect=None)
    elapsed = time.monotonic() - started
    assert r.returncode == 69, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert 0.9 <= elapsed < 8, elapsed  # it did wait, and gave up at -t
    error = r.stderr.splitlines()[-1]
    assert error.startswith("Error: the broker did not start within 1 s: unable to reach the broker at "
                            f"{url}"), r.stderr


def test_await_startup_gives_up_on_a_listener_that_never_answers(ctl):
    """A port that accepts connections but never answers HTTP (a wedged or half-started node):
    -t bounds the whole wait, not only the time between refused connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        started = time.monotonic()
        r = ctl.run("await_startup", "-t", "2", url=url, expect=None, timeout=8)
        elapsed = time.monotonic() - started
    assert r.returncode == 69, (r.returncode, r.stderr)
    assert elapsed < 8, f"await_startup -t 2 took {elapsed:.1f} s"
    assert "Error: the broker did not start within 2 s" in r.stderr


def test_environment(ctl, cb):
    r = ctl.run("environment")
    assert r.stderr == "Application environment of node ...\n"
    env = json.loads(r.stdout)
    assert set(env) == {"cluster_name", "exchange_types", "listeners", "rates_mode"}
    assert {"direct", "fanout", "topic", "headers"} <= {t["name"] for t in env["exchange_types"]}
    assert any(x["protocol"] == "amqp" and x["port"] == cb.port for x in env["listeners"])
    assert isinstance(env["cluster_name"], str) and env["cluster_name"]
    assert env["rates_mode"] in ("basic", "detailed", "none")


def test_cluster_status(ctl):
    node = ctl.json("status")["node"]
    r = ctl.run("cluster_status")
    assert r.stderr == "Cluster status of node ...\n"
    fields = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    assert set(fields) == {"alarms", "cluster_name", "disk_nodes", "running_nodes"}
    assert fields["alarms"] == "[]"
    assert json.loads(fields["disk_nodes"]) == [node]
    assert json.loads(fields["running_nodes"]) == [node]
    status = ctl.json("cluster_status")
    assert status == {"alarms": [], "cluster_name": fields["cluster_name"], "disk_nodes": [node],
                      "running_nodes": [node]}
    assert status["cluster_name"] == ctl.json("environment")["cluster_name"]


def test_check_running(ctl):
    r = ctl.run("check_running")
    assert r.stdout == "The broker is fully booted and running\n"
    assert r.stderr == "Checking if the broker is running ...\n"
    r = ctl.run("check_running", "-q")
    assert r.stdout == "" and r.stderr == ""


def test_check_alarms(ctl):
    r = ctl.run("check_alarms")
    assert r.stdout == "Node reported no alarms\n"
    assert r.stderr == "Asking the broker if it has any alarms ...\n"
    assert ctl.run("check_alarms", "-q").stdout == ""


def test_check_port_connectivity(ctl, cb):
    r = ctl.run("check_port_connectivity")
    assert r.stderr == "Testing TCP connections to all active listeners ...\n"
    m = re.fullmatch(r"Successfully connected to ports \[([0-9, ]*)\]\n", r.stdout)
    assert m, r.stdout
    ports = {int(p) for p in m.group(1).split(", ")}
    assert {cb.port, cb.management_port} <= ports
    assert ctl.run("check_port_connectivity", "-q").stdout == ""


# ---------------------------------------------------------------- list_*

def test_list_queues_default_columns(ctl, ch):
    q1, q2 = uid("lq"), uid("lq")
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    publish(ch, q1, 3)
    rows = ctl.poll_json(lambda rs: {"name": q1, "messages": 3} in rs and {"name": q2, "messages": 0} in rs,
                         "list_queues", "name", "messages")
    assert {"name": q1, "messages": 3} in rows and {"name": q2, "messages": 0} in rows
    r = ctl.run("list_queues")
    assert r.stderr == "Listing queues for vhost / ...\n"
    lines = r.stdout.splitlines()
    header = lines[0].split("\t")
    assert [c.rstrip() for c in header] == ["name", "messages"]
    rows = [line.split("\t") for line in lines[1:]]
    # the first column is padded to the widest cell (name or header), the last one is not
    width = max(len(x) for x in ["name"] + [row[0] for row in rows])
    assert all(len(row[0]) == width for row in rows) and len(header[0]) == width
    cells = {row[0].rstrip(): row[1] for row in rows}
    assert cells[q1] == "3" and cells[q2] == "0"


def test_list_queues_chosen_columns(ctl, ch, connect):
    q = uid("lq")
    ch.queue_declare(q, durable=True, arguments={"x-max-priority": 4})
    publish(ch, q, 2)
    consumer_conn = connect()
    cch = consumer_conn.channel()
    cch.basic_qos(prefetch_count=1)
    cch.basic_consume(q, lambda *a: None, consumer_tag="one")  # 1 unacked, 1 ready
    cols = ["name", "durable", "auto_delete", "exclusive", "arguments", "messages", "messages_ready",
            "messages_unacknowledged", "consumers", "type"]
    want = {"name": q, "durable": True, "auto_delete": False, "exclusive": False,
            "arguments": {"x-max-priority": 4}, "messages": 2, "messages_ready": 1,
            "messages_unacknowledged": 1, "consumers": 1, "type": "classic"}
    rows = ctl.poll_json(lambda rs: want in rs, "list_queues", *cols, conn=consumer_conn)
    assert want in rows, rows
    assert all(list(row) == sorted(cols) for row in rows)  # exactly the chosen columns as keys
    header, rows = ctl.table("list_queues", *cols)
    assert header == cols
    assert row_by(rows, 0, q) == [q, "true", "false", "false", '{"x-max-priority":4}', "2", "1", "1", "1",
                                  "classic"]
    # --no-table-headers: just the rows
    r = ctl.run("list_queues", "--no-table-headers", "-q", "name", "consumers")
    assert "name" not in [line.split("\t")[0].rstrip() for line in r.stdout.splitlines()]
    assert [q, "1"] in [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    cch.basic_cancel("one")


def test_list_queues_in_another_vhost(ctl, cb, connect):
    vhost = uid("wc/vh")  # a "/" in the name must survive the URL
    ctl.run("add_vhost", vhost, "-q")
    try:
        c = connect(vhost=vhost)
        q = uid("lq")
        c.channel().queue_declare(q)
        r = ctl.run("list_queues", "-p", vhost, "name")
        assert r.stderr == f"Listing queues for vhost {vhost} ...\n"
        assert r.stdout.splitlines() == ["name", q]
        c.close()
    finally:
        ctl.run("delete_vhost", vhost, "-q")


def test_list_queues_empty_table_and_json(ctl):
    vhost = uid("wc.empty")
    ctl.run("add_vhost", vhost, "-q")
    try:
        assert ctl.run("list_queues", "-p", vhost, "-q").stdout == "name\tmessages\n"
        assert ctl.run("list_queues", "-p", vhost, "-q", "--no-table-headers").stdout == ""
        assert ctl.json("list_queues", "-p", vhost) == []
    finally:
        ctl.run("delete_vhost", vhost, "-q")


def test_list_exchanges(ctl, ch):
    x = uid("lx")
    ch.exchange_declare(x, "fanout", durable=False, auto_delete=True)
    r = ctl.run("list_exchanges")
    assert r.stderr == "Listing exchanges for vhost / ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["name", "type"]
    for row in (["", "direct"], ["amq.direct", "direct"], ["amq.fanout", "fanout"], ["amq.topic", "topic"],
                ["amq.headers", "headers"], ["amq.match", "headers"], [x, "fanout"]):
        assert row in lines[1:], (row, lines)
    rows = ctl.json("list_exchanges", "name", "type", "durable", "auto_delete", "internal", "arguments")
    assert {"name": x, "type": "fanout", "durable": False, "auto_delete": True, "internal": False,
            "arguments": {}} in rows
    assert {"name": "amq.topic", "type": "topic", "durable": True, "auto_delete": False, "internal": False,
            "arguments": {}} in rows


def test_list_bindings(ctl, ch):
    q, x = uid("lb"), uid("lbx")
    ch.queue_declare(q)
    ch.exchange_declare(x, "topic")
    ch.queue_bind(q, "amq.topic", "a.#")
    ch.queue_bind(q, "amq.headers", "", arguments={"x-match": "any", "k": "v"})
    ch.exchange_bind(x, "amq.direct", "e2e")
    r = ctl.run("list_bindings")
    assert r.stderr == "Listing bindings for vhost / ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["source_name", "source_kind", "destination_name", "destination_kind", "routing_key",
                        "arguments"]
    assert ["", "exchange", q, "queue", q, "{}"] in lines  # the default exchange's implicit binding
    assert ["amq.topic", "exchange", q, "queue", "a.#", "{}"] in lines
    assert ["amq.headers", "exchange", q, "queue", "", '{"k":"v","x-match":"any"}'] in lines
    assert ["amq.direct", "exchange", x, "exchange", "e2e", "{}"] in lines
    rows = ctl.json("list_bindings", "source_name", "destination_name", "destination_kind", "routing_key")
    assert {"source_name": "amq.direct", "destination_name": x, "destination_kind": "exchange",
            "routing_key": "e2e"} in rows
    ch.exchange_delete(x)


def test_list_connections(ctl, cb, connect):
    name = uid("conn")
    c = connect(client_properties={"connection_name": name})
    c.channel()
    c.channel()
    port = local_port(c)
    cols = ["name", "user", "vhost", "peer_host", "peer_port", "host", "port", "ssl", "state", "channels",
            "protocol", "auth_mechanism", "client_properties"]

    def mine(rows):
        return [x for x in rows if (x.get("client_properties") or {}).get("connection_name") == name]

    rows = ctl.poll_json(lambda rs: [x.get("channels") for x in mine(rs)] == [2], "list_connections", *cols,
                         conn=c)
    [row] = mine(rows)
    assert row["name"] == f"127.0.0.1:{port} -> 127.0.0.1:{cb.port}"
    assert {k: row[k] for k in cols if k not in ("name", "client_properties")} == {
        "user": "guest", "vhost": "/", "peer_host": "127.0.0.1", "peer_port": port, "host": "127.0.0.1",
        "port": cb.port, "ssl": False, "state": "running", "channels": 2, "protocol": "AMQP 0-9-1",
        "auth_mechanism": "PLAIN"}
    assert row["client_properties"]["product"] == "Pika Python Client Library"
    # the default columns: user peer_host peer_port state
    r = ctl.run("list_connections")
    assert r.stderr == "Listing connections ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["user", "peer_host", "peer_port", "state"]
    assert ["guest", "127.0.0.1", str(port), "running"] in lines[1:]


def test_list_channels(ctl, cb, connect, ch):
    q = uid("lc")
    ch.queue_declare(q)
    publish(ch, q, 1)
    c = connect()
    cch = c.channel()
    cch.basic_qos(prefetch_count=7)
    cch.basic_consume(q, lambda *a: None, consumer_tag="t1")  # the message stays unacknowledged
    name = channel_name(c, cb)
    cols = ["name", "number", "user", "vhost", "consumer_count", "messages_unacknowledged", "prefetch_count",
            "transactional", "confirm"]
    want = {"name": name, "number": 1, "user": "guest", "vhost": "/", "consumer_count": 1,
            "messages_unacknowledged": 1, "prefetch_count": 7, "transactional": False, "confirm": False}
    rows = ctl.poll_json(lambda rs: want in rs, "list_channels", *cols, conn=c)
    assert want in rows, rows
    # pid is rabbitmqctl's name for the channel's identity
    assert {"pid": name} in ctl.json("list_channels", "pid")
    r = ctl.run("list_channels")
    assert r.stderr == "Listing channels ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["name", "user", "consumer_count", "messages_unacknowledged"]
    assert [name, "guest", "1", "1"] in lines[1:]
    cch.basic_cancel("t1")


def test_list_consumers(ctl, cb, connect, ch):
    q = uid("lcons")
    ch.queue_declare(q)
    c = connect()
    cch = c.channel()
    cch.basic_qos(prefetch_count=5)
    cch.basic_consume(q, lambda *a: None, consumer_tag="ctag-a", arguments={"x-priority": 3})
    cch.basic_consume(q, lambda *a: None, consumer_tag="ctag-b", auto_ack=True)
    name = channel_name(c, cb)

    def mine(rows):
        return sorted((x for x in rows if x["queue_name"] == q), key=lambda x: x["consumer_tag"])

    want = [{"queue_name": q, "channel_pid": name, "consumer_tag": "ctag-a", "ack_required": True,
             "prefetch_count": 5, "active": True, "arguments": {"x-priority": 3}},
            {"queue_name": q, "channel_pid": name, "consumer_tag": "ctag-b", "ack_required": False,
             "prefetch_count": 5, "active": True, "arguments": {}}]
    # (RabbitMQ fills a consumer's channel_details once the channel's stats are in)
    rows = ctl.poll_json(lambda rs: mine(rs) == want, "list_consumers", conn=c)
    assert mine(rows) == want
    r = ctl.run("list_consumers")
    assert r.stderr == "Listing consumers for vhost / ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count", "active",
                        "arguments"]
    assert [q, name, "ctag-a", "true", "5", "true", '{"x-priority":3}'] in lines


def test_list_users(ctl):
    r = ctl.run("list_users")
    assert r.stderr == "Listing users ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["user", "tags"]
    assert ["guest", '["administrator"]'] in lines[1:]
    assert {"user": "guest", "tags": ["administrator"]} in ctl.json("list_users")


def test_list_vhosts(ctl):
    r = ctl.run("list_vhosts")
    assert r.stderr == "Listing vhosts ...\n"
    assert r.stdout.splitlines()[0] == "name"
    assert "/" in r.stdout.splitlines()[1:]
    header, rows = ctl.table("list_vhosts", "name", "tracing")
    assert header == ["name", "tracing"] and ["/", "false"] in rows


def test_list_permissions(ctl):
    r = ctl.run("list_permissions")
    assert r.stderr == "Listing permissions for vhost / ...\n"
    lines = [[c.rstrip() for c in line.split("\t")] for line in r.stdout.splitlines()]
    assert lines[0] == ["user", "configure", "write", "read"]
    assert ["guest", ".*", ".*", ".*"] in lines[1:]
    assert {"user": "guest", "configure": ".*", "write": ".*", "read": ".*"} in ctl.json("list_permissions",
                                                                                       "-p", "/")


def test_list_policies_empty(ctl):
    vhost = uid("wc.nopol")
    ctl.run("add_vhost", vhost, "-q")
    try:
        r = ctl.run("list_policies", "-p", vhost)
        assert r.stderr == f"Listing policies for vhost {vhost} ...\n"
        assert r.stdout == "vhost\tname\tpattern\tapply-to\tdefinition\tpriority\n"
        assert ctl.json("list_policies", "-p", vhost) == []
    finally:
        ctl.run("delete_vhost", vhost, "-q")


# ---------------------------------------------------------------- users, vhosts, permissions

def test_user_lifecycle(ctl, cb):
    user = uid("user")
    r = ctl.run("add_user", user, "first-pw")
    assert (r.stdout, r.stderr) == ("", f'Adding user "{user}" ...\n')
    assert [user, "[]"] in ctl.table("list_users")[1]
    r = ctl.run("add_user", user, "other", expect=70)
    assert r.stderr.splitlines()[-1] == f'Error: user "{user}" already exists'
    # no permissions yet: the login works, the vhost does not
    assert isinstance(pika_refused(cb, user, "first-pw"), pika.exceptions.ProbableAccessDeniedError)
    ctl.run("set_permissions", user, ".*", ".*", ".*", "-q")
    assert pika_refused(cb, user, "first-pw") is None

    r = ctl.run("change_password", user, "second-pw")
    assert r.stderr == f'Changing password for user "{user}" ...\n'
    assert isinstance(pika_refused(cb, user, "first-pw"), pika.exceptions.ProbableAuthenticationError)
    assert pika_refused(cb, user, "second-pw") is None

    r = ctl.run("set_user_tags", user, "management", "policymaker")
    assert r.stderr == f'Setting tags for user "{user}" to [management, policymaker] ...\n'
    assert {"user": user, "tags": ["management", "policymaker"]} in ctl.json("list_users")
    assert pika_refused(cb, user, "second-pw") is None  # the password survives set_user_tags
    # ... and the new tag lets the user use the management API (and so warrenctl)
    assert ctl.json("list_queues", user=user, password="second-pw") is not None
    # change_password keeps the tags
    ctl.run("change_password", user, "third-pw", "-q")
    assert {"user": user, "tags": ["management", "policymaker"]} in ctl.json("list_users")
    assert pika_refused(cb, user, "third-pw") is None
    ctl.run("set_user_tags", user, "-q")  # no tags at all
    assert {"user": user, "tags": []} in ctl.json("list_users")
    assert pika_refused(cb, user, "third-pw") is None

    r = ctl.run("delete_user", user)
    assert r.stderr == f'Deleting user "{user}" ...\n'
    assert user not in [u["user"] for u in ctl.json("list_users")]
    assert isinstance(pika_refused(cb, user, "third-pw"), pika.exceptions.ProbableAuthenticationError)
    r = ctl.run("delete_user", user, expect=70)
    assert r.stderr.splitlines()[-1].startswith("Error: not found (404)")
    assert ctl.run("change_password", user, "x", expect=70).stderr.splitlines()[-1].startswith(
        "Error: not found (404)")


def test_vhost_lifecycle(ctl, cb, connect):
    vhost = uid("wc/vhost")
    r = ctl.run("add_vhost", vhost)
    assert (r.stdout, r.stderr) == ("", f'Adding vhost "{vhost}" ...\n')
    assert vhost in [row[0] for row in ctl.table("list_vhosts")[1]]
    # a vhost created over the API gives its creator (guest) full permissions there
    assert ["guest", ".*", ".*", ".*"] in ctl.table("list_permissions", "-p", vhost)[1]
    c = connect(vhost=vhost)
    c.channel().queue_declare("in-vhost")
    c.close()
    r = ctl.run("delete_vhost", vhost)
    assert r.stderr == f'Deleting vhost "{vhost}" ...\n'
    assert vhost not in [row[0] for row in ctl.table("list_vhosts")[1]]
    e = pika_refused(cb, "guest", "guest", vhost)
    assert isinstance(e, pika.exceptions.ProbableAccessDeniedError) and f"vhost {vhost} not found" in str(e)
    assert ctl.run("delete_vhost", vhost, expect=70).stderr.splitlines()[-1].startswith("Error: not found (404)")


def test_set_and_clear_permissions(ctl, cb):
    user, vhost = uid("perm"), uid("wc.perm")
    ctl.run("add_user", user, "pw", "-q")
    ctl.run("add_vhost", vhost, "-q")
    try:
        r = ctl.run("set_permissions", "-p", vhost, user, f"^{user}\\.", ".*", "")
        assert (r.stdout, r.stderr) == ("", f'Setting permissions for user "{user}" in vhost "{vhost}" ...\n')
        header, rows = ctl.table("list_permissions", "-p", vhost)
        assert row_by(rows, 0, user) == [user, f"^{user}\\.", ".*", ""]
        assert {"user": user, "configure": f"^{user}\\.", "write": ".*", "read": ""} in ctl.json(
            "list_permissions", "-p", vhost)
        # the patterns are in effect: configure only on "<user>.*"
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=cb.host, port=cb.port, virtual_host=vhost, credentials=pika.PlainCredentials(user, "pw"),
            connection_attempts=1, socket_timeout=10))
        try:
            ch = c.channel()
            ch.queue_declare(f"{user}.q")
            with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
                ch.queue_declare("not-mine")
            assert (ei.value.reply_code, ei.value.reply_text) == (
                403, f"ACCESS_REFUSED - access to queue 'not-mine' in vhost '{vhost}' refused for user '{user}'")
        finally:
            c.close()
        r = ctl.run("clear_permissions", "-p", vhost, user)
        assert r.stderr == f'Clearing permissions for user "{user}" in vhost "{vhost}" ...\n'
        assert user not in [row[0] for row in ctl.table("list_permissions", "-p", vhost)[1]]
        e = pika_refused(cb, user, "pw", vhost)
        assert isinstance(e, pika.exceptions.ProbableAccessDeniedError)
        assert f"access to vhost '{vhost}' refused for user '{user}'" in str(e)
        assert ctl.run("clear_permissions", "-p", vhost, user, expect=70).stderr.splitlines()[-1].startswith(
            "Error: not found (404)")
    finally:
        ctl.run("delete_vhost", vhost, "-q")
        ctl.run("delete_user", user, "-q")


def test_set_topic_permissions(ctl, cb):
    user = uid("topic")
    x = uid("wc.topic")
    ctl.run("add_user", user, "pw", "-q")
    ctl.run("set_permissions", user, ".*", ".*", ".*", "-q")
    try:
        r = ctl.run("set_topic_permissions", user, x, "^allowed\\.", "^r\\.")
        assert (r.stdout, r.stderr) == (
            "", f'Setting topic permissions on "{x}" for user "{user}" in vhost "/" ...\n')
        got = requests.get(f"{ctl.url}/api/topic-permissions/%2F/{quote(user, safe='')}",
                           auth=("guest", "guest"), timeout=10).json()
        assert got == [{"user": user, "vhost": "/", "exchange": x, "write": "^allowed\\.", "read": "^r\\."}]
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=cb.host, port=cb.port, credentials=pika.PlainCredentials(user, "pw"), connection_attempts=1,
            socket_timeout=10))
        try:
            ch = c.channel()
            ch.exchange_declare(x, "topic", auto_delete=False)
            ch.confirm_delivery()
            ch.basic_publish(x, "allowed.key", b"m")
            with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
                ch.basic_publish(x, "denied.key", b"m")
            assert (ei.value.reply_code, ei.value.reply_text) == (
                403, f"ACCESS_REFUSED - access to topic 'denied.key' in exchange '{x}' in vhost '/' "
                     f"refused for user '{user}'")
            c.channel().exchange_delete(x)
        finally:
            c.close()
    finally:
        ctl.run("delete_user", user, "-q")


# ---------------------------------------------------------------- policies

def test_set_policy_list_and_effect_then_clear(ctl, ch):
    name = uid("pol")
    prefix = uid("ml")
    q = f"{prefix}.q"
    pattern = f"^{re.escape(prefix)}\\."
    r = ctl.run("set_policy", name, pattern, '{"max-length": 2}', "--apply-to", "queues", "--priority", "3")
    assert (r.stdout, r.stderr) == (
        "", f'Setting policy "{name}" for pattern "{pattern}" to "{{"max-length": 2}}" ...\n')
    try:
        header, rows = ctl.table("list_policies")
        assert header == ["vhost", "name", "pattern", "apply-to", "definition", "priority"]
        assert row_by(rows, 1, name) == ["/", name, pattern, "queues", '{"max-length":2}', "3"]
        assert {"vhost": "/", "name": name, "pattern": pattern, "apply-to": "queues",
                "definition": {"max-length": 2}, "priority": 3} in ctl.json("list_policies")
        # in effect: the queue keeps only the 2 newest messages
        ch.queue_declare(q)
        for i in range(5):
            ch.basic_publish("", q, f"m{i}".encode())
        assert message_count(ch, q) == 2
        assert ch.basic_get(q, auto_ack=True)[2] == b"m3"
        rows = ctl.poll_json(lambda rs: {"name": q, "policy": name, "messages": 1} in rs,
                             "list_queues", "name", "policy", "messages")
        assert {"name": q, "policy": name, "messages": 1} in rows
    finally:
        r = ctl.run("clear_policy", name)
    assert r.stderr == f'Clearing policy "{name}" on vhost "/" ...\n'
    assert name not in [row[1] for row in ctl.table("list_policies")[1]]
    rows = ctl.poll_json(lambda rs: {"name": q, "policy": None} in rs, "list_queues", "name", "policy")
    assert {"name": q, "policy": None} in rows
    for i in range(5):
        ch.basic_publish("", q, b"n")
    assert message_count(ch, q) == 6  # no limit any more
    r = ctl.run("clear_policy", name, expect=70)
    assert r.stderr.splitlines()[-1] == "Error: not found (404): /api/policies/%2F/" + quote(name, safe="")


def test_set_policy_definition_must_be_json(ctl):
    name = uid("pol")
    r = ctl.run("set_policy", name, "^x", "max-length=2", expect=65)
    assert r.stderr.splitlines()[-1] == "Error: the definition must be a JSON object"
    assert name not in [row[1] for row in ctl.table("list_policies")[1]]


def test_set_policy_refused_by_the_broker_reads_as_text(ctl):
    """A definition the broker refuses: exit 65 and its reason on one readable line (RabbitMQ's
    API HTML-escapes the reason and wraps it in newlines; warrenctl should show plain text)."""
    name = uid("pol")
    r = ctl.run("set_policy", name, "^x", '{"max-length": "abc"}', expect=65)
    for entity in ("&lt;", "&gt;", "&quot;", "&amp;", "&#"):
        assert entity not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr  # the announcement, then one "Error: ..." line
    assert lines[1].startswith("Error: the broker refused the request (400): "), r.stderr
    assert len(lines[1]) > len("Error: the broker refused the request (400): ") + 10, r.stderr  # a reason
    assert name not in [row[1] for row in ctl.table("list_policies")[1]]


# ---------------------------------------------------------------- queues and connections

def test_purge_queue(ctl, ch):
    q = uid("purge")
    ch.queue_declare(q)
    publish(ch, q, 4)
    r = ctl.run("purge_queue", q)
    assert (r.stdout, r.stderr) == ("", f"Purging queue '{q}' in vhost '/' ...\n")
    assert message_count(ch, q) == 0
    r = ctl.run("purge_queue", uid("missing"), expect=70)
    assert r.stderr.splitlines()[-1].startswith("Error: not found (404)")


def test_delete_queue(ctl, ch, connect):
    q = uid("del")
    ch.queue_declare(q)
    publish(ch, q, 2)
    r = ctl.run("delete_queue", "--if-empty", q, expect=65)
    assert r.stderr.splitlines()[-1] == f"Error: the broker refused the request (400): queue '{q}' in vhost '/' not empty"
    assert message_count(ch, q) == 2  # still there
    c = connect()
    cch = c.channel()
    cch.basic_consume(q, lambda *a: None, consumer_tag="busy")
    r = ctl.run("delete_queue", "-u", q, expect=65)
    assert r.stderr.splitlines()[-1] == f"Error: the broker refused the request (400): queue '{q}' in vhost '/' in use"
    c.close()
    r = ctl.run("delete_queue", q)
    assert (r.stdout, r.stderr) == ("", f"Deleting queue '{q}' on vhost '/' ...\n")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        message_count(ch, q)
    assert ei.value.reply_code == 404
    # --if-empty on an empty queue deletes it
    q2 = uid("del")
    ch2 = connect().channel()
    ch2.queue_declare(q2)
    ctl.run("delete_queue", "--if-empty", q2, "-q")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        message_count(ch2, q2)


def test_close_connection(ctl, connect):
    name = uid("victim")
    victim = connect(client_properties={"connection_name": name})
    rows = ctl.poll_json(
        lambda rs: any((x.get("client_properties") or {}).get("connection_name") == name for x in rs),
        "list_connections", "name", "client_properties", conn=victim)
    [cname] = [x["name"] for x in rows if (x.get("client_properties") or {}).get("connection_name") == name]
    r = ctl.run("close_connection", cname, "maintenance window, bye")
    assert (r.stdout, r.stderr) == ("", f"Closing connection {cname}, reason: maintenance window, bye...\n")
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            victim.process_data_events(0.1)
    assert (ei.value.reply_code, ei.value.reply_text) == (320, "CONNECTION_FORCED - maintenance window, bye")
    r = ctl.run("close_connection", "127.0.0.1:1 -> 127.0.0.1:1", "again", expect=70)
    assert r.stderr.splitlines()[-1].startswith("Error: not found (404)")


# ---------------------------------------------------------------- definitions

def test_export_definitions_to_a_file_and_stdout(ctl, ch, tmp_path):
    q = uid("exp")
    ch.queue_declare(q, durable=True)
    path = tmp_path / "defs.json"
    r = ctl.run("export_definitions", str(path))
    assert (r.stdout, r.stderr) == ("", f'Exporting definitions in JSON to a file at "{path}" ...\n')
    defs = json.loads(path.read_text())
    assert {"vhosts", "users", "permissions", "queues", "exchanges", "bindings", "policies"} <= set(defs)
    assert defs["rabbitmq_version"].startswith("3.10.")
    assert {"name": "/"}.items() <= next(v for v in defs["vhosts"] if v["name"] == "/").items()
    assert any(u["name"] == "guest" and u["tags"] in (["administrator"], "administrator") for u in defs["users"])
    assert {"name": q, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}.items() <= \
        next(x for x in defs["queues"] if x["name"] == q).items()
    # "-" is standard output
    r = ctl.run("export_definitions", "-", "-q")
    assert r.stderr == ""
    assert any(x["name"] == q for x in json.loads(r.stdout)["queues"])
    # an unwritable path: a clear error, no file
    r = ctl.run("export_definitions", str(tmp_path / "no" / "such" / "dir.json"), expect=73)
    assert r.stderr.splitlines()[-1].startswith("Error: cannot write")
    ch.queue_delete(q)


def test_import_modified_definitions(ctl, cb, ch, tmp_path):
    path = tmp_path / "defs.json"
    ctl.run("export_definitions", str(path), "-q")
    defs = json.loads(path.read_text())
    vhost, user, q, x, pol = uid("wc.imp"), uid("imp"), uid("imp.q"), uid("imp.x"), uid("imp.pol")
    guest_hash = next(u for u in defs["users"] if u["name"] == "guest")
    defs["vhosts"].append({"name": vhost})
    defs["users"].append({"name": user, "password_hash": guest_hash["password_hash"],
                          "hashing_algorithm": guest_hash["hashing_algorithm"], "tags": "monitoring"})
    defs["permissions"].append({"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"})
    defs["queues"].append({"name": q, "vhost": vhost, "durable": True, "auto_delete": False,
                           "arguments": {"x-max-length": 10}})
    defs["exchanges"].append({"name": x, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
                              "internal": False, "arguments": {}})
    defs["bindings"].append({"source": x, "vhost": vhost, "destination": q, "destination_type": "queue",
                             "routing_key": "k.#", "arguments": {}})
    defs["policies"].append({"vhost": vhost, "name": pol, "pattern": "^imp\\.", "apply-to": "queues",
                             "definition": {"max-length": 3}, "priority": 1})
    path.write_text(json.dumps(defs))
    try:
        r = ctl.run("import_definitions", str(path))
        assert (r.stdout, r.stderr) == ("", f'Importing definitions in JSON from a file at "{path}" ...\n')
        assert vhost in [row[0] for row in ctl.table("list_vhosts")[1]]
        assert {"user": user, "tags": ["monitoring"]} in ctl.json("list_users")
        assert [user, ".*", ".*", ".*"] in ctl.table("list_permissions", "-p", vhost)[1]
        assert {"name": q, "durable": True, "arguments": {"x-max-length": 10}} in ctl.json(
            "list_queues", "-p", vhost, "name", "durable", "arguments")
        assert {"name": x, "type": "topic"} in ctl.json("list_exchanges", "-p", vhost)
        assert {"source_name": x, "destination_name": q, "routing_key": "k.#"} in ctl.json(
            "list_bindings", "-p", vhost, "source_name", "destination_name", "routing_key")
        assert {"name": pol, "pattern": "^imp\\.", "definition": {"max-length": 3}} in ctl.json(
            "list_policies", "-p", vhost, "name", "pattern", "definition")
        # the imported user logs in with the password behind the copied hash, and the binding routes
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=cb.host, port=cb.port, virtual_host=vhost, credentials=pika.PlainCredentials(user, "guest"),
            connection_attempts=1, socket_timeout=10))
        try:
            uch = c.channel()
            uch.confirm_delivery()
            for i in range(5):
                uch.basic_publish(x, "k.1", b"m")
            assert message_count(uch, q) == 3  # the imported policy's max-length wins over x-max-length 10
        finally:
            c.close()
        # from standard input, merged into what is there
        q2 = uid("stdin.q")
        r = ctl.run("import_definitions", "-", stdin=json.dumps({"queues": [
            {"name": q2, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": {}}]}))
        assert r.stderr == 'Importing definitions in JSON from a file at "-" ...\n'
        assert {q, q2} <= {row["name"] for row in ctl.json("list_queues", "-p", vhost, "name")}
        # not a JSON object, a missing file
        bad = tmp_path / "bad.json"
        bad.write_text("[1, 2]")
        assert ctl.run("import_definitions", str(bad), expect=65).stderr.splitlines()[-1] == \
            f"Error: '{bad}' is not a JSON object"
        assert ctl.run("import_definitions", str(tmp_path / "missing.json"), expect=66).stderr.splitlines()[-1] \
            == f"Error: cannot read '{tmp_path / 'missing.json'}'"
    finally:
        ctl.run("delete_vhost", vhost, "-q", expect=None)
        ctl.run("delete_user", user, "-q", expect=None)


# ---------------------------------------------------------------- errors

def test_wrong_password_is_refused_clearly(ctl):
    for args in (["list_queues"], ["status"], ["add_user", uid("x"), "pw"], ["await_startup", "-t", "3"]):
        started = time.monotonic()
        r = ctl.run(*args, password="wrong", expect=77)
        assert time.monotonic() - started < 5, args  # refused at once, not retried until -t
        assert r.stdout == ""
        assert r.stderr.splitlines()[-1] == "Error: access refused (401): login failed for user 'guest'", r.stderr
    r = ctl.run("list_users", user=uid("nobody"), password="x", expect=77)
    assert "Error: access refused (401): login failed for user 'nobody." in r.stderr


def test_user_without_management_tag_is_refused(ctl):
    user = uid("notag")
    ctl.run("add_user", user, "pw", "-q")
    try:
        r = ctl.run("list_queues", user=user, password="pw", expect=77)
        assert r.stderr.splitlines()[-1] == "Error: access refused (401): Not management user"
        ctl.run("set_user_tags", user, "management", "-q")
        r = ctl.run("list_users", user=user, password="pw", expect=77)
        assert r.stderr.splitlines()[-1] == "Error: access refused (401): Not administrator user"
    finally:
        ctl.run("delete_user", user, "-q")


def test_not_found_exits_70(ctl):
    missing = uid("missing")
    r = ctl.run("delete_queue", missing, expect=70)
    assert r.stdout == ""
    assert r.stderr.splitlines() == [f"Deleting queue '{missing}' on vhost '/' ...",
                                     f"Error: not found (404): /api/queues/%2F/{missing}"]
    r = ctl.run("list_queues", "-p", missing, expect=70)
    assert r.stderr.splitlines()[-1] == f"Error: not found (404): /api/queues/{missing}"


def test_broker_down_exits_69(ctl):
    url = f"http://127.0.0.1:{brokers.free_port()}"
    for args in (["list_queues"], ["status"], ["check_running"], ["delete_queue", "q"],
                 ["export_definitions", "-"]):
        r = ctl.run(*args, url=url, expect=69)
        assert r.stdout == ""
        assert r.stderr.splitlines()[-1].startswith(f"Error: unable to reach the broker at {url}: "), r.stderr


def test_amqp_port_is_not_a_management_api(ctl, cb):
    """--url pointing at the AMQP listener (a common mistake): it answers with the AMQP header."""
    r = ctl.run("list_queues", url=f"http://127.0.0.1:{cb.port}", expect=69)
    assert r.stderr.splitlines()[-1].startswith(f"Error: unable to reach the broker at http://127.0.0.1:{cb.port}")


def test_usage_errors_exit_64(ctl):
    r = ctl.run("add_user", "only-a-name", expect=64)
    assert "Missing expected argument '<password>'" in r.stderr
    r = ctl.run("list_queues", "--formatter", "xml", expect=64)
    assert "'xml' is invalid for '--formatter" in r.stderr
    r = ctl.run("list_queues", url="ftp://127.0.0.1/", expect=64)
    assert "--url must be an http:// or https:// URL, got 'ftp://127.0.0.1/'" in r.stderr


# ---------------------------------------------------------------- a broker in alarm

@pytest.fixture(scope="module")
def alarm_broker(_broker_server, ctl_binary, tmp_path_factory):
    """A second broker of the kind under test whose disk alarm is on from the start (a free-disk
    limit no disk meets; the line comes after brokers.py's own disk_free_limit, and the last wins)."""
    b = start_own_broker(_broker_server.name, tmp_path_factory, "warrenctl-alarm", management=True,
                         config_lines=["disk_free_limit.absolute = 900000GB"])
    yield b
    b.stop(grace=3)  # throwaway state: no need to wait for a clean shutdown


@pytest.fixture
def actl(ctl_binary, alarm_broker, clean_home):
    if not alarm_broker.alive():
        pytest.fail(f"{alarm_broker.name} (alarm) died; log tail:\n{alarm_broker.log_tail()}")
    c = Ctl(ctl_binary, alarm_broker, clean_home)
    deadline = time.monotonic() + 15  # the disk monitor's first check
    while c.run("check_alarms", "-q", expect=None).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    return c


def test_check_alarms_fails_while_an_alarm_is_in_effect(actl):
    r = actl.run("check_alarms", expect=69)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == "Asking the broker if it has any alarms ..."
    assert len(lines) == 2 and lines[1].startswith("Error: check failed: "), r.stderr
    assert "disk" in lines[1]
    r = actl.run("check_alarms", "-q", expect=69)
    assert r.stdout == "" and r.stderr.startswith("Error: check failed: ")
    # the node is still up and running
    assert actl.run("check_running", "-q").stdout == ""
    assert actl.run("await_startup", "-q", "-t", "5").stderr == ""


def test_check_alarms_reports_the_api_answer(actl):
    """The 503 body of GET /api/health/checks/alarms, as warrenctl passes it on (RabbitMQ 3.10:
    rabbit_mgmt_wm_health_check_alarms, alarms formatted by rabbit_alarm:format_as_maps)."""
    node = actl.json("status")["node"]
    r = actl.run("check_alarms", "-q", expect=69)
    body = json.loads(r.stderr.strip().removeprefix("Error: check failed: "))
    assert body == {"status": "failed", "reason": "There are alarms in effect in the cluster",
                    "alarms": [{"node": node, "resource": "disk space"}]}


def test_status_and_cluster_status_list_the_alarms(actl):
    """status/cluster_status exit 0 and show the alarm itself under "alarms", not an error text."""
    for verb in ("status", "cluster_status"):
        alarms = actl.json(verb)["alarms"]
        assert len(alarms) == 1, (verb, alarms)
        text = json.dumps(alarms)
        assert "disk" in text, (verb, alarms)
        assert "check failed" not in text and "Error" not in text, (verb, alarms)

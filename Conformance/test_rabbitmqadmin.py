"""Debian's `rabbitmqadmin` (the management plugin's Python CLI, shipped by the rabbitmq-server
package as /usr/bin/rabbitmqadmin) run UNMODIFIED against both brokers' management HTTP API.

This module starts ONE extra broker of the kind under test with the management listener on a free
port (module-scoped `admin_broker`, `brokers.start_*(management=True)`) and runs
`python3 rabbitmqadmin --host 127.0.0.1 --port P -u guest -p guest ...` as a subprocess (the
script only needs the standard library; it is run by this interpreter so a different shebang in
the plugin's copy does not matter). Outputs are read with `-f raw_json` (the server's JSON as is)
and `-f tsv` (a header row of column names, then tab-separated rows).

What rabbitmqadmin 3.10.8 relies on, and so what is exercised here:
* `list X` sends `GET /api/X[/{vhost}]?columns=a,b` (default columns per type, e.g. queues:
  name,messages; exchanges: name,type; bindings: source,destination,routing_key) unless the format
  is JSON; `-S/-R` add `sort=`/`sort_reverse=true`; `-V vhost` lists one vhost.
* `declare` sends PUT (POST for bindings) with STRING booleans ("durable": "true") and the "vhost"
  and "name" keys in the body; `get` sends "count" as a string ("1").
* `publish` without payload= reads stdin and sends it base64 (payload_encoding "base64").
* `delete binding` needs the properties_key (default "~", the key of a binding with an empty
  routing key and no arguments).
* `export FILE` = GET /api/definitions, `import FILE` = POST /api/definitions with the file.
* Errors: 400 prints `*** <reason>`, 401 `*** Access refused: <path>`, 404 `*** Not found: <path>`
  on stderr with exit status 1; success is exit status 0 (and "<type> declared" etc. on stdout).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
import uuid

import pika
import pika.exceptions
import pytest

from util import management_config, start_own_broker, watched

pytestmark = pytest.mark.timeout(60)

def rabbitmqadmin_path():
    """The rabbitmqadmin installed by Debian's rabbitmq-server package (or the plugin's copy)."""
    candidates = ["/usr/bin/rabbitmqadmin"] + sorted(glob.glob(
        "/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/rabbitmq_management-*/priv/www/cli/rabbitmqadmin"))
    return next((p for p in candidates if os.path.isfile(p)), None)


@pytest.fixture(scope="module")
def admin_broker(_broker_server, tmp_path_factory):
    if rabbitmqadmin_path() is None:
        pytest.skip("rabbitmqadmin not installed (it comes with Debian's rabbitmq-server)")
    kind = _broker_server.name
    b = start_own_broker(kind, tmp_path_factory, "rabbitmqadmin", management=True,
                         config_lines=management_config(kind))
    yield b
    b.stop()


@pytest.fixture
def ab(admin_broker):
    yield from watched(admin_broker, "rabbitmqadmin")


class Admin:
    def __init__(self, broker):
        self.broker = broker

    def run(self, *args, user="guest", password="guest", stdin=None, ok=True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, rabbitmqadmin_path(), "--host", "127.0.0.1",
               "--port", str(self.broker.management_port), "-u", user, "-p", password, *args]
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30)
        if ok:
            assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return r

    def json(self, *args, **kw):
        """`-f raw_json ARGS`, parsed."""
        return json.loads(self.run("-f", "raw_json", *args, **kw).stdout)

    def tsv(self, *args, **kw) -> tuple[list[str], list[list[str]]]:
        """`-f tsv ARGS` -> (header, rows)."""
        lines = self.run("-f", "tsv", *args, **kw).stdout.splitlines()
        assert lines, f"no tsv output for {args}"
        return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]

    def poll_tsv(self, pred, *args, timeout=10.0):
        """Run `-f tsv ARGS` until pred(header, rows) (stats lag behind); returns the last result."""
        deadline = time.monotonic() + timeout
        while True:
            res = self.tsv(*args)
            if pred(*res) or time.monotonic() > deadline:
                return res
            time.sleep(0.2)


@pytest.fixture
def admin(ab):
    return Admin(ab)


@pytest.fixture
def conn(ab):
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=ab.host, port=ab.port, credentials=pika.PlainCredentials("guest", "guest"),
        connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30))
    yield c
    try:
        if c.is_open:
            c.close()
    except Exception:
        pass


@pytest.fixture
def ch(conn):
    c = conn.channel()
    c.confirm_delivery()
    return c


def uid(prefix="adm") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- listing

def test_version_needs_no_broker():
    path = rabbitmqadmin_path()
    if path is None:
        pytest.skip("rabbitmqadmin not installed")
    r = subprocess.run([sys.executable, path, "--version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("rabbitmqadmin ")


def test_list_vhosts_and_users(admin):
    header, rows = admin.tsv("list", "vhosts")
    assert header == ["name", "messages"]
    assert "/" in [r[0] for r in rows]
    users = admin.json("list", "users")
    g = next(u for u in users if u["name"] == "guest")
    assert g["tags"] == ["administrator"]
    perms = admin.json("list", "permissions")
    assert {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"} in perms


def test_list_queues(admin, ch):
    name = uid("q")
    ch.queue_declare(name)
    for i in range(2):
        ch.basic_publish("", name, b"x")
    queues = admin.json("list", "queues")
    assert name in [x["name"] for x in queues]
    header, rows = admin.poll_tsv(lambda h, rows: [name, "2"] in rows, "list", "queues")
    assert header == ["name", "messages"]
    assert [name, "2"] in rows
    header, rows = admin.tsv("list", "queues", "name", "durable", "auto_delete")
    assert header == ["name", "durable", "auto_delete"] and [name, "False", "False"] in rows
    ch.queue_delete(name)


def test_list_queues_sorted_and_by_vhost(admin, ch):
    prefix = uid("srt")
    for i in (1, 2, 0):
        ch.queue_declare(f"{prefix}.{i}")
    _, rows = admin.tsv("-S", "name", "-R", "list", "queues", "name")
    ours = [r[0] for r in rows if r[0].startswith(prefix)]
    assert ours == [f"{prefix}.2", f"{prefix}.1", f"{prefix}.0"]
    _, rows = admin.tsv("-V", "/", "list", "queues", "name")
    assert f"{prefix}.0" in [r[0] for r in rows]
    for i in range(3):
        ch.queue_delete(f"{prefix}.{i}")


def test_list_exchanges(admin):
    header, rows = admin.tsv("list", "exchanges")
    assert header == ["name", "type"]
    for row in (["", "direct"], ["amq.direct", "direct"], ["amq.fanout", "fanout"],
                ["amq.topic", "topic"], ["amq.headers", "headers"], ["amq.match", "headers"]):
        assert row in rows, row
    raw = admin.json("list", "exchanges")
    assert {"amq.direct", "amq.topic"} <= {x["name"] for x in raw}


def test_list_bindings(admin, ch):
    name = uid("q")
    ch.queue_declare(name)
    ch.queue_bind(name, "amq.topic", "a.#")
    header, rows = admin.tsv("list", "bindings")
    assert header == ["source", "destination", "routing_key"]
    assert ["amq.topic", name, "a.#"] in rows
    assert ["", name, name] in rows
    raw = admin.json("list", "bindings")
    b = next(b for b in raw if b["source"] == "amq.topic" and b["destination"] == name)
    assert (b["destination_type"], b["routing_key"], b["properties_key"]) == ("queue", "a.#", "a.%23")
    ch.queue_delete(name)


def test_list_connections_channels_consumers(admin, ab):
    cname = uid("conn")
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=ab.host, port=ab.port, client_properties={"connection_name": cname}, connection_attempts=1))
    try:
        chan = c.channel()
        q = chan.queue_declare("", exclusive=True).method.queue
        chan.basic_consume(q, lambda *a: None, consumer_tag="adm-ctag")
        deadline = time.monotonic() + 10
        while True:
            conns = [x for x in admin.json("list", "connections") if x.get("user_provided_name") == cname]
            if conns or time.monotonic() > deadline:
                break
            c.process_data_events(0.2)
        assert len(conns) == 1 and conns[0]["user"] == "guest"
        header, rows = admin.poll_tsv(lambda h, rows: [conns[0]["name"], "guest", "1"] in rows,
                                      "list", "connections")
        assert header == ["name", "user", "channels"]
        assert [conns[0]["name"], "guest", "1"] in rows
        header, rows = admin.poll_tsv(lambda h, rows: any(r[0].startswith(conns[0]["name"]) for r in rows),
                                      "list", "channels")
        assert header == ["name", "user"]
        assert [f"{conns[0]['name']} ({chan.channel_number})", "guest"] in rows
        consumers = admin.json("list", "consumers")
        assert [x["queue"]["name"] for x in consumers if x["consumer_tag"] == "adm-ctag"] == [q]
    finally:
        c.close()


def test_list_nodes_and_show_overview(admin):
    nodes = admin.json("list", "nodes")
    assert len(nodes) == 1 and isinstance(nodes[0]["name"], str)
    header, rows = admin.tsv("list", "nodes")
    assert header == ["name", "type", "mem_used"] and len(rows) == 1
    (overview,) = admin.json("show", "overview")
    assert isinstance(overview["rabbitmq_version"], str) and "object_totals" in overview
    header, rows = admin.tsv("show", "overview")
    assert header == ["rabbitmq_version", "cluster_name", "queue_totals.messages", "object_totals.queues"]
    assert len(rows) == 1 and rows[0][3].isdigit()


# ---------------------------------------------------------------- declare, publish, get, delete

def test_declare_and_delete_queue_exchange_binding(admin, ch):
    x, q = uid("x"), uid("q")
    r = admin.run("declare", "exchange", f"name={x}", "type=fanout")
    assert r.stdout.strip() == "exchange declared"
    admin.run("declare", "queue", f"name={q}", "durable=false", 'arguments={"x-max-length": 10}')
    admin.run("declare", "binding", f"source={x}", f"destination={q}", "routing_key=k")
    ch.exchange_declare(x, "fanout", durable=True, passive=True)
    ch.queue_declare(q, passive=True)
    ex = next(e for e in admin.json("list", "exchanges") if e["name"] == x)
    assert (ex["type"], ex["durable"], ex["auto_delete"], ex["internal"]) == ("fanout", True, False, False)
    qu = next(e for e in admin.json("list", "queues") if e["name"] == q)
    assert (qu["durable"], qu["arguments"]) == (False, {"x-max-length": 10})
    ch.basic_publish(x, "anything", b"fanned")
    assert ch.queue_declare(q, passive=True).method.message_count == 1
    assert ["k"] == [b["routing_key"] for b in admin.json("list", "bindings") if b["source"] == x]
    r = admin.run("delete", "binding", f"source={x}", "destination_type=queue", f"destination={q}",
                  "properties_key=k")
    assert r.stdout.strip() == "binding deleted"
    assert [b for b in admin.json("list", "bindings") if b["source"] == x] == []
    admin.run("delete", "queue", f"name={q}")
    admin.run("delete", "exchange", f"name={x}")
    for name in (x, q):
        assert name not in [o["name"] for o in admin.json("list", "queues") + admin.json("list", "exchanges")]


def test_delete_binding_with_default_properties_key(admin, ch):
    q = uid("q")
    ch.queue_declare(q)
    admin.run("declare", "binding", "source=amq.direct", f"destination={q}")
    assert [("amq.direct", "", "~")] == [(b["source"], b["routing_key"], b["properties_key"])
                                         for b in admin.json("list", "bindings")
                                         if b["destination"] == q and b["source"]]
    admin.run("delete", "binding", "source=amq.direct", "destination_type=queue", f"destination={q}")
    assert [b for b in admin.json("list", "bindings") if b["destination"] == q and b["source"]] == []
    ch.queue_delete(q)


def test_declare_exchange_to_exchange_binding(admin, ch):
    src, dst, q = uid("x"), uid("x"), uid("q")
    admin.run("declare", "exchange", f"name={src}", "type=direct")
    admin.run("declare", "exchange", f"name={dst}", "type=fanout")
    ch.queue_declare(q)
    ch.queue_bind(q, dst)
    admin.run("declare", "binding", f"source={src}", "destination_type=exchange", f"destination={dst}",
              "routing_key=e")
    ch.basic_publish(src, "e", b"hop")
    assert ch.queue_declare(q, passive=True).method.message_count == 1
    admin.run("delete", "binding", f"source={src}", "destination_type=exchange", f"destination={dst}",
              "properties_key=e")
    admin.run("delete", "exchange", f"name={src}")
    admin.run("delete", "exchange", f"name={dst}")
    ch.queue_delete(q)


def test_publish_and_get(admin, ch):
    q = uid("q")
    ch.queue_declare(q)
    r = admin.run("publish", "routing_key=" + q, "payload=hello from rabbitmqadmin",
                  'properties={"content_type": "text/plain", "headers": {"h": 1}}')
    assert r.stdout.strip() == "Message published"
    r = admin.run("publish", "exchange=amq.direct", "routing_key=nowhere", "payload=x")
    assert r.stdout.strip() == "Message published but NOT routed"
    admin.run("publish", "routing_key=" + q, stdin="from stdin\n")     # sent base64
    got = admin.json("get", f"queue={q}", "count=2")
    assert [m["payload"] for m in got] == ["hello from rabbitmqadmin", "from stdin\n"]
    assert got[0]["properties"] == {"content_type": "text/plain", "headers": {"h": 1}}
    assert (got[0]["routing_key"], got[0]["exchange"], got[0]["redelivered"], got[0]["message_count"]) == \
        (q, "", False, 1)
    # default ackmode ack_requeue_true: still there
    assert ch.queue_declare(q, passive=True).method.message_count == 2
    header, rows = admin.tsv("get", f"queue={q}", "ackmode=ack_requeue_false")
    row = dict(zip(header, rows[0]))
    assert (row["payload"], row["redelivered"], row["payload_bytes"]) == ("hello from rabbitmqadmin", "True", "24")
    assert ch.queue_declare(q, passive=True).method.message_count == 1
    _, _, body = ch.basic_get(q, auto_ack=True)
    assert body == b"from stdin\n"
    ch.queue_delete(q)


def test_get_payload_into_a_file(admin, ch, tmp_path):
    # (rabbitmqadmin 3.10.8 can only write string payloads: for a base64 one it calls bytes.encode)
    q = uid("q")
    ch.queue_declare(q)
    text = "line one\nline two – ü\n"
    ch.basic_publish("", q, text.encode())
    out = tmp_path / "payload.txt"
    header, rows = admin.tsv("get", f"queue={q}", f"payload_file={out}", "ackmode=ack_requeue_false")
    assert header == ["routing_key", "exchange", "message_count", "payload_bytes", "redelivered"]
    assert rows == [[q, "", "0", str(len(text.encode())), "False"]]
    assert out.read_bytes() == text.encode()
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    ch.queue_delete(q)


def test_purge_queue(admin, ch):
    q = uid("q")
    ch.queue_declare(q)
    for i in range(3):
        ch.basic_publish("", q, b"x")
    r = admin.run("purge", "queue", f"name={q}")
    assert r.stdout.strip() == "queue purged"
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    ch.queue_delete(q)


def test_close_connection(admin, ab):
    cname = uid("conn")
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=ab.host, port=ab.port, client_properties={"connection_name": cname}, connection_attempts=1))
    deadline = time.monotonic() + 10
    while True:
        conns = [x for x in admin.json("list", "connections") if x.get("user_provided_name") == cname]
        if conns or time.monotonic() > deadline:
            break
        c.process_data_events(0.2)
    assert conns
    r = admin.run("close", "connection", f"name={conns[0]['name']}")
    assert r.stdout.strip() == "connection closed"
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            c.process_data_events(0.1)
    assert (ei.value.reply_code, ei.value.reply_text) == (320, "CONNECTION_FORCED - Closed via management plugin")


def test_vhost_user_permission_administration(admin, ab):
    vh, user = uid("vh"), uid("user")
    admin.run("declare", "vhost", f"name={vh}")
    admin.run("declare", "user", f"name={user}", "password=pw-1", "tags=management")
    admin.run("declare", "permission", f"vhost={vh}", f"user={user}", "configure=.*", "write=.*", "read=.*")
    assert vh in [v["name"] for v in admin.json("list", "vhosts")]
    u = next(u for u in admin.json("list", "users") if u["name"] == user)
    assert u["tags"] == ["management"]
    assert {"user": user, "vhost": vh, "configure": ".*", "write": ".*", "read": ".*"} in admin.json("list", "permissions")
    # the new user can use the API (its own vhosts only) and AMQP
    _, rows = admin.tsv("list", "vhosts", "name", user=user, password="pw-1")
    assert rows == [[vh]]
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=ab.host, port=ab.port, virtual_host=vh, credentials=pika.PlainCredentials(user, "pw-1"),
        connection_attempts=1))
    c.close()
    admin.run("delete", "permission", f"vhost={vh}", f"user={user}")
    admin.run("delete", "user", f"name={user}")
    admin.run("delete", "vhost", f"name={vh}")
    assert user not in [u["name"] for u in admin.json("list", "users")]
    assert vh not in [v["name"] for v in admin.json("list", "vhosts")]


def test_declare_and_list_policy(admin, ch):
    name, prefix = uid("pol"), uid("polq")
    admin.run("declare", "policy", f"name={name}", f"pattern=^{prefix}", 'definition={"max-length": 1}',
              "apply-to=queues", "priority=2")
    pols = [p for p in admin.json("list", "policies") if p["name"] == name]
    assert pols == [{"vhost": "/", "name": name, "pattern": f"^{prefix}", "apply-to": "queues",
                     "definition": {"max-length": 1}, "priority": 2}]
    ch.queue_declare(prefix + ".q")
    for i in range(3):
        ch.basic_publish("", prefix + ".q", b"x")
    assert ch.queue_declare(prefix + ".q", passive=True).method.message_count == 1
    admin.run("delete", "policy", f"name={name}")
    assert name not in [p["name"] for p in admin.json("list", "policies")]
    ch.queue_delete(prefix + ".q")


# ---------------------------------------------------------------- definitions

def test_export_and_import_definitions(admin, ch, tmp_path):
    x, q = uid("x"), uid("q")
    ch.exchange_declare(x, "topic", durable=True)
    ch.queue_declare(q, durable=True, arguments={"x-max-length": 5})
    ch.queue_bind(q, x, "a.*")
    path = tmp_path / "defs.json"
    r = admin.run("export", str(path))
    assert r.stdout.startswith("Exported definitions for 127.0.0.1 to ")
    d = json.loads(path.read_text())
    assert {"name": q, "vhost": "/", "durable": True, "auto_delete": False,
            "arguments": {"x-max-length": 5}} in d["queues"]
    assert x in [e["name"] for e in d["exchanges"]]
    assert {"source": x, "vhost": "/", "destination": q, "destination_type": "queue",
            "routing_key": "a.*", "arguments": {}} in d["bindings"]
    assert "guest" in [u["name"] for u in d["users"]]
    # delete, import, and everything is back
    ch.queue_delete(q)
    ch.exchange_delete(x)
    r = admin.run("import", str(path))
    assert r.stdout.startswith("Uploaded definitions from ")
    ch.queue_declare(q, durable=True, arguments={"x-max-length": 5}, passive=True)
    ch.basic_publish(x, "a.b", b"after import")
    assert ch.queue_declare(q, passive=True).method.message_count == 1
    ch.queue_delete(q)
    ch.exchange_delete(x)


def test_export_and_import_one_vhost(admin, ch, tmp_path):
    q = uid("q")
    ch.queue_declare(q, durable=True)
    path = tmp_path / "vhost.json"
    admin.run("-V", "/", "export", str(path))
    d = json.loads(path.read_text())
    assert "users" not in d and "vhosts" not in d
    assert {"name": q, "durable": True, "auto_delete": False, "arguments": {}} in d["queues"]
    admin.run("declare", "vhost", "name=adm-copy")
    try:
        admin.run("-V", "adm-copy", "import", str(path))
        assert q in [x["name"] for x in admin.json("-V", "adm-copy", "list", "queues")]
    finally:
        admin.run("delete", "vhost", "name=adm-copy")
    ch.queue_delete(q)


# ---------------------------------------------------------------- errors

def test_errors_exit_1_with_the_reason(admin):
    r = admin.run("get", "queue=no.such.queue", ok=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "*** Not found: /api/queues/%2F/no.such.queue/get"
    r = admin.run("list", "queues", password="wrong", ok=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "*** Access refused: /api/queues?columns=name,messages"
    name = uid("q")
    admin.run("declare", "queue", f"name={name}", "durable=false")
    r = admin.run("declare", "queue", f"name={name}", "durable=true", ok=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (f"*** inequivalent arg 'durable' for queue '{name}' in vhost '/': "
                                "received 'true' but current is 'false'")
    admin.run("delete", "queue", f"name={name}")

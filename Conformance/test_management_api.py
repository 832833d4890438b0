"""The management HTTP API (RabbitMQ 3.10's rabbitmq_management plugin) and the Prometheus endpoint
(rabbitmq_prometheus), differentially.

This module starts ONE extra broker of the kind under test (module-scoped `mgmt_broker`,
`brokers.start_*(management=True)`: HTTP API and /metrics on free loopback ports) with DEFINITIONS
(users with each management tag, two extra vhosts), and talks to it with `requests` (HTTP) and pika
(AMQP). RabbitMQ gets `collect_statistics_interval = 500` and 1-second sample retention policies
(its management stats then lag ~1 s instead of 5 s; Warren gets the same
`collect_statistics_interval`); tests that read counters poll with a deadline.

Users (password "<name>-pw" unless said otherwise):
* guest/guest (administrator): everything everywhere.
* mgr (management): permissions in "mgmt-a" only.   * pm (policymaker): permissions in "mgmt-a" only.
* mon (monitoring): permissions in "/" only.        * notag (no tags): permissions in "/".

RabbitMQ 3.10 facts asserted here:
* Auth is HTTP Basic. No credentials: 401 with `WWW-Authenticate: Basic realm="RabbitMQ Management"`.
  Wrong password or unknown user: 401 `{"error":"not_authorized","reason":"Login failed"}` (and the
  same header). A user without a management tag: 401 `{"error":"not_authorised","reason":"Not
  management user"}` (note "authorised" here, "authorized" above). Non-administrators on
  administrator resources (users, permissions, vhost PUT, definitions): 401 "Not administrator
  user"; non-monitoring users on /api/nodes: 401 "Not monitor user"; a vhost one has no permission
  for: 401 "User not authorised to access virtual host"; a policy without the policymaker tag (or in
  a vhost without permissions): 401 "User not authorised to access object".
* management users see only the vhosts they have permissions for (in /api/vhosts, /api/queues,
  /api/exchanges, ...) and only their own connections; monitoring users see every vhost and every
  connection but cannot change anything outside their vhosts.
* Error bodies are JSON `{"error": ..., "reason": ...}`; unknown objects (and unknown paths) are 404
  `{"error":"Object Not Found","reason":"Not Found"}`; a method the resource does not have is 405.
* PUT of a new object is 201, of an existing (equivalent) one 204; DELETE is 204, of a missing
  object 404. Exchange/queue PUT with inequivalent properties: 400 `bad_request` with the AMQP
  reason text (`inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but
  current is 'direct'`). Exchange names starting "amq." are refused with 401 "Access refused.".
* PUT /api/users needs "tags" (400 `tags_not_present`), takes "password" or "password_hash"
  (sha256 scheme); tags come back as a list. A vhost created over HTTP gives its creator full
  permissions there.
* Bindings: POST -> 201, empty body, a Location header ending in the binding's props_key, which is
  the URL-quoted routing key when there are no arguments ("a.#" -> "a.%23", "" -> "~") and
  "<key>~<hash>" with arguments. The default exchange's implicit bindings are listed (source "").
* POST /api/queues/{v}/{q}/get: ack_requeue_true / reject_requeue_true leave the messages in the
  queue (redelivered afterwards), ack_requeue_false removes them; encoding "auto" gives a string
  payload for UTF-8 and base64 otherwise; truncate cuts the payload, payload_bytes is the full size;
  message_count is what is left behind the message.
* Pagination (?page=&page_size=) returns {filtered_count, item_count, items, page, page_count,
  page_size, total_count}; name filters are case-insensitive substring matches, or regexes with
  use_regex=true; a page far beyond the end is 400 `page_out_of_range`.
* DELETE /api/connections/{name} closes the connection with 320 `CONNECTION_FORCED - <X-Reason
  header>` (default reason "Closed via management plugin").
* Health checks answer {"status":"ok"}; port-listener for a port nothing listens on is 503
  {"status":"failed","reason":"No active listener","missing":P,"ports":[...]}.

Not asserted: node names, versions, timestamps, rates, memory figures, the hash part of props_key,
the exact order of unsorted lists, the body of a 401 without credentials (RabbitMQ: empty).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import uuid
from urllib.parse import quote

import pika
import pika.exceptions
import pytest
import requests

from util import management_config, start_own_broker, watched

# The first test starts the module's broker (RabbitMQ: ~7-10 s); stats-reading tests poll.
pytestmark = pytest.mark.timeout(60)

ALL = {"configure": ".*", "write": ".*", "read": ".*"}
PASSWORDS = {"guest": "guest", "mgr": "mgr-pw", "pm": "pm-pw", "mon": "mon-pw", "notag": "notag-pw"}
V = "%2F"  # the default vhost in a path


def password_hash(password: str) -> str:
    """rabbit_password_hashing_sha256: base64(4-byte salt ++ sha256(salt ++ password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _user(name, tags):
    return {"name": name, "password_hash": password_hash(PASSWORDS[name]),
            "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": tags}


DEFINITIONS = {
    "vhosts": [{"name": "/"}, {"name": "mgmt-a"}, {"name": "mgmt-b"}],
    "users": [_user("guest", "administrator"), _user("mgr", "management"),
              _user("pm", "policymaker"), _user("mon", "monitoring"), _user("notag", "")],
    "permissions": [{"user": "guest", "vhost": v, **ALL} for v in ("/", "mgmt-a", "mgmt-b")] + [
        {"user": "mgr", "vhost": "mgmt-a", **ALL}, {"user": "pm", "vhost": "mgmt-a", **ALL},
        {"user": "mon", "vhost": "/", **ALL}, {"user": "notag", "vhost": "/", **ALL}],
    "queues": [{"vhost": v, "name": f"{v}.q", "durable": True, "auto_delete": False, "arguments": {}}
               for v in ("mgmt-a", "mgmt-b")],
}

NOT_FOUND = {"error": "Object Not Found", "reason": "Not Found"}
LOGIN_FAILED = {"error": "not_authorized", "reason": "Login failed"}
REALM = 'Basic realm="RabbitMQ Management"'


def not_authorised(reason: str) -> dict:
    return {"error": "not_authorised", "reason": reason}


def bad_request(reason) -> dict:
    return {"error": "bad_request", "reason": reason}


def q(name: str) -> str:
    """A path segment."""
    return quote(name, safe="")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def mgmt_broker(_broker_server, tmp_path_factory):
    kind = _broker_server.name
    b = start_own_broker(kind, tmp_path_factory, "mgmt", management=True,
                         definitions=DEFINITIONS, config_lines=management_config(kind))
    yield b
    b.stop()


@pytest.fixture
def mb(mgmt_broker):
    yield from watched(mgmt_broker, "management")


class Api:
    """requests against one broker's management port, as one user."""

    def __init__(self, broker, user="guest", password=None, port=None):
        self.broker = broker
        self.user = user
        self.base = f"http://{broker.host}:{port or broker.management_port}"
        self.auth = (user, PASSWORDS.get(user, "") if password is None else password) if user else None

    def as_(self, user, password=None) -> "Api":
        return Api(self.broker, user, password)

    def req(self, method, path, **kw) -> requests.Response:
        kw.setdefault("timeout", 10)
        kw.setdefault("auth", self.auth)
        return requests.request(method, self.base + path, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, json=body if body is not None else {}, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, json=body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def ok(self, path, **kw):
        """GET that must answer 200; returns the JSON."""
        r = self.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def poll(self, path, pred, timeout=10.0, **kw):
        """GET path until pred(json) is truthy (stats lag behind); returns the last JSON."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(path, **kw)
            body = r.json() if r.status_code == 200 else None
            if body is not None:
                try:
                    if pred(body):
                        return body
                except (KeyError, TypeError, IndexError):
                    pass
            if time.monotonic() > deadline:
                return body
            time.sleep(0.1)


@pytest.fixture
def api(mb):
    return Api(mb)


@pytest.fixture
def connect(mb):
    """connect(user="guest", vhost="/", name=None, password=None) -> pika BlockingConnection."""
    conns = []

    def _connect(user="guest", vhost="/", name=None, password=None):
        props = {"connection_name": name} if name else None
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=mb.host, port=mb.port, virtual_host=vhost,
            credentials=pika.PlainCredentials(user, PASSWORDS.get(user, "") if password is None else password),
            client_properties=props, connection_attempts=1, socket_timeout=10,
            blocked_connection_timeout=30))
        conns.append(c)
        return c

    yield _connect
    for c in conns:
        try:
            if c.is_open:
                c.close()
        except Exception:
            pass


@pytest.fixture
def ch(connect):
    """A confirm-mode channel on a guest connection to "/"."""
    c = connect().channel()
    c.confirm_delivery()
    return c


def expect(r: requests.Response, status: int, body=None):
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    if body is not None:
        assert r.headers.get("content-type", "").startswith("application/json"), r.headers
        assert r.json() == body
    return r


def uid(prefix="m") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- authentication and tags

def test_no_credentials_is_401_with_basic_challenge(api):
    r = api.get("/api/overview", auth=None)
    assert r.status_code == 401
    assert r.headers.get("www-authenticate") == REALM


@pytest.mark.parametrize("user,password", [("guest", "wrong"), ("nobody", "x"), ("mgr", "")])
def test_bad_credentials_are_401_login_failed(api, user, password):
    r = expect(api.as_(user, password).get("/api/overview"), 401, LOGIN_FAILED)
    assert r.headers.get("www-authenticate") == REALM


def test_user_without_tags_is_not_a_management_user(api):
    expect(api.as_("notag").get("/api/overview"), 401, not_authorised("Not management user"))
    expect(api.as_("notag").get("/api/whoami"), 401, not_authorised("Not management user"))


def test_whoami(api):
    assert api.ok("/api/whoami") == {"name": "guest", "tags": ["administrator"]}
    assert api.as_("mgr").ok("/api/whoami") == {"name": "mgr", "tags": ["management"]}
    assert api.as_("mon").ok("/api/whoami") == {"name": "mon", "tags": ["monitoring"]}


def test_management_user_sees_only_its_vhosts(api):
    mgr = api.as_("mgr")
    assert [v["name"] for v in mgr.ok("/api/vhosts")] == ["mgmt-a"]
    assert {(x["vhost"], x["name"]) for x in mgr.ok("/api/queues")} == {("mgmt-a", "mgmt-a.q")}
    assert {x["vhost"] for x in mgr.ok("/api/exchanges")} == {"mgmt-a"}
    assert mgr.ok("/api/queues/mgmt-a/mgmt-a.q")["name"] == "mgmt-a.q"
    denied = not_authorised("User not authorised to access virtual host")
    expect(mgr.get("/api/queues/mgmt-b"), 401, denied)
    expect(mgr.get("/api/queues/mgmt-b/mgmt-b.q"), 401, denied)
    expect(mgr.put(f"/api/queues/{V}/{uid('mgr')}", {}), 401, denied)
    # A vhost that does not exist is 404 before any permission check.
    expect(mgr.get("/api/queues/no-such-vhost"), 404, NOT_FOUND)
    expect(mgr.get("/api/queues/no-such-vhost/q"), 404, NOT_FOUND)


def test_management_user_cannot_administer(api):
    mgr = api.as_("mgr")
    admin_only = not_authorised("Not administrator user")
    expect(mgr.get("/api/users"), 401, admin_only)
    expect(mgr.put(f"/api/users/{uid('u')}", {"password": "x", "tags": ""}), 401, admin_only)
    expect(mgr.put(f"/api/vhosts/{uid('vh')}", {}), 401, admin_only)
    expect(mgr.get("/api/permissions"), 401, admin_only)
    expect(mgr.get("/api/definitions"), 401, admin_only)
    expect(mgr.get("/api/nodes"), 401, not_authorised("Not monitor user"))


def test_management_user_sees_only_its_own_connections(api, connect):
    name = uid("conn")
    connect(name=name)                                    # guest's
    mine = uid("conn")
    connect("mgr", "mgmt-a", name=mine)
    seen = api.poll("/api/connections", lambda cs: {c.get("user_provided_name") for c in cs} >= {name, mine})
    assert {c.get("user_provided_name") for c in seen} >= {name, mine}
    theirs = api.as_("mgr").poll("/api/connections", lambda cs: len(cs) > 0)
    assert [(c["user"], c.get("user_provided_name")) for c in theirs] == [("mgr", mine)]


def test_monitoring_user_sees_all_vhosts_and_connections_but_objects_only_where_permitted(api, connect):
    mon = api.as_("mon")   # permissions in "/" only
    assert {"/", "mgmt-a", "mgmt-b"} <= {v["name"] for v in mon.ok("/api/vhosts")}
    assert {x["vhost"] for x in mon.ok("/api/queues")} <= {"/"}
    assert {x["vhost"] for x in mon.ok("/api/exchanges")} == {"/"}
    expect(mon.get("/api/queues/mgmt-b/mgmt-b.q"), 401, not_authorised("User not authorised to access virtual host"))
    assert len(mon.ok("/api/nodes")) == 1
    name = uid("conn")
    c = connect("mgr", "mgmt-a", name=name)
    c.channel()
    seen = mon.poll("/api/connections", lambda cs: name in {c.get("user_provided_name") for c in cs})
    conn = [c for c in seen if c.get("user_provided_name") == name]
    assert [(c["user"], c["vhost"]) for c in conn] == [("mgr", "mgmt-a")]
    chans = mon.poll("/api/channels", lambda chs: any(x["connection_details"]["name"] == conn[0]["name"] for x in chs))
    assert [x["vhost"] for x in chans if x["connection_details"]["name"] == conn[0]["name"]] == ["mgmt-a"]
    expect(mon.get("/api/users"), 401, not_authorised("Not administrator user"))
    expect(mon.put("/api/queues/mgmt-b/mon.q", {}), 401, not_authorised("User not authorised to access virtual host"))
    own = uid("mon")
    expect(mon.put(f"/api/queues/{V}/{own}", {}), 201)       # monitoring includes management
    expect(mon.delete(f"/api/queues/{V}/{own}"), 204)


def test_policymaker_can_set_policies_in_its_vhosts(api):
    pm, mgr = api.as_("pm"), api.as_("mgr")
    body = {"pattern": "^pm\\.", "definition": {"max-length": 5}, "apply-to": "queues"}
    name = uid("pol")
    expect(pm.put(f"/api/policies/mgmt-a/{name}", body), 201)
    assert [p["name"] for p in pm.ok("/api/policies/mgmt-a")] == [name]
    object_denied = not_authorised("User not authorised to access object")
    expect(pm.put(f"/api/policies/mgmt-b/{name}", body), 401, object_denied)
    expect(mgr.put(f"/api/policies/mgmt-a/{uid('pol')}", body), 401, object_denied)
    expect(pm.delete(f"/api/policies/mgmt-a/{name}"), 204)


# ---------------------------------------------------------------- overview, nodes

def test_overview(api, ch):
    o = api.ok("/api/overview")
    for key in ("management_version", "rabbitmq_version", "product_version", "product_name",
                "node", "cluster_name"):
        assert isinstance(o[key], str) and o[key], key
    totals = o["object_totals"]
    for key in ("connections", "channels", "exchanges", "queues", "consumers"):
        assert isinstance(totals[key], int), key
    assert isinstance(o["queue_totals"], dict)
    assert isinstance(o["message_stats"], dict)
    assert isinstance(o["listeners"], list)
    assert any(li["protocol"] == "amqp" and li["port"] == api.broker.port for li in o["listeners"])
    assert {"direct", "fanout", "topic", "headers"} <= {t["name"] for t in o["exchange_types"]}
    assert o["node"] == api.ok("/api/nodes")[0]["name"]
    # object_totals follow declarations
    before = totals["queues"]
    name = uid("ot")
    ch.queue_declare(name)
    o = api.poll("/api/overview", lambda o: o["object_totals"]["queues"] == before + 1
                 and o["object_totals"]["connections"] >= 1 and o["object_totals"]["channels"] >= 1)
    assert o["object_totals"]["queues"] == before + 1
    assert o["object_totals"]["connections"] >= 1 and o["object_totals"]["channels"] >= 1
    ch.queue_delete(name)


def test_overview_queue_totals(api, ch):
    name = uid("qt")
    ch.queue_declare(name)
    before = api.poll("/api/overview", lambda o: "messages" in o["queue_totals"])["queue_totals"]
    for i in range(3):
        ch.basic_publish("", name, b"x")
    o = api.poll("/api/overview", lambda o: o["queue_totals"]["messages_ready"] >= before["messages_ready"] + 3)
    assert o["queue_totals"]["messages_ready"] >= before["messages_ready"] + 3
    assert o["queue_totals"]["messages"] >= o["queue_totals"]["messages_ready"]
    assert "messages_unacknowledged" in o["queue_totals"]
    ch.queue_delete(name)


def test_nodes(api):
    nodes = api.ok("/api/nodes")
    assert len(nodes) == 1
    n = nodes[0]
    assert isinstance(n["name"], str) and n["running"] is True
    for key in ("mem_used", "mem_limit", "fd_used", "disk_free", "disk_free_limit", "uptime"):
        assert isinstance(n[key], int), key
    assert n["mem_alarm"] is False and n["disk_free_alarm"] is False
    one = api.ok(f"/api/nodes/{q(n['name'])}")
    assert one["name"] == n["name"]


# ---------------------------------------------------------------- vhosts, users, permissions

def test_vhost_lifecycle(api, connect):
    name = uid("vh")
    expect(api.get(f"/api/vhosts/{q(name)}"), 404, NOT_FOUND)
    expect(api.put(f"/api/vhosts/{q(name)}", {"description": "for tests"}), 201)
    expect(api.put(f"/api/vhosts/{q(name)}", {"description": "for tests"}), 204)
    v = api.ok(f"/api/vhosts/{q(name)}")
    assert v["name"] == name and v["description"] == "for tests" and v["tracing"] is False
    assert name in [x["name"] for x in api.ok("/api/vhosts")]
    # the creating user gets full permissions: guest can use it over AMQP at once
    assert api.ok(f"/api/permissions/{q(name)}/guest") == {"user": "guest", "vhost": name, **ALL}
    c = connect(vhost=name)
    c.channel().queue_declare("inside")
    c.close()
    assert [x["name"] for x in api.ok(f"/api/queues/{q(name)}")] == ["inside"]
    expect(api.delete(f"/api/vhosts/{q(name)}"), 204)
    expect(api.get(f"/api/vhosts/{q(name)}"), 404, NOT_FOUND)
    expect(api.delete(f"/api/vhosts/{q(name)}"), 404, NOT_FOUND)
    expect(api.get(f"/api/queues/{q(name)}"), 404, NOT_FOUND)


def test_users_list_and_get(api):
    users = {u["name"]: u for u in api.ok("/api/users")}
    assert {"guest", "mgr", "pm", "mon", "notag"} <= set(users)
    g = api.ok("/api/users/guest")
    assert g["name"] == "guest" and g["tags"] == ["administrator"]
    assert g["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert isinstance(g["password_hash"], str) and g["password_hash"]
    assert users["notag"]["tags"] == []
    expect(api.get("/api/users/nobody"), 404, NOT_FOUND)


def test_user_put_with_password(api, connect):
    name = uid("user")
    expect(api.put(f"/api/users/{q(name)}", {"password": "s3cret", "tags": "management"}), 201)
    expect(api.put(f"/api/users/{q(name)}", {"password": "s3cret", "tags": "management,policymaker"}), 204)
    u = api.ok(f"/api/users/{q(name)}")
    assert u["name"] == name and u["tags"] == ["management", "policymaker"]
    assert api.as_(name, "s3cret").ok("/api/whoami") == {"name": name, "tags": ["management", "policymaker"]}
    expect(api.as_(name, "wrong").get("/api/whoami"), 401, LOGIN_FAILED)
    # AMQP login with the new password once it has permissions
    expect(api.put(f"/api/permissions/{V}/{q(name)}", ALL), 201)
    connect(name, password="s3cret").close()
    expect(api.delete(f"/api/users/{q(name)}"), 204)
    expect(api.get(f"/api/users/{q(name)}"), 404, NOT_FOUND)
    expect(api.delete(f"/api/users/{q(name)}"), 404, NOT_FOUND)
    expect(api.get(f"/api/permissions/{V}/{q(name)}"), 404, NOT_FOUND)


def test_deleting_a_user_closes_its_connections(api, connect):
    name = uid("gone")
    expect(api.put(f"/api/users/{q(name)}", {"password": "pw", "tags": ""}), 201)
    expect(api.put(f"/api/permissions/{V}/{q(name)}", ALL), 201)
    c = connect(name, password="pw")
    ch = c.channel()
    expect(api.delete(f"/api/users/{q(name)}"), 204)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            c.process_data_events(time_limit=0.2)
            ch.queue_declare("", exclusive=True)
    assert closed.value.reply_code == 320
    assert closed.value.reply_text == f"CONNECTION_FORCED - user '{name}' is deleted"


def test_user_put_with_password_hash(api, connect):
    name = uid("user")
    h = password_hash("hashed-pw")
    expect(api.put(f"/api/users/{q(name)}", {"password_hash": h, "tags": ""}), 201)
    u = api.ok(f"/api/users/{q(name)}")
    assert u["password_hash"] == h and u["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert u["tags"] == []
    expect(api.put(f"/api/permissions/{V}/{q(name)}", ALL), 201)
    connect(name, password="hashed-pw").close()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(name, password="other")
    expect(api.delete(f"/api/users/{q(name)}"), 204)


def test_user_put_without_tags_is_400(api):
    expect(api.put(f"/api/users/{uid('user')}", {"password": "x"}), 400, bad_request("tags_not_present"))


def test_permissions(api):
    perms = api.ok("/api/permissions")
    assert {"user": "mgr", "vhost": "mgmt-a", **ALL} in perms
    assert api.ok("/api/permissions/mgmt-a/mgr") == {"user": "mgr", "vhost": "mgmt-a", **ALL}
    assert {p["user"] for p in api.ok("/api/vhosts/mgmt-a/permissions")} == {"guest", "mgr", "pm"}
    assert [p["vhost"] for p in api.ok("/api/users/mon/permissions")] == ["/"]
    expect(api.get("/api/permissions/mgmt-b/mgr"), 404, NOT_FOUND)

    body = {"configure": "^c", "write": "^w", "read": "^r"}
    expect(api.put("/api/permissions/mgmt-b/mgr", body), 201)
    assert api.ok("/api/permissions/mgmt-b/mgr") == {"user": "mgr", "vhost": "mgmt-b", **body}
    expect(api.put("/api/permissions/mgmt-b/mgr", ALL), 204)
    assert api.ok("/api/permissions/mgmt-b/mgr") == {"user": "mgr", "vhost": "mgmt-b", **ALL}
    assert "mgmt-b" in [v["name"] for v in api.as_("mgr").ok("/api/vhosts")]
    expect(api.delete("/api/permissions/mgmt-b/mgr"), 204)
    expect(api.get("/api/permissions/mgmt-b/mgr"), 404, NOT_FOUND)
    expect(api.delete("/api/permissions/mgmt-b/mgr"), 404, NOT_FOUND)


def test_permissions_put_errors(api):
    expect(api.put("/api/permissions/no-such-vhost/mgr", ALL), 400, bad_request("vhost_or_user_not_found"))
    expect(api.put("/api/permissions/mgmt-b/nobody", ALL), 400, bad_request("vhost_or_user_not_found"))
    r = expect(api.put("/api/permissions/mgmt-b/mgr", {"configure": ".*"}), 400)
    assert r.json()["error"] == "bad_request"


def test_topic_permissions(api):
    assert api.ok("/api/topic-permissions") == []
    body = {"exchange": "amq.topic", "write": "^a", "read": ".*"}
    expect(api.put("/api/topic-permissions/mgmt-a/mgr", body), 201)
    entry = {"user": "mgr", "vhost": "mgmt-a", **body}
    assert api.ok("/api/topic-permissions") == [entry]
    assert api.ok("/api/topic-permissions/mgmt-a/mgr") == [entry]
    expect(api.delete("/api/topic-permissions/mgmt-a/mgr"), 204)
    expect(api.get("/api/topic-permissions/mgmt-a/mgr"), 404, NOT_FOUND)
    assert api.ok("/api/topic-permissions") == []


# ---------------------------------------------------------------- policies

def test_policy_lifecycle_and_effect(api, ch):
    prefix = uid("pol")
    name = uid("policy")
    body = {"pattern": f"^{re.escape(prefix)}", "definition": {"max-length": 1}, "priority": 3,
            "apply-to": "queues"}
    expect(api.put(f"/api/policies/{V}/{q(name)}", body), 201)
    expect(api.put(f"/api/policies/{V}/{q(name)}", body), 204)
    p = api.ok(f"/api/policies/{V}/{q(name)}")
    assert p == {"vhost": "/", "name": name, **body}
    assert p in api.ok("/api/policies") and p in api.ok(f"/api/policies/{V}")
    queue = prefix + ".q"
    ch.queue_declare(queue)
    for i in range(3):
        ch.basic_publish("", queue, f"{i}".encode())
    assert ch.queue_declare(queue, passive=True).method.message_count == 1
    qi = api.poll(f"/api/queues/{V}/{q(queue)}", lambda x: x["policy"] == name)
    assert qi["policy"] == name
    assert qi["effective_policy_definition"] == {"max-length": 1}
    expect(api.delete(f"/api/policies/{V}/{q(name)}"), 204)
    expect(api.get(f"/api/policies/{V}/{q(name)}"), 404, NOT_FOUND)
    expect(api.delete(f"/api/policies/{V}/{q(name)}"), 404, NOT_FOUND)
    ch.queue_delete(queue)


def test_exchange_shows_the_policy_that_applies(api, ch):
    prefix = uid("xpol")
    name = uid("xpolicy")
    body = {"pattern": f"^{re.escape(prefix)}", "definition": {"alternate-exchange": "amq.fanout"},
            "apply-to": "exchanges"}
    expect(api.put(f"/api/policies/{V}/{q(name)}", body), 201)
    exchange = prefix + ".x"
    ch.exchange_declare(exchange, "direct")
    try:
        x = api.poll(f"/api/exchanges/{V}/{q(exchange)}", lambda x: x.get("policy") == name)
        assert x["policy"] == name
    finally:
        expect(api.delete(f"/api/policies/{V}/{q(name)}"), 204)
        ch.exchange_delete(exchange)


def test_policy_put_invalid_definition_is_400(api):
    r = expect(api.put(f"/api/policies/{V}/{uid('bad')}", {"pattern": "x", "definition": {"max-length": "ten"}}), 400)
    assert r.json()["error"] == "bad_request"
    r = expect(api.put(f"/api/policies/{V}/{uid('bad')}", {"pattern": "x", "definition": {"no-such-key": 1}}), 400)
    assert r.json()["error"] == "bad_request"


def test_operator_policies(api):
    name = uid("op")
    body = {"pattern": "^op\\.", "definition": {"max-length": 5}, "priority": 0, "apply-to": "queues"}
    expect(api.put(f"/api/operator-policies/{V}/{q(name)}", body), 201)
    p = api.ok(f"/api/operator-policies/{V}/{q(name)}")
    assert p == {"vhost": "/", "name": name, **body}
    assert p in api.ok("/api/operator-policies")
    assert name not in [x["name"] for x in api.ok("/api/policies")]
    expect(api.delete(f"/api/operator-policies/{V}/{q(name)}"), 204)
    expect(api.get(f"/api/operator-policies/{V}/{q(name)}"), 404, NOT_FOUND)


# ---------------------------------------------------------------- exchanges

def test_exchanges_list(api):
    xs = {(x["vhost"], x["name"]): x for x in api.ok("/api/exchanges")}
    for name, kind in (("", "direct"), ("amq.direct", "direct"), ("amq.fanout", "fanout"),
                       ("amq.topic", "topic"), ("amq.headers", "headers"), ("amq.match", "headers")):
        x = xs[("/", name)]
        assert x["type"] == kind and x["durable"] is True and x["auto_delete"] is False
        assert x["internal"] is False and x["arguments"] == {}
    assert ("mgmt-a", "amq.direct") in xs
    assert {x["vhost"] for x in api.ok("/api/exchanges/mgmt-b")} == {"mgmt-b"}
    d = api.ok(f"/api/exchanges/{V}/amq.default")
    assert d["name"] == "" and d["type"] == "direct"
    expect(api.get(f"/api/exchanges/{V}/no.such.exchange"), 404, NOT_FOUND)
    expect(api.get("/api/exchanges/no-such-vhost"), 404, NOT_FOUND)


def test_exchange_put_get_delete(api, ch):
    name = uid("x")
    body = {"type": "topic", "durable": True, "auto_delete": False, "internal": False,
            "arguments": {"alternate-exchange": "amq.fanout"}}
    expect(api.put(f"/api/exchanges/{V}/{q(name)}", body), 201)
    expect(api.put(f"/api/exchanges/{V}/{q(name)}", body), 204)
    x = api.ok(f"/api/exchanges/{V}/{q(name)}")
    assert {k: x[k] for k in ("name", "vhost", "type", "durable", "auto_delete", "internal", "arguments")} == \
        {"name": name, "vhost": "/", **body}
    ch.exchange_declare(name, "topic", passive=True)      # it is real
    expect(api.delete(f"/api/exchanges/{V}/{q(name)}"), 204)
    expect(api.get(f"/api/exchanges/{V}/{q(name)}"), 404, NOT_FOUND)
    expect(api.delete(f"/api/exchanges/{V}/{q(name)}"), 404, NOT_FOUND)


def test_exchange_put_defaults(api):
    name = uid("x")
    expect(api.put(f"/api/exchanges/{V}/{q(name)}", {"type": "fanout"}), 201)
    x = api.ok(f"/api/exchanges/{V}/{q(name)}")
    assert (x["type"], x["durable"], x["auto_delete"], x["internal"], x["arguments"]) == \
        ("fanout", False, False, False, {})
    expect(api.delete(f"/api/exchanges/{V}/{q(name)}"), 204)


def test_exchange_put_inequivalent_is_400(api):
    name = uid("x")
    expect(api.put(f"/api/exchanges/{V}/{q(name)}", {"type": "direct", "durable": True}), 201)
    expect(api.put(f"/api/exchanges/{V}/{q(name)}", {"type": "fanout", "durable": True}), 400, bad_request(
        f"inequivalent arg 'type' for exchange '{name}' in vhost '/': received 'fanout' but current is 'direct'"))
    expect(api.put(f"/api/exchanges/{V}/{q(name)}", {"type": "direct", "durable": False}), 400, bad_request(
        f"inequivalent arg 'durable' for exchange '{name}' in vhost '/': received 'false' but current is 'true'"))
    expect(api.delete(f"/api/exchanges/{V}/{q(name)}"), 204)


def test_exchange_put_errors(api, ch):
    expect(api.put(f"/api/exchanges/{V}/{uid('x')}", {"type": "no-such-type"}), 400,
           bad_request("unknown exchange type 'no-such-type'"))
    expect(api.put(f"/api/exchanges/{V}/amq.{uuid.uuid4().hex[:8]}", {"type": "direct"}), 401,
           not_authorised("Access refused."))
    expect(api.put(f"/api/exchanges/no-such-vhost/{uid('x')}", {"type": "direct"}), 404,
           {"error": "not_found", "reason": "vhost_not_found"})
    r = api.req("PUT", f"/api/exchanges/{V}/{uid('x')}", data=b"{not json",
                headers={"content-type": "application/json"})
    expect(r, 400, bad_request("not_json"))


def test_exchange_delete_if_unused(api, ch):
    name, queue = uid("x"), uid("q")
    ch.exchange_declare(name, "direct")
    ch.queue_declare(queue)
    ch.queue_bind(queue, name, "k")
    expect(api.delete(f"/api/exchanges/{V}/{q(name)}?if-unused=true"), 400,
           bad_request(f"exchange '{name}' in vhost '/' in use"))
    ch.queue_unbind(queue, name, "k")
    expect(api.delete(f"/api/exchanges/{V}/{q(name)}?if-unused=true"), 204)
    ch.queue_delete(queue)


def test_exchange_publish(api, ch):
    name, queue = uid("x"), uid("q")
    ch.exchange_declare(name, "direct")
    ch.queue_declare(queue)
    ch.queue_bind(queue, name, "rk")
    body = {"properties": {"delivery_mode": 2, "headers": {"h": "v"}, "content_type": "text/plain",
                           "correlation_id": "c1", "priority": 3},
            "routing_key": "rk", "payload": "via http", "payload_encoding": "string"}
    expect(api.post(f"/api/exchanges/{V}/{q(name)}/publish", body), 200, {"routed": True})
    expect(api.post(f"/api/exchanges/{V}/{q(name)}/publish", {**body, "routing_key": "other"}), 200,
           {"routed": False})
    raw = b"\x00\x01\xfe\xff"
    expect(api.post(f"/api/exchanges/{V}/amq.default/publish",
                    {"properties": {}, "routing_key": queue, "payload": base64.b64encode(raw).decode(),
                     "payload_encoding": "base64"}), 200, {"routed": True})
    m, props, payload = ch.basic_get(queue, auto_ack=True)
    assert payload == b"via http" and m.exchange == name and m.routing_key == "rk"
    assert props.delivery_mode == 2 and props.headers == {"h": "v"} and props.content_type == "text/plain"
    assert props.correlation_id == "c1" and props.priority == 3
    m, props, payload = ch.basic_get(queue, auto_ack=True)
    assert payload == raw and m.exchange == "" and m.routing_key == queue
    ch.queue_delete(queue)
    ch.exchange_delete(name)


def test_exchange_publish_errors(api):
    r = expect(api.post(f"/api/exchanges/{V}/amq.direct/publish", {"routing_key": "a"}), 400)
    assert r.json()["error"] == "bad_request"
    expect(api.post(f"/api/exchanges/{V}/no.such.x/publish",
                    {"properties": {}, "routing_key": "a", "payload": "x", "payload_encoding": "string"}),
           400, bad_request("404 NOT_FOUND - no exchange 'no.such.x' in vhost '/'"))


# ---------------------------------------------------------------- queues

QUEUE_FIELDS = ("name", "vhost", "durable", "auto_delete", "exclusive", "arguments", "node", "state",
                "messages", "messages_ready", "messages_unacknowledged", "consumers")


def test_queues_list(api, ch):
    name = uid("q")
    ch.queue_declare(name, durable=True, arguments={"x-max-length": 10})
    listed = {(x["vhost"], x["name"]): x for x in api.ok("/api/queues")}
    x = listed[("/", name)]
    assert (x["durable"], x["auto_delete"], x["exclusive"], x["arguments"]) == (True, False, False, {"x-max-length": 10})
    assert ("mgmt-a", "mgmt-a.q") in listed
    assert ("mgmt-a", "mgmt-a.q") not in {(x["vhost"], x["name"]) for x in api.ok(f"/api/queues/{V}")}
    assert ("/", name) in {(x["vhost"], x["name"]) for x in api.ok(f"/api/queues/{V}")}
    ch.queue_delete(name)


def test_queue_get_one_with_stats(api, connect):
    c = connect()
    ch = c.channel()
    name = uid("q")
    ch.queue_declare(name, arguments={"x-message-ttl": 60000})
    for i in range(3):
        ch.basic_publish("", name, f"m{i}".encode())
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(name, lambda *a: None, consumer_tag="mgmt-ctag")
    c.process_data_events(0.2)
    x = api.poll(f"/api/queues/{V}/{q(name)}",
                 lambda x: (x["messages"], x["messages_ready"], x["messages_unacknowledged"], x["consumers"]) == (3, 2, 1, 1))
    for key in QUEUE_FIELDS:
        assert key in x, key
    assert (x["messages"], x["messages_ready"], x["messages_unacknowledged"], x["consumers"]) == (3, 2, 1, 1)
    assert (x["name"], x["vhost"], x["durable"], x["auto_delete"], x["exclusive"]) == (name, "/", False, False, False)
    assert x["arguments"] == {"x-message-ttl": 60000}
    assert x["state"] == "running"
    assert x["node"] == api.ok("/api/overview")["node"]
    assert [d["consumer_tag"] for d in x["consumer_details"]] == ["mgmt-ctag"]
    ch.queue_delete(name)


def test_exclusive_and_auto_delete_flags(api, ch):
    excl = ch.queue_declare("", exclusive=True).method.queue
    ad = uid("ad")
    ch.queue_declare(ad, auto_delete=True)
    x = api.ok(f"/api/queues/{V}/{q(excl)}")
    assert (x["exclusive"], x["auto_delete"], x["durable"]) == (True, False, False)
    x = api.ok(f"/api/queues/{V}/{q(ad)}")
    assert (x["exclusive"], x["auto_delete"]) == (False, True)


def test_queue_put_get_delete(api, ch):
    name = uid("q")
    body = {"durable": True, "auto_delete": False, "arguments": {"x-max-length": 7}}
    expect(api.put(f"/api/queues/{V}/{q(name)}", body), 201)
    expect(api.put(f"/api/queues/{V}/{q(name)}", body), 204)
    x = api.ok(f"/api/queues/{V}/{q(name)}")
    assert (x["name"], x["vhost"], x["durable"], x["auto_delete"], x["exclusive"], x["arguments"]) == \
        (name, "/", True, False, False, {"x-max-length": 7})
    ch.queue_declare(name, durable=True, arguments={"x-max-length": 7}, passive=True)
    expect(api.delete(f"/api/queues/{V}/{q(name)}"), 204)
    expect(api.get(f"/api/queues/{V}/{q(name)}"), 404, NOT_FOUND)
    expect(api.delete(f"/api/queues/{V}/{q(name)}"), 404, NOT_FOUND)


def test_queue_put_defaults(api):
    name = uid("q")
    expect(api.put(f"/api/queues/{V}/{q(name)}", {}), 201)
    x = api.ok(f"/api/queues/{V}/{q(name)}")
    assert (x["durable"], x["auto_delete"], x["exclusive"], x["arguments"]) == (False, False, False, {})
    expect(api.delete(f"/api/queues/{V}/{q(name)}"), 204)


def test_queue_put_inequivalent_and_invalid(api):
    name = uid("q")
    expect(api.put(f"/api/queues/{V}/{q(name)}", {"durable": True, "arguments": {"x-message-ttl": 60000}}), 201)
    expect(api.put(f"/api/queues/{V}/{q(name)}", {"durable": False, "arguments": {"x-message-ttl": 60000}}), 400,
           bad_request(f"inequivalent arg 'durable' for queue '{name}' in vhost '/': received 'false' but current is 'true'"))
    expect(api.put(f"/api/queues/{V}/{q(name)}", {"durable": True, "arguments": {"x-message-ttl": 1}}), 400,
           bad_request(f"inequivalent arg 'x-message-ttl' for queue '{name}' in vhost '/': received '1' but current is '60000'"))
    other = uid("q")
    expect(api.put(f"/api/queues/{V}/{q(other)}", {"arguments": {"x-max-length": "x"}}), 400,
           bad_request(f"invalid arg 'x-max-length' for queue '{other}' in vhost '/': \"expected integer, got longstr\""))
    expect(api.get(f"/api/queues/{V}/{q(other)}"), 404, NOT_FOUND)
    expect(api.delete(f"/api/queues/{V}/{q(name)}"), 204)


def test_queue_404s(api):
    expect(api.get(f"/api/queues/{V}/no.such.queue"), 404, NOT_FOUND)
    expect(api.get("/api/queues/no-such-vhost"), 404, NOT_FOUND)
    expect(api.get("/api/queues/no-such-vhost/q"), 404, NOT_FOUND)
    expect(api.delete(f"/api/queues/{V}/no.such.queue/contents"), 404, NOT_FOUND)


def test_queue_delete_if_empty_and_if_unused(api, connect):
    c = connect()
    ch = c.channel()
    name = uid("q")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"x")
    expect(api.delete(f"/api/queues/{V}/{q(name)}?if-empty=true"), 400,
           bad_request(f"queue '{name}' in vhost '/' not empty"))
    ch.basic_consume(name, lambda *a: None, auto_ack=True)
    c.process_data_events(0.2)
    expect(api.delete(f"/api/queues/{V}/{q(name)}?if-unused=true"), 400,
           bad_request(f"queue '{name}' in vhost '/' in use"))
    expect(api.delete(f"/api/queues/{V}/{q(name)}?if-empty=true"), 204)


def test_queue_purge(api, ch):
    name = uid("q")
    ch.queue_declare(name)
    for i in range(5):
        ch.basic_publish("", name, b"x")
    expect(api.delete(f"/api/queues/{V}/{q(name)}/contents"), 204)
    assert ch.queue_declare(name, passive=True).method.message_count == 0
    ch.queue_delete(name)


# ---------------------------------------------------------------- get messages

def _get(api, queue, **body):
    body.setdefault("count", 1)
    body.setdefault("ackmode", "ack_requeue_true")
    body.setdefault("encoding", "auto")
    r = api.post(f"/api/queues/{V}/{q(queue)}/get", body)
    assert r.status_code == 200, r.text
    return r.json()


def test_get_messages_ack_requeue_true(api, ch):
    name = uid("q")
    ch.queue_declare(name)
    for i in range(3):
        ch.basic_publish("", name, f"body {i}".encode(), pika.BasicProperties(
            content_type="text/plain", delivery_mode=2, headers={"n": i}, message_id=f"id{i}"))
    got = _get(api, name, count=2, truncate=50000)
    assert [m["payload"] for m in got] == ["body 0", "body 1"]
    m = got[0]
    assert set(m) >= {"payload", "payload_bytes", "payload_encoding", "redelivered", "exchange",
                      "routing_key", "message_count", "properties"}
    assert (m["payload_bytes"], m["payload_encoding"], m["redelivered"], m["exchange"], m["routing_key"]) == \
        (6, "string", False, "", name)
    assert [x["message_count"] for x in got] == [2, 1]
    assert m["properties"] == {"content_type": "text/plain", "delivery_mode": 2, "headers": {"n": 0},
                               "message_id": "id0"}
    # requeued, in order, now redelivered
    assert ch.queue_declare(name, passive=True).method.message_count == 3
    again = _get(api, name, count=3)
    assert [(x["payload"], x["redelivered"]) for x in again] == \
        [("body 0", True), ("body 1", True), ("body 2", False)]
    ch.queue_delete(name)


def test_get_messages_ack_requeue_false_removes(api, ch):
    name = uid("q")
    ch.queue_declare(name)
    for i in range(3):
        ch.basic_publish("", name, f"{i}".encode())
    got = _get(api, name, count=2, ackmode="ack_requeue_false")
    assert [m["payload"] for m in got] == ["0", "1"]
    assert ch.queue_declare(name, passive=True).method.message_count == 1
    ch.queue_delete(name)


def test_get_messages_reject_requeue_true_keeps(api, ch):
    name = uid("q")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"only")
    got = _get(api, name, count=5, ackmode="reject_requeue_true")
    assert [(m["payload"], m["redelivered"], m["message_count"]) for m in got] == [("only", False, 0)]
    assert ch.queue_declare(name, passive=True).method.message_count == 1
    _, _, body = ch.basic_get(name, auto_ack=True)
    assert body == b"only"
    ch.queue_delete(name)


def test_get_messages_encodings_and_truncate(api, ch):
    name = uid("q")
    ch.queue_declare(name)
    binary = b"\x00\x01\xffbin"
    ch.basic_publish("", name, binary)
    ch.basic_publish("", name, "héllo wörld".encode())
    got = _get(api, name, count=2)
    assert (got[0]["payload_encoding"], base64.b64decode(got[0]["payload"]), got[0]["payload_bytes"]) == \
        ("base64", binary, len(binary))
    assert not got[0]["properties"]          # RabbitMQ 3.10 sends [] for no properties
    assert (got[1]["payload_encoding"], got[1]["payload"]) == ("string", "héllo wörld")
    got = _get(api, name, count=2, encoding="base64")
    assert [(m["payload_encoding"], base64.b64decode(m["payload"])) for m in got] == \
        [("base64", binary), ("base64", "héllo wörld".encode())]
    got = _get(api, name, count=2, truncate=3)
    assert [(m["payload"], m["payload_bytes"]) for m in got][1] == ("hé", len("héllo wörld".encode()))
    assert base64.b64decode(got[0]["payload"]) == binary[:3]
    ch.queue_delete(name)


def test_get_messages_empty_queue_and_errors(api, ch):
    name = uid("q")
    ch.queue_declare(name)
    assert _get(api, name) == []
    r = expect(api.post(f"/api/queues/{V}/{q(name)}/get", {"count": 1}), 400)
    assert r.json() == bad_request("[{key_missing,ackmode},{key_missing,encoding}]")
    expect(api.post(f"/api/queues/{V}/no.such.queue/get",
                    {"count": 1, "ackmode": "ack_requeue_true", "encoding": "auto"}), 404,
           {"error": "not_found", "reason": "NOT_FOUND - no queue 'no.such.queue' in vhost '/'"})
    ch.queue_delete(name)


# ---------------------------------------------------------------- bindings

def _binding(source, dest, key, args=None, dest_type="queue", vhost="/"):
    return {"source": source, "vhost": vhost, "destination": dest, "destination_type": dest_type,
            "routing_key": key, "arguments": args or {}}


def _strip(b):
    return {k: v for k, v in b.items() if k != "properties_key"}


def test_bindings_lists(api, ch):
    x, queue, x2 = uid("x"), uid("q"), uid("x")
    ch.exchange_declare(x, "topic")
    ch.exchange_declare(x2, "fanout")
    ch.queue_declare(queue)
    ch.queue_bind(queue, x, "a.#")
    ch.exchange_bind(x2, x, "e2e")
    qb = _binding(x, queue, "a.#")
    eb = _binding(x, x2, "e2e", dest_type="exchange")
    default = _binding("", queue, queue)
    all_ = [_strip(b) for b in api.ok("/api/bindings")]
    assert qb in all_ and eb in all_ and default in all_
    in_vhost = [_strip(b) for b in api.ok(f"/api/bindings/{V}")]
    assert qb in in_vhost and eb in in_vhost
    assert all(b["vhost"] == "/" for b in in_vhost)
    q_bindings = api.ok(f"/api/queues/{V}/{q(queue)}/bindings")
    assert sorted((_strip(b) for b in q_bindings), key=lambda b: b["source"]) == [default, qb]
    assert {b["routing_key"]: b["properties_key"] for b in q_bindings} == {queue: queue, "a.#": "a.%23"}
    assert [_strip(b) for b in api.ok(f"/api/exchanges/{V}/{q(x)}/bindings/source")] in ([qb, eb], [eb, qb])
    assert [_strip(b) for b in api.ok(f"/api/exchanges/{V}/{q(x2)}/bindings/destination")] == [eb]
    assert api.ok(f"/api/exchanges/{V}/{q(x2)}/bindings/source") == []
    assert [_strip(b) for b in api.ok(f"/api/bindings/{V}/e/{q(x)}/q/{q(queue)}")] == [qb]
    assert [_strip(b) for b in api.ok(f"/api/bindings/{V}/e/{q(x)}/e/{q(x2)}")] == [eb]
    ch.queue_delete(queue)
    ch.exchange_delete(x)
    ch.exchange_delete(x2)


def test_binding_create_and_delete_exchange_to_queue(api, ch):
    x, queue = uid("x"), uid("q")
    ch.exchange_declare(x, "direct")
    ch.queue_declare(queue)
    base = f"/api/bindings/{V}/e/{q(x)}/q/{q(queue)}"
    r = expect(api.post(base, {"routing_key": "rk", "arguments": {"x-a": "b"}}), 201)
    r2 = expect(api.post(base, {"routing_key": "plain"}), 201)
    r3 = expect(api.post(base, {}), 201)
    listed = {b["routing_key"]: b for b in api.ok(base)}
    assert {k: _strip(v) for k, v in listed.items()} == {
        "rk": _binding(x, queue, "rk", {"x-a": "b"}), "plain": _binding(x, queue, "plain"), "": _binding(x, queue, "")}
    assert listed["plain"]["properties_key"] == "plain"
    assert listed[""]["properties_key"] == "~"
    assert listed["rk"]["properties_key"].startswith("rk~")
    for resp, key in ((r, "rk"), (r2, "plain"), (r3, "")):
        assert resp.headers["location"].endswith("/" + listed[key]["properties_key"]), resp.headers
    # routing works
    ch.basic_publish(x, "plain", b"routed")
    assert ch.queue_declare(queue, passive=True).method.message_count == 1
    pk = listed["rk"]["properties_key"]
    assert _strip(api.ok(f"{base}/{q(pk)}")) == _binding(x, queue, "rk", {"x-a": "b"})
    expect(api.delete(f"{base}/{q(pk)}"), 204)
    expect(api.get(f"{base}/{q(pk)}"), 404, NOT_FOUND)
    expect(api.delete(f"{base}/{q(pk)}"), 404, NOT_FOUND)
    expect(api.delete(f"{base}/plain"), 204)
    assert [b["routing_key"] for b in api.ok(base)] == [""]
    ch.queue_delete(queue)
    ch.exchange_delete(x)


def test_binding_create_and_delete_exchange_to_exchange(api, ch):
    src, dst, queue = uid("x"), uid("x"), uid("q")
    ch.exchange_declare(src, "direct")
    ch.exchange_declare(dst, "fanout")
    ch.queue_declare(queue)
    ch.queue_bind(queue, dst)
    base = f"/api/bindings/{V}/e/{q(src)}/e/{q(dst)}"
    r = expect(api.post(base, {"routing_key": "k"}), 201)
    assert r.headers["location"].endswith("/k")
    assert [_strip(b) for b in api.ok(base)] == [_binding(src, dst, "k", dest_type="exchange")]
    ch.basic_publish(src, "k", b"via e2e")
    assert ch.queue_declare(queue, passive=True).method.message_count == 1
    expect(api.delete(f"{base}/k"), 204)
    assert api.ok(base) == []
    ch.queue_delete(queue)
    ch.exchange_delete(src)
    ch.exchange_delete(dst)


def test_binding_errors(api, ch):
    queue = uid("q")
    ch.queue_declare(queue)
    expect(api.post(f"/api/bindings/{V}/e/amq.direct/q/no.such.queue", {"routing_key": "k"}), 404,
           {"error": "not_found", "reason": "no queue 'no.such.queue' in vhost '/'"})
    expect(api.post(f"/api/bindings/{V}/e/no.such.x/q/{q(queue)}", {"routing_key": "k"}), 404,
           {"error": "not_found", "reason": "no exchange 'no.such.x' in vhost '/'"})
    expect(api.post(f"/api/bindings/{V}/e/amq.default/q/{q(queue)}", {"routing_key": "k"}), 401,
           not_authorised("Access refused."))
    ch.queue_delete(queue)


# ---------------------------------------------------------------- connections, channels, consumers

def _find_connection(api, name, timeout=10.0):
    cs = api.poll("/api/connections", lambda cs: any(c.get("user_provided_name") == name for c in cs), timeout)
    found = [c for c in cs if c.get("user_provided_name") == name]
    assert found, f"connection {name!r} not listed: {cs}"
    return found[0]


def test_connections_list_and_get(api, connect):
    name = uid("conn")
    c = connect(name=name)
    info = _find_connection(api, name)
    for key in ("name", "user", "vhost", "node", "peer_host", "peer_port", "host", "port", "protocol",
                "client_properties", "channel_max", "frame_max", "timeout", "auth_mechanism", "connected_at"):
        assert key in info, key
    assert (info["user"], info["vhost"], info["peer_host"], info["port"]) == ("guest", "/", "127.0.0.1", api.broker.port)
    assert info["protocol"] == "AMQP 0-9-1" and info["auth_mechanism"] == "PLAIN"
    assert info["client_properties"]["connection_name"] == name
    assert info["client_properties"]["product"] == "Pika Python Client Library"
    assert (info["channel_max"], info["frame_max"]) == (c._impl.params.channel_max, c._impl.params.frame_max)
    assert info["name"] == f"127.0.0.1:{info['peer_port']} -> 127.0.0.1:{api.broker.port}"
    one = api.ok(f"/api/connections/{q(info['name'])}")
    assert one["name"] == info["name"] and one["user_provided_name"] == name
    assert info["name"] in [x["name"] for x in api.ok(f"/api/vhosts/{V}/connections")]
    expect(api.get(f"/api/connections/{q('127.0.0.1:1 -> 127.0.0.1:2')}"), 404, NOT_FOUND)


def test_connection_delete_closes_it_with_x_reason(api, connect):
    name = uid("conn")
    c = connect(name=name)
    info = _find_connection(api, name)
    expect(api.delete(f"/api/connections/{q(info['name'])}", headers={"X-Reason": "bye from the api"}), 204)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            c.process_data_events(0.1)
    assert (ei.value.reply_code, ei.value.reply_text) == (320, "CONNECTION_FORCED - bye from the api")


def test_connection_delete_default_reason(api, connect):
    name = uid("conn")
    c = connect(name=name)
    info = _find_connection(api, name)
    expect(api.delete(f"/api/connections/{q(info['name'])}"), 204)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            c.process_data_events(0.1)
    assert (ei.value.reply_code, ei.value.reply_text) == (320, "CONNECTION_FORCED - Closed via management plugin")
    r = api.poll("/api/connections", lambda cs: info["name"] not in [x["name"] for x in cs])
    assert info["name"] not in [x["name"] for x in r]


def test_channels(api, connect):
    name = uid("conn")
    c = connect(name=name)
    ch1 = c.channel()
    ch2 = c.channel()
    ch2.basic_qos(prefetch_count=7)
    conn_name = _find_connection(api, name)["name"]

    def ours(chs):
        return sorted((x for x in chs if x["connection_details"]["name"] == conn_name), key=lambda x: x["number"])

    chans = ours(api.poll("/api/channels", lambda chs: len(ours(chs)) == 2 and "prefetch_count" in ours(chs)[1]
                          and ours(chs)[1]["prefetch_count"] == 7))
    assert [x["number"] for x in chans] == [ch1.channel_number, ch2.channel_number]
    x = chans[1]
    assert x["name"] == f"{conn_name} ({ch2.channel_number})"
    assert (x["user"], x["vhost"], x["prefetch_count"], x["consumer_count"]) == ("guest", "/", 7, 0)
    assert x["confirm"] is False and x["transactional"] is False
    assert x["connection_details"]["peer_host"] == "127.0.0.1"
    assert sorted(y["name"] for y in api.ok(f"/api/connections/{q(conn_name)}/channels")) == \
        sorted(y["name"] for y in chans)
    one = api.ok(f"/api/channels/{q(x['name'])}")
    assert one["number"] == ch2.channel_number
    assert x["name"] in [y["name"] for y in api.ok(f"/api/vhosts/{V}/channels")]


def test_consumers(api, connect):
    name = uid("conn")
    c = connect(name=name)
    ch = c.channel()
    queue = uid("q")
    ch.queue_declare(queue)
    ch.basic_qos(prefetch_count=4)
    ch.basic_consume(queue, lambda *a: None, consumer_tag="ctag-1", arguments={"x-priority": 2})
    ch.basic_consume(queue, lambda *a: None, consumer_tag="ctag-2", auto_ack=True, exclusive=False)
    c.process_data_events(0.1)

    def ours(cs):
        return sorted((x for x in cs if x["queue"]["name"] == queue), key=lambda x: x["consumer_tag"])

    cs = ours(api.poll("/api/consumers", lambda cs: len(ours(cs)) == 2))
    assert [x["consumer_tag"] for x in cs] == ["ctag-1", "ctag-2"]
    a, b = cs
    assert a["queue"] == {"name": queue, "vhost": "/"}
    assert (a["ack_required"], a["exclusive"], a["prefetch_count"], a["arguments"]) == (True, False, 4, {"x-priority": 2})
    assert (b["ack_required"], b["arguments"]) == (False, {})
    assert a["active"] is True
    assert a["channel_details"]["number"] == ch.channel_number
    assert a["channel_details"]["user"] == "guest"
    assert {x["consumer_tag"] for x in ours(api.ok(f"/api/consumers/{V}"))} == {"ctag-1", "ctag-2"}
    assert ours(api.ok("/api/consumers/mgmt-a")) == []
    ch.basic_cancel("ctag-2")
    cs = ours(api.poll("/api/consumers", lambda cs: len(ours(cs)) == 1))
    assert [x["consumer_tag"] for x in cs] == ["ctag-1"]
    ch.queue_delete(queue)


# ---------------------------------------------------------------- definitions

def test_definitions_export(api, ch):
    x, queue, transient = uid("x"), uid("q"), uid("q")
    ch.exchange_declare(x, "fanout", durable=True)
    ch.queue_declare(queue, durable=True, arguments={"x-max-length": 3})
    ch.queue_declare(transient)
    excl = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(queue, x, "k")
    d = api.ok("/api/definitions")
    for key in ("rabbit_version", "rabbitmq_version", "users", "vhosts", "permissions", "topic_permissions",
                "parameters", "global_parameters", "policies", "queues", "exchanges", "bindings"):
        assert key in d, key
    assert {"name": "mgmt-a"}.items() <= next(v for v in d["vhosts"] if v["name"] == "mgmt-a").items()
    u = next(u for u in d["users"] if u["name"] == "mgr")
    assert (u["hashing_algorithm"], u["tags"]) == ("rabbit_password_hashing_sha256", ["management"])
    assert {"user": "mgr", "vhost": "mgmt-a", **ALL} in d["permissions"]
    queues = {(x["vhost"], x["name"]): x for x in d["queues"]}
    assert queues[("/", queue)] == {"name": queue, "vhost": "/", "durable": True, "auto_delete": False,
                                    "arguments": {"x-max-length": 3}}
    assert ("/", transient) in queues
    assert ("/", excl) not in queues
    exchanges = {(x["vhost"], x["name"]): x for x in d["exchanges"]}
    assert exchanges[("/", x)] == {"name": x, "vhost": "/", "type": "fanout", "durable": True,
                                   "auto_delete": False, "internal": False, "arguments": {}}
    assert not any(n.startswith("amq.") or n == "" for _, n in exchanges)
    assert _binding(x, queue, "k") in d["bindings"]
    assert not any(b["source"] == "" for b in d["bindings"])
    vd = api.ok(f"/api/definitions/{V}")
    assert "users" not in vd and "vhosts" not in vd and "permissions" not in vd
    assert {"name": queue, "durable": True, "auto_delete": False, "arguments": {"x-max-length": 3}} in vd["queues"]
    assert all("vhost" not in q_ for q_ in vd["queues"])
    ch.queue_delete(queue)
    ch.queue_delete(transient)
    ch.exchange_delete(x)


def test_definitions_import(api, ch):
    x, queue, user = uid("x"), uid("q"), uid("user")
    body = {
        "users": [{"name": user, "password_hash": password_hash("imported"),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "management"}],
        "permissions": [{"user": user, "vhost": "/", **ALL}],
        "queues": [{"name": queue, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}],
        "exchanges": [{"name": x, "vhost": "/", "type": "fanout", "durable": True, "auto_delete": False,
                       "internal": False, "arguments": {}}],
        "bindings": [{"source": x, "vhost": "/", "destination": queue, "destination_type": "queue",
                      "routing_key": "", "arguments": {}}],
    }
    expect(api.post("/api/definitions", body), 204)
    assert api.as_(user, "imported").ok("/api/whoami") == {"name": user, "tags": ["management"]}
    ch.basic_publish(x, "", b"through imported binding")
    assert ch.queue_declare(queue, durable=True, passive=True).method.message_count == 1
    # into one vhost: entries carry no vhost
    vq = uid("q")
    expect(api.post("/api/definitions/mgmt-b", {"queues": [{"name": vq, "durable": True, "auto_delete": False,
                                                            "arguments": {}}]}), 204)
    assert api.ok(f"/api/queues/mgmt-b/{q(vq)}")["name"] == vq
    r = api.req("POST", "/api/definitions", data=b"garbage", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    ch.queue_delete(queue)
    ch.exchange_delete(x)
    expect(api.delete(f"/api/queues/mgmt-b/{q(vq)}"), 204)
    expect(api.delete(f"/api/users/{q(user)}"), 204)


# ---------------------------------------------------------------- health checks

def test_health_checks(api):
    expect(api.get("/api/health/checks/alarms"), 200, {"status": "ok"})
    expect(api.get("/api/health/checks/local-alarms"), 200, {"status": "ok"})
    port = api.broker.port
    expect(api.get(f"/api/health/checks/port-listener/{port}"), 200, {"status": "ok", "port": port})


def test_health_check_port_listener_failed(api):
    r = expect(api.get("/api/health/checks/port-listener/1"), 503)
    body = r.json()
    assert (body["status"], body["reason"], body["missing"]) == ("failed", "No active listener", 1)
    assert api.broker.port in body["ports"]


def test_aliveness_test(api):
    expect(api.get(f"/api/aliveness-test/{V}"), 200, {"status": "ok"})
    expect(api.get("/api/aliveness-test/mgmt-a"), 200, {"status": "ok"})
    expect(api.get("/api/aliveness-test/no-such-vhost"), 404, NOT_FOUND)


# ---------------------------------------------------------------- pagination

def test_pagination(api, ch):
    prefix = f"pg{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}.{i}" for i in range(5)]
    for n in names:
        ch.queue_declare(n)
    total = len(api.ok("/api/queues"))
    p = api.ok(f"/api/queues?page=1&page_size=2&name={prefix}&use_regex=false&sort=name")
    assert set(p) == {"filtered_count", "item_count", "items", "page", "page_count", "page_size", "total_count"}
    assert (p["filtered_count"], p["item_count"], p["page"], p["page_count"], p["page_size"], p["total_count"]) == \
        (5, 2, 1, 3, 2, total)
    assert [x["name"] for x in p["items"]] == names[:2]
    p = api.ok(f"/api/queues?page=3&page_size=2&name={prefix}&sort=name")
    assert [x["name"] for x in p["items"]] == names[4:]
    assert (p["item_count"], p["page"]) == (1, 3)
    p = api.ok(f"/api/queues?page=1&page_size=3&name={prefix}&sort=name&sort_reverse=true")
    assert [x["name"] for x in p["items"]] == names[::-1][:3]
    # substring match is case-insensitive; regexes only with use_regex
    p = api.ok(f"/api/queues?page=1&page_size=10&name={prefix.upper()}&sort=name")
    assert [x["name"] for x in p["items"]] == names
    regex = quote("^" + prefix + r"\.[13]$")
    p = api.ok(f"/api/queues?page=1&page_size=10&name={regex}&use_regex=true&sort=name")
    assert [x["name"] for x in p["items"]] == [names[1], names[3]]
    p = api.ok(f"/api/queues?page=1&page_size=10&name={quote(prefix + '.*4')}&use_regex=false")
    assert p["filtered_count"] == 0 and p["items"] == [] and p["page_count"] == 0
    p = api.ok(f"/api/queues/{V}?page=1&page_size=10&name={prefix}&sort=name")
    assert [x["name"] for x in p["items"]] == names
    for n in names:
        ch.queue_delete(n)


def test_pagination_errors(api, ch):
    prefix = f"pg{uuid.uuid4().hex[:6]}"
    ch.queue_declare(prefix + ".only")
    expect(api.get(f"/api/queues?page=50&page_size=2&name={prefix}"), 400,
           {"error": "page_out_of_range", "reason": "Page out of range, page: 50 page size: 2, len: 1"})
    expect(api.get("/api/queues?page=1&page_size=1000"), 400,
           {"error": "invalid_pagination_parameters",
            "reason": "Invalid pagination parameters: page number 1, page size 1000"})
    expect(api.get("/api/queues?page=0&page_size=2"), 400,
           {"error": "invalid_pagination_parameters",
            "reason": "Invalid pagination parameters: page number 0, page size 2"})
    ch.queue_delete(prefix + ".only")


def test_columns(api, ch):
    name = uid("col")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"x")
    listed = api.poll("/api/queues?columns=name,messages",
                      lambda xs: {"name": name, "messages": 1} in xs)
    assert {"name": name, "messages": 1} in listed
    assert all(set(x) <= {"name", "messages"} for x in listed)
    one = api.ok(f"/api/queues/{V}/{q(name)}?columns=name,durable,arguments")
    assert one == {"name": name, "durable": False, "arguments": {}}
    o = api.ok("/api/overview?columns=object_totals.queues,rabbitmq_version")
    assert set(o) == {"object_totals", "rabbitmq_version"} and "queues" in o["object_totals"]
    ch.queue_delete(name)


def test_sort_without_paging_is_a_plain_list(api, ch):
    prefix = f"srt{uuid.uuid4().hex[:6]}"
    for i in (2, 0, 1):
        ch.queue_declare(f"{prefix}.{i}")
    listed = api.ok("/api/queues?sort=name&sort_reverse=true")
    assert isinstance(listed, list)
    ours = [x["name"] for x in listed if x["name"].startswith(prefix)]
    assert ours == [f"{prefix}.2", f"{prefix}.1", f"{prefix}.0"]
    for i in range(3):
        ch.queue_delete(f"{prefix}.{i}")


# ---------------------------------------------------------------- errors

def test_unknown_path_is_404(api):
    expect(api.get("/api/no-such-thing"), 404, NOT_FOUND)


def test_unsupported_method_is_405(api):
    assert api.post("/api/overview", {}).status_code == 405
    assert api.delete("/api/overview").status_code == 405
    assert api.req("PUT", "/api/whoami", json={}).status_code == 405


def test_responses_are_json(api):
    r = api.get("/api/overview")
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers.get("cache-control") == "no-cache"


# ---------------------------------------------------------------- message stats

def test_message_stats_publish_counters(api, ch):
    x, queue = uid("x"), uid("q")
    ch.exchange_declare(x, "direct")
    ch.queue_declare(queue)
    ch.queue_bind(queue, x, "k")
    base = api.poll("/api/overview", lambda o: "publish" in o["message_stats"])["message_stats"].get("publish", 0)
    for i in range(4):
        ch.basic_publish(x, "k", b"counted")
    ch.basic_publish(x, "unroutable", b"dropped")

    qi = api.poll(f"/api/queues/{V}/{q(queue)}", lambda v: v["message_stats"]["publish"] == 4)
    assert qi["message_stats"]["publish"] == 4
    assert isinstance(qi["message_stats"]["publish_details"]["rate"], (int, float))
    xi = api.poll(f"/api/exchanges/{V}/{q(x)}",
                  lambda v: (v["message_stats"]["publish_in"], v["message_stats"]["publish_out"]) == (5, 4))
    assert (xi["message_stats"]["publish_in"], xi["message_stats"]["publish_out"]) == (5, 4)
    o = api.poll("/api/overview", lambda o: o["message_stats"]["publish"] >= base + 5)
    assert o["message_stats"]["publish"] >= base + 5
    assert o["message_stats"]["confirm"] >= 5
    ch.queue_delete(queue)
    ch.exchange_delete(x)


def test_message_stats_deliver_get_ack(api, connect):
    c = connect()
    ch = c.channel()
    queue = uid("q")
    ch.queue_declare(queue)
    for i in range(3):
        ch.basic_publish("", queue, b"x")
    m, _, _ = ch.basic_get(queue)
    ch.basic_ack(m.delivery_tag)
    got = []
    ch.basic_consume(queue, lambda c_, m_, p_, b_: got.append(m_.delivery_tag))
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        c.process_data_events(0.1)
    for tag in got:
        ch.basic_ack(tag)

    def done(v):
        s = v["message_stats"]
        return (s["publish"], s["get"], s["deliver"], s["ack"], s["deliver_get"]) == (3, 1, 2, 3, 3)

    qi = api.poll(f"/api/queues/{V}/{q(queue)}", done)
    s = qi["message_stats"]
    assert (s["publish"], s["get"], s["deliver"], s["ack"], s["deliver_get"]) == (3, 1, 2, 3, 3)
    ch.queue_delete(queue)


# ---------------------------------------------------------------- Prometheus

def _scrape(broker, path="/metrics"):
    r = requests.get(f"http://{broker.host}:{broker.prometheus_port}{path}", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    return r.text


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def _samples(text):
    """{(name, frozenset(labels)): value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def _total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def test_prometheus_metrics(mb, connect):
    c = connect()
    c.channel()
    text = _scrape(mb)
    for family, kind in (("rabbitmq_queue_messages_ready", "gauge"), ("rabbitmq_connections", "gauge"),
                         ("rabbitmq_channels", "gauge"),
                         ("rabbitmq_global_messages_received_total", "counter"),
                         ("rabbitmq_global_messages_delivered_total", "counter"),
                         ("rabbitmq_global_messages_confirmed_total", "counter")):
        assert f"# TYPE {family} {kind}\n" in text, family
    s = _samples(text)
    assert ("rabbitmq_queue_messages_ready", frozenset()) in s
    assert ("rabbitmq_global_messages_received_total", frozenset({("protocol", "amqp091")})) in s
    assert ("rabbitmq_global_messages_confirmed_total", frozenset({("protocol", "amqp091")})) in s
    deadline = time.monotonic() + 10
    while s[("rabbitmq_connections", frozenset())] < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
        s = _samples(_scrape(mb))
    assert s[("rabbitmq_connections", frozenset())] >= 1
    assert s[("rabbitmq_channels", frozenset())] >= 1


def test_prometheus_global_counters_move(mb, connect):
    c = connect()
    ch = c.channel()
    ch.confirm_delivery()
    queue = uid("q")
    ch.queue_declare(queue)
    before = _samples(_scrape(mb))
    for i in range(5):
        ch.basic_publish("", queue, b"x")
    for i in range(5):
        m, _, _ = ch.basic_get(queue, auto_ack=True)
        assert m is not None
    names = ("rabbitmq_global_messages_received_total", "rabbitmq_global_messages_confirmed_total",
             "rabbitmq_global_messages_delivered_total")
    deadline = time.monotonic() + 10
    while True:
        after = _samples(_scrape(mb))
        deltas = {n: _total(after, n) - _total(before, n) for n in names}
        if all(d >= 5 for d in deltas.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert all(d >= 5 for d in deltas.values()), deltas
    ch.queue_delete(queue)


def test_prometheus_per_object_queue_series(mb, connect):
    ch = connect().channel()
    queue = uid("q")
    ch.queue_declare(queue)
    for i in range(3):
        ch.basic_publish("", queue, b"x")
    key = ("rabbitmq_queue_messages_ready", frozenset({("vhost", "/"), ("queue", queue)}))
    deadline = time.monotonic() + 10
    while True:
        text = _scrape(mb, "/metrics/per-object")
        s = _samples(text)
        if s.get(key) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert s.get(key) == 3, [k for k in s if k[0] == "rabbitmq_queue_messages_ready"]
    assert ("rabbitmq_queue_messages", frozenset({("vhost", "/"), ("queue", queue)})) in s
    assert ("rabbitmq_queue_consumers", frozenset({("vhost", "/"), ("queue", queue)})) in s
    # the aggregated endpoint has no per-queue labels
    assert not any(n == "rabbitmq_queue_messages_ready" and labels for n, labels in _samples(_scrape(mb)))
    ch.queue_delete(queue)

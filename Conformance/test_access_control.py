"""Virtual hosts, users, authentication, permissions, topic permissions, user-id, loopback users and
vhost limits.

Everything is set up by ONE definitions dict (DEFINITIONS, RabbitMQ's definitions-export format)
loaded at start-up: this module starts its own broker of the kind under test (module-scoped
`acl_broker`; the loopback tests start a second one bound to 0.0.0.0, `lan_broker`), and the tests
only talk AMQP to it, with a fresh connection per test.

Users (password = "<name>-pw" unless said otherwise) and what they may do:
* guest/guest (administrator): everything in every vhost; loopback-only.
* alice: everything in "/" and "team-a" (none in "team-b"); topic permissions in "team-a".
* limited: only vhost "acl", permissions spelled by the NAME of the resource: configure
  `^p\\.[a-z]*c[a-z]*\\.`, write `^p\\.[a-z]*w[a-z]*\\.`, read `^p\\.[a-z]*r[a-z]*\\.`, so limited may
  write to "p.w.x" and configure+read "p.cr.q1" but nothing on "p.none.q".
* searcher: "acl", configure `mid` (an unanchored search), write "" and read "" (deny all).
* norights: "acl" with "" "" "" (may open the vhost, may do nothing).
* nopass: password_hash "" (cannot log in with a password at all); everything in "/".
* imp (tags ["impersonator"], the list form 3.10 exports) and ops (tags "monitoring,impersonator",
  the comma-string form): everything in "/".
* remote, lan-only: everything in "/"; lan-only is in `loopback_users` for the lan broker.

RabbitMQ 3.10 facts asserted here:
* Any login failure (wrong password, unknown user, user with an empty password hash) is the same
  connection.close 403 `ACCESS_REFUSED - Login was refused using authentication mechanism <MECH>.
  For details see the broker logfile.` with class/method 0/0 (clients advertising
  authentication_failure_close; pika and py-amqp both do). py-amqp's default mechanism is AMQPLAIN.
* connection.open: the vhost connection limit is checked first (an unknown vhost fails there:
  530 `NOT_ALLOWED - vhost X not found`), then permissions (530 `NOT_ALLOWED - access to vhost 'v'
  refused for user 'u'`, any permission entry for the vhost, even "" "" "", grants access). Both
  are connection.close with class/method 10/40.
* A permission regex is an unanchored, case-sensitive `re:run` search over the resource name; ""
  means `^$`. The default exchange is checked (and named) as `amq.default`. A denial is a CHANNEL
  close 403 `ACCESS_REFUSED - access to <queue|exchange> 'n' in vhost 'v' refused for user 'u'`,
  checked BEFORE existence (deleting/purging/consuming a missing queue one may not touch is 403,
  not 404). Check points: exchange.declare/delete (configure), queue.declare/delete (configure),
  queue.purge/basic.get/basic.consume (read on the queue), queue.bind/unbind (write on the queue,
  then read on the exchange), exchange.bind/unbind (write on the destination, then read on the
  source), basic.publish (write on the exchange), x-dead-letter-exchange at queue creation (read
  on the queue, write on the DLX), alternate-exchange at exchange.declare (read on the exchange,
  write on the AE). Passive declares check nothing.
* Topic permissions: keyed by exact exchange name, only for exchanges of type topic; no entry for
  an exchange means unrestricted; `{username}`/`{vhost}` are substituted into the regex. Write is
  checked at basic.publish against the routing key, read at queue.bind/unbind and exchange.bind
  (on the source) against the binding key: 403 `ACCESS_REFUSED - access to topic 'k' in exchange
  'x' in vhost 'v' refused for user 'u'`, a channel close.
* user_id other than the authenticated user (administrator or not, "" included): channel close
  406 `PRECONDITION_FAILED - user_id property set to 'x' but authenticated user was 'u'`;
  the `impersonator` tag lifts that.
* Loopback users: RabbitMQ looks at the LOCAL address of the socket (rabbit_net:is_loopback/1 on
  sockname): 127.0.0.0/8 and ::1 are loopback, so connecting to 127.0.0.2 does not simulate a
  remote client. The refusal is the same 403 "Login was refused ..." as a wrong password.
* Vhost limits (imported only from "parameters", component "vhost-limits", name "limits"):
  max-connections reached -> connection.close 530 `NOT_ALLOWED - access to vhost 'v' refused for
  user 'u': connection limit (N) is reached` at connection.open (checked before permissions);
  max-queues reached -> channel close 406 `PRECONDITION_FAILED - cannot declare queue 'q': queue
  limit in vhost 'v' (N) is reached` for a NEW queue only (redeclare and passive still work).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import subprocess
import time
import uuid

import amqp
import amqp.exceptions
import pika
import pika.exceptions
import pytest

import amqpraw as R
from util import channel_closed, start_own_broker, sync

# ---------------------------------------------------------------- definitions

ALL = {"configure": ".*", "write": ".*", "read": ".*"}
VHOSTS = ["/", "acl", "team-a", "team-b",
          "lim-conn", "lim-conn1", "lim-conn0", "lim-q", "lim-q1", "lim-q0"]
PASSWORDS = {"guest": "guest", "alice": "alice-pw", "limited": "limited-pw",
             "searcher": "searcher-pw", "norights": "norights-pw", "imp": "imp-pw",
             "ops": "ops-pw", "remote": "remote-pw", "lan-only": "lan-only-pw", "nopass": "x"}


def password_hash(password: str) -> str:
    """rabbit_password_hashing_sha256: base64(4-byte salt ++ sha256(salt ++ password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _user(name, tags="", pw_hash=None):
    return {"name": name, "password_hash": password_hash(PASSWORDS[name]) if pw_hash is None else pw_hash,
            "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": tags}


def _perm(user, vhost, configure=".*", write=".*", read=".*"):
    return {"user": user, "vhost": vhost, "configure": configure, "write": write, "read": read}


def _topic_perm(exchange, write, read, user="alice", vhost="team-a"):
    return {"user": user, "vhost": vhost, "exchange": exchange, "write": write, "read": read}


def _limits(vhost, **value):
    return {"vhost": vhost, "component": "vhost-limits", "name": "limits",
            "value": {k.replace("_", "-"): v for k, v in value.items()}}


def _exchange(vhost, name, kind):
    return {"vhost": vhost, "name": name, "type": kind, "durable": True, "auto_delete": False,
            "internal": False, "arguments": {}}


def _queue(vhost, name):
    return {"vhost": vhost, "name": name, "durable": True, "auto_delete": False, "arguments": {}}


DEFINITIONS = {
    "vhosts": [{"name": v} for v in VHOSTS],
    "users": [
        _user("guest", "administrator"),
        _user("alice"), _user("limited"), _user("searcher"), _user("norights"),
        _user("nopass", pw_hash=""),
        _user("imp", ["impersonator"]),
        _user("ops", "monitoring,impersonator"),
        _user("remote"), _user("lan-only"),
    ],
    "permissions": [_perm("guest", v) for v in VHOSTS] + [
        _perm("alice", "/"), _perm("alice", "team-a"),
        _perm("limited", "acl", r"^p\.[a-z]*c[a-z]*\.", r"^p\.[a-z]*w[a-z]*\.", r"^p\.[a-z]*r[a-z]*\."),
        _perm("searcher", "acl", "mid", "", ""),
        _perm("norights", "acl", "", "", ""),
        _perm("nopass", "/"), _perm("imp", "/"), _perm("ops", "/"),
        _perm("remote", "/"), _perm("lan-only", "/"),
    ],
    "topic_permissions": [
        _topic_perm("topic.t", r"^{username}\.", r"^{vhost}\."),
        _topic_perm("topic.fixed", r"^logs\.(info|warn)$", r"^logs\."),
        _topic_perm("topic.empty", "", ""),
        _topic_perm("amq.direct", "^never$", "^never$"),   # not a topic exchange: never checked
    ],
    "parameters": [
        _limits("lim-conn", max_connections=2), _limits("lim-conn1", max_connections=1),
        _limits("lim-conn0", max_connections=0),
        _limits("lim-q", max_queues=2), _limits("lim-q1", max_queues=1), _limits("lim-q0", max_queues=0),
    ],
    "exchanges": [_exchange("acl", x, "direct") for x in ("p.r.x", "p.w.x", "p.rw.x", "p.none.x")]
    + [_exchange("team-a", x, "topic") for x in ("topic.t", "topic.fixed", "topic.empty", "topic.free")],
    "queues": [_queue("acl", q) for q in ("p.r.q", "p.w.q", "p.rw.q", "p.none.q")],
}

LOGIN_REFUSED = "ACCESS_REFUSED - Login was refused using authentication mechanism {}. For details see the broker logfile."


def denied(kind: str, name: str, user: str = "limited", vhost: str = "acl") -> str:
    return f"ACCESS_REFUSED - access to {kind} '{name}' in vhost '{vhost}' refused for user '{user}'"


def topic_denied(key: str, exchange: str, user: str = "alice", vhost: str = "team-a") -> str:
    return (f"ACCESS_REFUSED - access to topic '{key}' in exchange '{exchange}' in vhost '{vhost}' "
            f"refused for user '{user}'")


def uid(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- fixtures

def _start(kind, tmp_path_factory, tag, **kw):
    return start_own_broker(kind, tmp_path_factory, tag, definitions=DEFINITIONS, **kw)


@pytest.fixture(scope="module")
def acl_broker(_broker_server, tmp_path_factory):
    """A broker of the kind under test started with DEFINITIONS (one start per kind per module)."""
    b = _start(_broker_server.name, tmp_path_factory, "acl")
    yield b
    b.stop()


@pytest.fixture
def acl(acl_broker):
    if not acl_broker.alive():
        pytest.fail(f"{acl_broker.name} (acl) died; log tail:\n{acl_broker.log_tail()}")
    yield acl_broker
    if not acl_broker.alive():
        pytest.fail(f"{acl_broker.name} (acl) died during this test; log tail:\n{acl_broker.log_tail()}")


def _params(broker, user, vhost, password=None, host=None):
    return pika.ConnectionParameters(
        host=host or broker.host, port=broker.port, virtual_host=vhost,
        credentials=pika.PlainCredentials(user, PASSWORDS[user] if password is None else password),
        connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30)


def _closer(conns, close):
    for c in conns:
        try:
            close(c)
        except Exception:
            pass


@pytest.fixture
def connect(acl):
    """connect(user, vhost, password=None) -> pika BlockingConnection to the acl broker."""
    conns = []

    def _connect(user="guest", vhost="/", password=None, host=None):
        c = pika.BlockingConnection(_params(acl, user, vhost, password, host))
        conns.append(c)
        return c

    yield _connect
    _closer(conns, lambda c: c.is_open and c.close())


@pytest.fixture
def channel(connect):
    """channel(user, vhost) -> a channel on a fresh connection."""
    return lambda user="guest", vhost="/": connect(user, vhost).channel()


@pytest.fixture
def amqp_connect(acl):
    """py-amqp connections (they expose reply_code, reply_text and method_sig of a close)."""
    conns = []

    def _connect(user="guest", vhost="/", password=None, login_method=None):
        c = amqp.Connection(host=f"{acl.host}:{acl.port}", userid=user,
                            password=PASSWORDS[user] if password is None else password,
                            virtual_host=vhost, login_method=login_method, connect_timeout=10)
        conns.append(c)
        c.connect()
        return c

    yield _connect
    _closer(conns, lambda c: c.close())


@pytest.fixture
def raw(acl):
    conns = []

    def _connect():
        c = R.RawConnection(acl.host, acl.port)
        conns.append(c)
        return c

    yield _connect
    _closer(conns, lambda c: c.close())


def refused_at_open(exc_type, code: int, text: str):
    """What pika raises when the broker closes the connection during the handshake."""
    return pytest.raises(exc_type, match="^" + re.escape(f"ConnectionClosedByBroker: ({code}) {text!r}") + "$")


def py_amqp_error(exc_type, code: int, text: str, method_sig: tuple[int, int]):
    class _Check:
        def __enter__(self):
            self.cm = pytest.raises(exc_type)
            self.ei = self.cm.__enter__()
            return self.ei

        def __exit__(self, *exc):
            swallowed = self.cm.__exit__(*exc)
            e = self.ei.value
            assert (e.reply_code, e.reply_text, tuple(e.method_sig)) == (code, text, method_sig)
            return swallowed
    return _Check()


# ---------------------------------------------------------------- authentication

def test_wrong_password_is_refused_403(connect):
    with refused_at_open(pika.exceptions.ProbableAuthenticationError, 403, LOGIN_REFUSED.format("PLAIN")):
        connect("alice", password="wrong")


def test_unknown_user_is_refused_like_a_wrong_password(connect):
    with refused_at_open(pika.exceptions.ProbableAuthenticationError, 403, LOGIN_REFUSED.format("PLAIN")):
        connect("nobody-here", password="alice-pw")


@pytest.mark.parametrize("password", ["", "x"])
def test_user_without_password_hash_cannot_log_in_with_plain(connect, password):
    with refused_at_open(pika.exceptions.ProbableAuthenticationError, 403, LOGIN_REFUSED.format("PLAIN")):
        connect("nopass", password=password)


@pytest.mark.parametrize("user,password", [("alice", "wrong"), ("nobody-here", "x"), ("nopass", "")])
def test_login_failure_is_connection_close_403_class_method_0_0(raw, user, password):
    c = raw()
    c.start()
    c.start_ok(user, password, capabilities={"authentication_failure_close": True})
    f = c.expect(R.CONNECTION_CLOSE, 0)
    assert f.close_info() == (403, LOGIN_REFUSED.format("PLAIN"), 0, 0)


@pytest.mark.parametrize("login_method", [None, "AMQPLAIN", "PLAIN"])
def test_py_amqp_login_valid_user(amqp_connect, login_method):
    c = amqp_connect("alice", login_method=login_method)
    c.channel().queue_declare("", exclusive=True)


@pytest.mark.parametrize("login_method,mechanism", [(None, "AMQPLAIN"), ("AMQPLAIN", "AMQPLAIN"), ("PLAIN", "PLAIN")])
def test_py_amqp_wrong_password_names_the_mechanism(amqp_connect, login_method, mechanism):
    # py-amqp prefers AMQPLAIN when the broker offers it (login_method=None)
    with py_amqp_error(amqp.exceptions.AccessRefused, 403, LOGIN_REFUSED.format(mechanism), (0, 0)):
        amqp_connect("alice", password="wrong", login_method=login_method)


def test_amqplain_user_without_password_hash_is_refused(amqp_connect):
    with py_amqp_error(amqp.exceptions.AccessRefused, 403, LOGIN_REFUSED.format("AMQPLAIN"), (0, 0)):
        amqp_connect("nopass", password="", login_method="AMQPLAIN")


# ---------------------------------------------------------------- vhost access

def test_unknown_vhost_is_530_at_connection_open(amqp_connect):
    with py_amqp_error(amqp.exceptions.NotAllowed, 530, "NOT_ALLOWED - vhost no-such-vhost not found", (10, 40)):
        amqp_connect("alice", "no-such-vhost")


def test_vhost_without_permissions_is_530_at_connection_open(amqp_connect):
    with py_amqp_error(amqp.exceptions.NotAllowed, 530,
                       "NOT_ALLOWED - access to vhost 'team-b' refused for user 'alice'", (10, 40)):
        amqp_connect("alice", "team-b")


def test_vhost_without_permissions_pika(connect):
    with refused_at_open(pika.exceptions.ProbableAccessDeniedError, 530,
                         "NOT_ALLOWED - access to vhost '/' refused for user 'limited'"):
        connect("limited", "/")


def test_empty_permissions_open_the_vhost_but_allow_nothing(connect):
    ch = connect("norights", "acl").channel()
    with channel_closed(403, denied("queue", "anything", "norights")):
        ch.queue_declare("anything")


# ---------------------------------------------------------------- configure: exchanges

def test_exchange_declare_needs_configure(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.rw.new")):
        ch.exchange_declare("p.rw.new", "direct")


def test_exchange_declare_with_configure(channel):
    channel("limited", "acl").exchange_declare(uid("p.c.x."), "direct", auto_delete=True)


def test_exchange_redeclare_of_existing_needs_configure(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.none.x")):
        ch.exchange_declare("p.none.x", "direct", durable=True)


def test_exchange_declare_passive_checks_no_permission(channel):
    ch = channel("limited", "acl")
    ch.exchange_declare("p.none.x", passive=True)
    with channel_closed(404, "NOT_FOUND - no exchange 'p.none.missing' in vhost 'acl'"):
        ch.exchange_declare("p.none.missing", passive=True)


@pytest.mark.parametrize("name", ["p.rw.x", "p.rw.missing"])
def test_exchange_delete_needs_configure_even_if_missing(channel, name):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", name)):
        ch.exchange_delete(name)


def test_alternate_exchange_needs_write_on_the_ae(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.r.x")):
        ch.exchange_declare(uid("p.cr.x."), arguments={"alternate-exchange": "p.r.x"})


def test_alternate_exchange_needs_read_on_the_exchange(channel):
    ch = channel("limited", "acl")
    x = uid("p.c.x.")
    with channel_closed(403, denied("exchange", x)):
        ch.exchange_declare(x, arguments={"alternate-exchange": "p.w.x"})


def test_alternate_exchange_allowed(channel):
    channel("limited", "acl").exchange_declare(uid("p.cr.x."), auto_delete=True,
                                               arguments={"alternate-exchange": "p.w.x"})


# ---------------------------------------------------------------- configure: queues

@pytest.mark.parametrize("name", ["p.rw.new", "p.rw.q"])
def test_queue_declare_needs_configure_new_or_existing(channel, name):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", name)):
        ch.queue_declare(name, durable=True)


def test_queue_declare_with_configure(channel):
    q = uid("p.c.q.")
    assert channel("limited", "acl").queue_declare(q, exclusive=True).method.queue == q


def test_queue_declare_passive_checks_no_permission(channel):
    ch = channel("limited", "acl")
    assert ch.queue_declare("p.none.q", passive=True).method.queue == "p.none.q"
    with channel_closed(404, "NOT_FOUND - no queue 'p.none.missing' in vhost 'acl'"):
        ch.queue_declare("p.none.missing", passive=True)


def test_server_named_queue_needs_configure_on_the_generated_name(channel):
    ch = channel("limited", "acl")
    with channel_closed(403) as ei:
        ch.queue_declare("", exclusive=True)
    assert re.fullmatch(r"ACCESS_REFUSED - access to queue 'amq\.gen-[A-Za-z0-9_-]{22}' in vhost 'acl' "
                        r"refused for user 'limited'", ei.value.reply_text), ei.value.reply_text


@pytest.mark.parametrize("name", ["p.rw.q", "p.rw.missing"])
def test_queue_delete_needs_configure_even_if_missing(channel, name):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", name)):
        ch.queue_delete(name)


def test_queue_delete_with_configure(channel):
    ch = channel("limited", "acl")
    q = uid("p.c.q.")
    ch.queue_declare(q)
    ch.queue_delete(q)


def test_dead_letter_exchange_needs_write_on_the_dlx(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.r.x")):
        ch.queue_declare(uid("p.cr.q."), exclusive=True, arguments={"x-dead-letter-exchange": "p.r.x"})


def test_dead_letter_exchange_needs_read_on_the_queue(channel):
    ch = channel("limited", "acl")
    q = uid("p.c.q.")
    with channel_closed(403, denied("queue", q)):
        ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "p.w.x"})


def test_dead_letter_to_default_exchange_is_checked_as_amq_default(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "amq.default")):
        ch.queue_declare(uid("p.cr.q."), exclusive=True, arguments={"x-dead-letter-exchange": ""})


def test_dead_letter_exchange_allowed(channel):
    channel("limited", "acl").queue_declare(uid("p.cr.q."), exclusive=True,
                                            arguments={"x-dead-letter-exchange": "p.w.x"})


# ---------------------------------------------------------------- read: purge, get, consume

@pytest.mark.parametrize("name", ["p.w.q", "p.w.missing"])
def test_queue_purge_needs_read_even_if_missing(channel, name):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", name)):
        ch.queue_purge(name)


def test_queue_purge_with_read(channel):
    assert channel("limited", "acl").queue_purge("p.r.q").method.message_count == 0


def test_basic_get_needs_read(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", "p.w.q")):
        ch.basic_get("p.w.q")


def test_basic_get_with_read(channel):
    assert channel("limited", "acl").basic_get("p.r.q") == (None, None, None)


@pytest.mark.parametrize("name", ["p.w.q", "p.w.missing"])
def test_basic_consume_needs_read_even_if_missing(channel, name):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", name)):
        ch.basic_consume(name, lambda *a: None)


def test_basic_consume_with_read(channel):
    ch = channel("limited", "acl")
    assert ch.basic_consume("p.r.q", lambda *a: None)


# ---------------------------------------------------------------- bindings

def test_queue_bind_needs_write_on_the_queue(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", "p.r.q")):
        ch.queue_bind("p.r.q", "p.r.x", "k")


def test_queue_bind_needs_read_on_the_exchange(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.w.x")):
        ch.queue_bind("p.w.q", "p.w.x", "k")


def test_queue_bind_checks_the_queue_first(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", "p.r.q")):
        ch.queue_bind("p.r.q", "p.w.x", "k")


def test_queue_bind_allowed(channel):
    channel("limited", "acl").queue_bind("p.w.q", "p.r.x", uid("k."))


def test_queue_bind_permissions_come_before_existence(channel):
    ch = channel("limited", "acl")
    with channel_closed(404, "NOT_FOUND - no exchange 'p.r.missing' in vhost 'acl'"):
        ch.queue_bind("p.w.q", "p.r.missing", "k")


def test_queue_unbind_needs_write_on_the_queue(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("queue", "p.r.q")):
        ch.queue_unbind("p.r.q", "p.r.x", "k")


def test_queue_unbind_needs_read_on_the_exchange(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.w.x")):
        ch.queue_unbind("p.w.q", "p.w.x", "k")


def test_exchange_bind_needs_write_on_the_destination(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.r.x")):
        ch.exchange_bind(destination="p.r.x", source="p.rw.x", routing_key="k")


def test_exchange_bind_needs_read_on_the_source(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.w.x")):
        ch.exchange_bind(destination="p.w.x", source="p.w.x", routing_key="k")


def test_exchange_bind_allowed(channel):
    channel("limited", "acl").exchange_bind(destination="p.w.x", source="p.r.x", routing_key=uid("k."))


def test_exchange_unbind_needs_write_on_the_destination(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.r.x")):
        ch.exchange_unbind(destination="p.r.x", source="p.rw.x", routing_key="k")


def test_exchange_unbind_needs_read_on_the_source(channel):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", "p.w.x")):
        ch.exchange_unbind(destination="p.w.x", source="p.w.x", routing_key="k")


# ---------------------------------------------------------------- write: publish

@pytest.mark.parametrize("exchange,named", [("p.r.x", "p.r.x"), ("", "amq.default"),
                                            ("p.r.missing", "p.r.missing")])
def test_basic_publish_needs_write_on_the_exchange(channel, exchange, named):
    ch = channel("limited", "acl")
    with channel_closed(403, denied("exchange", named)):
        ch.basic_publish(exchange, "p.w.q", b"m")
        sync(ch)


def test_basic_publish_allowed_to_a_missing_exchange_is_404(channel):
    ch = channel("limited", "acl")
    with channel_closed(404, "NOT_FOUND - no exchange 'p.w.missing' in vhost 'acl'"):
        ch.basic_publish("p.w.missing", "k", b"m")
        sync(ch)


def test_basic_publish_allowed(channel):
    ch = channel("limited", "acl")
    ch.basic_publish("p.w.x", "k", b"m")
    sync(ch)


def test_denial_closes_the_channel_not_the_connection(connect):
    conn = connect("limited", "acl")
    ch = conn.channel()
    with channel_closed(403, denied("queue", "p.w.q")):
        ch.basic_get("p.w.q")
    assert conn.is_open and ch.is_closed
    assert conn.channel().basic_get("p.r.q") == (None, None, None)


@pytest.mark.parametrize("action,code,text,method_sig", [
    (lambda ch: ch.queue_declare("p.rw.q", durable=True), 403, denied("queue", "p.rw.q"), (50, 10)),
    (lambda ch: ch.queue_delete("p.rw.q"), 403, denied("queue", "p.rw.q"), (50, 40)),
    (lambda ch: ch.queue_purge("p.w.q"), 403, denied("queue", "p.w.q"), (50, 30)),
    (lambda ch: ch.queue_bind("p.w.q", "p.w.x", "k"), 403, denied("exchange", "p.w.x"), (50, 20)),
    (lambda ch: ch.queue_unbind("p.r.q", "p.r.x", "k"), 403, denied("queue", "p.r.q"), (50, 50)),
    (lambda ch: ch.exchange_declare("p.rw.n", "direct"), 403, denied("exchange", "p.rw.n"), (40, 10)),
    (lambda ch: ch.exchange_delete("p.rw.x"), 403, denied("exchange", "p.rw.x"), (40, 20)),
    (lambda ch: ch.exchange_bind("p.r.x", "p.rw.x", "k"), 403, denied("exchange", "p.r.x"), (40, 30)),
    (lambda ch: ch.exchange_unbind("p.r.x", "p.rw.x", "k"), 403, denied("exchange", "p.r.x"), (40, 40)),
    (lambda ch: ch.basic_get("p.w.q"), 403, denied("queue", "p.w.q"), (60, 70)),
    (lambda ch: ch.basic_consume("p.w.q"), 403, denied("queue", "p.w.q"), (60, 20)),
    (lambda ch: (ch.basic_publish(amqp.Message(b"m"), "p.r.x", "k"), sync_amqp(ch)), 403,
     denied("exchange", "p.r.x"), (60, 40)),
], ids=["queue.declare", "queue.delete", "queue.purge", "queue.bind", "queue.unbind", "exchange.declare",
        "exchange.delete", "exchange.bind", "exchange.unbind", "basic.get", "basic.consume", "basic.publish"])
def test_denial_class_and_method_ids(amqp_connect, action, code, text, method_sig):
    ch = amqp_connect("limited", "acl").channel()
    with py_amqp_error(amqp.exceptions.AccessRefused, code, text, method_sig):
        action(ch)


def sync_amqp(ch) -> None:
    ch.exchange_declare("amq.direct", "direct", passive=True)


# ---------------------------------------------------------------- regex semantics

def test_permission_regex_is_an_unanchored_search(channel):
    channel("searcher", "acl").queue_declare(uid("xx.mid.yy."), exclusive=True)


def test_permission_regex_is_case_sensitive(channel):
    ch = channel("searcher", "acl")
    with channel_closed(403, denied("queue", "xx.MID.yy", "searcher")):
        ch.queue_declare("xx.MID.yy", exclusive=True)


def test_empty_write_permission_denies_the_default_exchange(channel):
    ch = channel("searcher", "acl")
    with channel_closed(403, denied("exchange", "amq.default", "searcher")):
        ch.basic_publish("", "p.r.q", b"m")
        sync(ch)


def test_empty_read_permission_denies_everything(channel):
    ch = channel("searcher", "acl")
    q = uid("xx.mid.")
    ch.queue_declare(q, exclusive=True)
    with channel_closed(403, denied("queue", q, "searcher")):
        ch.basic_get(q)


def test_full_permissions_work_normally(channel):
    ch = channel("alice", "team-a")
    x, q = uid("x."), uid("q.")
    ch.exchange_declare(x, "direct", auto_delete=True)
    ch.queue_declare(q, exclusive=True)
    ch.queue_bind(q, x, "k")
    ch.confirm_delivery()
    ch.basic_publish(x, "k", b"via-x")
    ch.basic_publish("", q, b"via-default")
    assert [ch.basic_get(q, auto_ack=True)[2] for _ in range(2)] == [b"via-x", b"via-default"]
    assert ch.queue_declare("", exclusive=True).method.queue.startswith("amq.gen-")
    ch.queue_unbind(q, x, "k")
    ch.queue_purge(q)
    ch.queue_delete(q)
    ch.exchange_delete(x)


# ---------------------------------------------------------------- topic permissions

def publish(ch, exchange, key, **props):
    ch.basic_publish(exchange, key, b"m", pika.BasicProperties(**props) if props else None)
    sync(ch)


def test_topic_write_matching_username_variable_passes(channel):
    publish(channel("alice", "team-a"), "topic.t", "alice.anything")


@pytest.mark.parametrize("key", ["bob.x", "alice", "x.alice.y", "{username}.x"])
def test_topic_write_not_matching_is_403(channel, key):
    ch = channel("alice", "team-a")
    with channel_closed(403, topic_denied(key, "topic.t")):
        publish(ch, "topic.t", key)


def test_topic_write_regex(channel):
    ch = channel("alice", "team-a")
    publish(ch, "topic.fixed", "logs.info")
    publish(ch, "topic.fixed", "logs.warn")
    with channel_closed(403, topic_denied("logs.infox", "topic.fixed")):
        publish(ch, "topic.fixed", "logs.infox")


def test_topic_empty_pattern_allows_only_the_empty_key(channel):
    ch = channel("alice", "team-a")
    publish(ch, "topic.empty", "")
    with channel_closed(403, topic_denied("a", "topic.empty")):
        publish(ch, "topic.empty", "a")


def test_topic_exchange_without_topic_permissions_is_unrestricted(channel):
    publish(channel("alice", "team-a"), "topic.free", "bob.anything")


def test_topic_permissions_are_per_user(channel):
    publish(channel("guest", "team-a"), "topic.t", "bob.x")


def test_topic_permissions_ignored_for_non_topic_exchanges(channel):
    ch = channel("alice", "team-a")
    publish(ch, "amq.direct", "not-never")
    q = uid("q.")
    ch.queue_declare(q, exclusive=True)
    ch.queue_bind(q, "amq.direct", "not-never")


def test_topic_read_checked_at_queue_bind_with_vhost_variable(channel):
    ch = channel("alice", "team-a")
    q = uid("q.")
    ch.queue_declare(q, exclusive=True)
    ch.queue_bind(q, "topic.t", "team-a.#")
    with channel_closed(403, topic_denied("other.#", "topic.t")):
        ch.queue_bind(q, "topic.t", "other.#")


def test_topic_read_checked_at_queue_unbind(channel):
    ch = channel("alice", "team-a")
    q = uid("q.")
    ch.queue_declare(q, exclusive=True)
    with channel_closed(403, topic_denied("other.#", "topic.t")):
        ch.queue_unbind(q, "topic.t", "other.#")


def test_topic_read_checked_on_the_source_of_exchange_bind(channel):
    ch = channel("alice", "team-a")
    ch.exchange_bind(destination="topic.t", source="topic.free", routing_key="other.#")
    with channel_closed(403, topic_denied("other.#", "topic.t")):
        ch.exchange_bind(destination="topic.free", source="topic.t", routing_key="other.#")


def test_topic_permitted_bind_and_publish_deliver(channel):
    ch = channel("alice", "team-a")
    q = uid("q.")
    ch.queue_declare(q, exclusive=True)
    ch.queue_bind(q, "topic.fixed", "logs.#")
    publish(ch, "topic.fixed", "logs.warn")
    method, _props, body = ch.basic_get(q, auto_ack=True)
    assert (method.routing_key, body) == ("logs.warn", b"m")


def test_topic_denial_class_and_method_ids(amqp_connect):
    ch = amqp_connect("alice", "team-a").channel()
    with py_amqp_error(amqp.exceptions.AccessRefused, 403, topic_denied("bob.x", "topic.t"), (60, 40)):
        ch.basic_publish(amqp.Message(b"m"), "topic.t", "bob.x")
        sync_amqp(ch)


# ---------------------------------------------------------------- user_id

def _roundtrip_user_id(ch, user_id):
    q = ch.queue_declare("", exclusive=True).method.queue
    publish(ch, "", q, user_id=user_id)
    return ch.basic_get(q, auto_ack=True)[1].user_id


def test_user_id_equal_to_the_authenticated_user_passes(channel):
    assert _roundtrip_user_id(channel("alice", "/"), "alice") == "alice"


@pytest.mark.parametrize("user,claimed", [("alice", "bob"), ("alice", ""), ("guest", "alice")])
def test_user_id_of_someone_else_is_406(channel, user, claimed):
    ch = channel(user, "/")
    with channel_closed(406, f"PRECONDITION_FAILED - user_id property set to '{claimed}' "
                             f"but authenticated user was '{user}'"):
        publish(ch, "", "nowhere", user_id=claimed)


@pytest.mark.parametrize("user", ["imp", "ops"])
def test_impersonator_may_set_any_user_id(channel, user):
    assert _roundtrip_user_id(channel(user, "/"), "alice") == "alice"


def test_user_id_mismatch_class_and_method_ids(amqp_connect):
    ch = amqp_connect("alice", "/").channel()
    with py_amqp_error(amqp.exceptions.PreconditionFailed, 406,
                       "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'alice'",
                       (60, 40)):
        ch.basic_publish(amqp.Message(b"m", user_id="bob"), "", "nowhere")
        sync_amqp(ch)


# ---------------------------------------------------------------- vhost isolation

def test_queue_is_not_visible_in_another_vhost(channel):
    q = uid("iso.")
    channel("guest", "team-a").queue_declare(q, exclusive=True)
    ch_b = channel("guest", "team-b")
    with channel_closed(404, f"NOT_FOUND - no queue '{q}' in vhost 'team-b'"):
        ch_b.queue_declare(q, passive=True)


def test_exchange_is_not_visible_in_another_vhost(channel):
    ch = channel("guest", "team-b")
    with channel_closed(404, "NOT_FOUND - no exchange 'topic.t' in vhost 'team-b'"):
        ch.exchange_declare("topic.t", passive=True)


def test_same_queue_name_in_two_vhosts_is_two_queues(channel):
    q = uid("iso.")
    a, b = channel("guest", "team-a"), channel("guest", "team-b")
    for ch in (a, b):
        ch.queue_declare(q, auto_delete=True)
        ch.confirm_delivery()
    publish(a, "", q)
    publish(a, "", q)
    publish(b, "", q)
    assert a.queue_declare(q, passive=True).method.message_count == 2
    assert b.queue_declare(q, passive=True).method.message_count == 1
    a.queue_purge(q)
    assert b.queue_declare(q, passive=True).method.message_count == 1
    b.queue_delete(q)
    a.queue_delete(q)


# ---------------------------------------------------------------- vhost limits

def conn_limit(vhost, user, n):
    return f"NOT_ALLOWED - access to vhost '{vhost}' refused for user '{user}': connection limit ({n}) is reached"


def queue_limit(q, vhost, n):
    return f"PRECONDITION_FAILED - cannot declare queue '{q}': queue limit in vhost '{vhost}' ({n}) is reached"


def test_max_connections_refuses_connection_open(connect, amqp_connect):
    connect("guest", "lim-conn")
    connect("guest", "lim-conn")
    with py_amqp_error(amqp.exceptions.NotAllowed, 530, conn_limit("lim-conn", "guest", 2), (10, 40)):
        amqp_connect("guest", "lim-conn")
    with refused_at_open(pika.exceptions.ProbableAccessDeniedError, 530, conn_limit("lim-conn", "guest", 2)):
        connect("guest", "lim-conn")


def test_max_connections_slot_is_freed_by_close(connect):
    connect("guest", "lim-conn1").close()
    deadline = time.monotonic() + 3   # RabbitMQ's connection tracking is asynchronous
    while True:
        try:
            connect("guest", "lim-conn1")
            return
        except pika.exceptions.ProbableAccessDeniedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_max_connections_zero_refuses_everyone(connect):
    with refused_at_open(pika.exceptions.ProbableAccessDeniedError, 530, conn_limit("lim-conn0", "guest", 0)):
        connect("guest", "lim-conn0")


def test_connection_limit_is_checked_before_vhost_permissions(connect):
    with refused_at_open(pika.exceptions.ProbableAccessDeniedError, 530, conn_limit("lim-conn0", "alice", 0)):
        connect("alice", "lim-conn0")


def test_max_queues_refuses_a_new_queue(connect):
    conn = connect("guest", "lim-q")
    ch = conn.channel()
    ch.queue_declare(uid("q."), exclusive=True)
    ch.queue_declare("", exclusive=True)   # server-named and exclusive queues count too
    with channel_closed(406, queue_limit("q3", "lim-q", 2)):
        ch.queue_declare("q3", durable=True)
    assert conn.is_open
    ch = conn.channel()
    with channel_closed(406) as ei:
        ch.queue_declare("", exclusive=True)
    assert re.fullmatch(r"PRECONDITION_FAILED - cannot declare queue 'amq\.gen-[A-Za-z0-9_-]{22}': "
                        r"queue limit in vhost 'lim-q' \(2\) is reached", ei.value.reply_text), ei.value.reply_text


def test_max_queues_still_allows_redeclare_and_passive(connect):
    conn = connect("guest", "lim-q1")
    ch = conn.channel()
    q = uid("q.")
    ch.queue_declare(q, exclusive=True)
    assert ch.queue_declare(q, exclusive=True).method.queue == q
    assert ch.queue_declare(q, passive=True).method.queue == q
    with channel_closed(406, queue_limit("other", "lim-q1", 1)):
        ch.queue_declare("other", exclusive=True)
    ch = conn.channel()
    ch.queue_delete(q)
    ch.queue_declare("other", exclusive=True)


def test_max_queues_zero(amqp_connect):
    ch = amqp_connect("guest", "lim-q0").channel()
    with py_amqp_error(amqp.exceptions.PreconditionFailed, 406, queue_limit("q", "lim-q0", 0), (50, 10)):
        ch.queue_declare("q", exclusive=True)


# ---------------------------------------------------------------- loopback users (lan broker)
#
# How a remote client is simulated: the lan broker listens on 0.0.0.0 and the tests connect to this
# machine's own non-loopback IPv4 address. The connection never leaves the host, but its local (and
# peer) address is that IP, not 127.x.x.x, which is what RabbitMQ's loopback check looks at
# (rabbit_net:is_loopback/1 on the socket's sockname; any 127.0.0.0/8 address or ::1 is loopback,
# so 127.0.0.2 would NOT simulate it: asserted below).

def non_loopback_ipv4() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("203.0.113.1", 9))   # UDP connect sends nothing; it only picks a route
            ip = s.getsockname()[0]
        if not ip.startswith("127.") and ip != "0.0.0.0":
            return ip
    except OSError:
        pass
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", out)
    return m.group(1) if m else None


LAN_CONFIG = ["loopback_users.guest = true", "loopback_users.lan-only = true"]


@pytest.fixture(scope="module")
def lan_broker(_broker_server, tmp_path_factory):
    ip = non_loopback_ipv4()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address to simulate a remote client with")
    b = _start(_broker_server.name, tmp_path_factory, "lan", bind="0.0.0.0", config_lines=LAN_CONFIG)
    b.lan_ip = ip
    yield b
    b.stop()


@pytest.fixture
def lan_connect(lan_broker):
    """lan_connect(user, host) -> pika connection to the lan broker at host (default: its LAN IP)."""
    if not lan_broker.alive():
        pytest.fail(f"{lan_broker.name} (lan) died; log tail:\n{lan_broker.log_tail()}")
    conns = []

    def _connect(user, host=None):
        c = pika.BlockingConnection(_params(lan_broker, user, "/", host=host or lan_broker.lan_ip))
        conns.append(c)
        return c

    yield _connect
    _closer(conns, lambda c: c.is_open and c.close())


@pytest.mark.parametrize("user", ["guest", "lan-only"])
def test_loopback_user_from_a_non_loopback_address_is_refused(lan_connect, user):
    with refused_at_open(pika.exceptions.ProbableAuthenticationError, 403, LOGIN_REFUSED.format("PLAIN")):
        lan_connect(user)


def test_loopback_refusal_is_connection_close_403_class_method_0_0(lan_broker):
    with R.RawConnection(lan_broker.lan_ip, lan_broker.port) as c:
        c.start()
        c.start_ok("guest", "guest", capabilities={"authentication_failure_close": True})
        assert c.expect(R.CONNECTION_CLOSE, 0).close_info() == (403, LOGIN_REFUSED.format("PLAIN"), 0, 0)


@pytest.mark.parametrize("user", ["guest", "lan-only"])
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])
def test_loopback_user_via_any_127_address_is_accepted(lan_connect, user, host):
    lan_connect(user, host).channel().queue_declare("", exclusive=True)


def test_other_user_from_a_non_loopback_address_is_accepted(lan_connect):
    lan_connect("remote").channel().queue_declare("", exclusive=True)

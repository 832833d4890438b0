"""Policies and operator policies, loaded at start-up from a definitions file (RabbitMQ's definitions
export format; Warren: `warren-server --import-definitions FILE` / `load_definitions = FILE`,
RabbitMQ 3.10: `load_definitions = FILE` in rabbitmq.conf, see brokers.py).

This module starts ONE extra broker of the kind under test (module-scoped `policy_broker`) with the
definitions in DEFINITIONS, and every test talks to that broker only through AMQP (pika). All queue
and exchange names are `<prefix><8 hex digits>`, each prefix chosen to match exactly the policies a
test is about (the hex suffix can contain neither letters past 'f' nor '.').

RabbitMQ 3.10 facts asserted here:
* A policy's pattern is an Erlang `re` (PCRE) regex SEARCH over the bare queue/exchange name
  (`re:run(Name, Pattern, [{capture, none}])`): unanchored unless the pattern says `^`/`$`,
  case-sensitive, `.` is any character unless escaped, alternation works. A policy applies to
  queues/exchanges declared after it was defined, server-named (`amq.gen-...`) queues and
  exclusive queues included, and to exchanges like amq.direct.
* apply-to: "queues" -> queues only, "exchanges" -> exchanges only, "all" -> both; a policy given
  without "apply-to" (and without "priority") is "all" with priority 0.
* Only ONE policy applies: the matching one with the highest priority (negative priorities are
  valid). Definitions of lower-priority matches are NOT merged in, even for keys the winner lacks;
  specificity of the pattern plays no part. (Tie between equal priorities: not tested, see below.)
* message-ttl, expires, max-length, max-length-bytes: with both a queue argument (x-...) and a
  policy value, the LOWER one is used (classic queue `res_min`), in either direction.
* dead-letter-exchange, dead-letter-routing-key, overflow: the queue ARGUMENT wins (`res_arg`),
  key by key: an x-dead-letter-exchange argument combines with the policy's
  dead-letter-routing-key. An x-dead-letter-routing-key argument without an
  x-dead-letter-exchange argument is still refused (406 routing_key_but_no_dlx_defined) even when a
  policy supplies the DLX: that check looks at arguments only.
* alternate-exchange (exchange policy): the exchange's "alternate-exchange" ARGUMENT wins.
* Policy keys: message-ttl, expires, max-length, max-length-bytes, overflow (incl.
  reject-publish-dlx), dead-letter-exchange, dead-letter-routing-key, alternate-exchange all take
  effect; ha-mode ("all", "exactly" + ha-params, "nodes" + ha-params list) and ha-sync-mode are
  accepted (no AMQP-visible effect on one node).
* A policy is not a queue argument: redeclaring a policy-limited queue with x-max-length equal to the
  policy's value is an inequivalent-arg error ("... but current is none").
* Operator policies (3.10 accepts only expires, message-ttl, max-length, max-length-bytes,
  max-in-memory-length, max-in-memory-bytes, delivery-limit): the highest-priority operator policy
  and the highest-priority user policy BOTH apply, merged key by key; a key in both takes the lower
  value (tested for max-length and max-length-bytes; every key operator policies accept has
  that min merge strategy in rabbit_policies); a key in only one of them is kept (a user policy's overflow
  survives an operator policy's max-length). Among operator policies, only the highest-priority one
  applies (no merging). With a queue argument too the lowest of the three wins: an operator
  max-length 2 caps x-max-length 10 to 2, x-max-length 1 stays 1.
* queue.declare-ok (passive or not) reports the message count after the policy's limits have been
  applied (max-length: the kept count; message-ttl 0: 0).
* Everything in the definitions file ends up under the policies: RabbitMQ 3.10 imports users,
  vhosts, permissions, exchanges, then policies, runtime parameters (operator policies), queues,
  bindings; a policy that is set re-matches the existing queues and exchanges (pre-existing
  amq.direct gets its alternate-exchange policy), so the order is not observable.

Not asserted (not observable via AMQP, or not pinned on purpose):
* Two matching policies of EQUAL priority: RabbitMQ sorts with a stable `>=` on priority over the
  runtime-parameter table's (hash) order, so the winner is deterministic per pair of names but
  neither alphabetical nor definition order. Unspecified; Warren may pick either.
* A definitions file with an invalid policy: RabbitMQ 3.10 still boots, keeps what it imported
  before the bad entry, silently (nothing logged at info) drops the rest of the import.
"""

from __future__ import annotations

import time
import uuid

import pika
import pika.exceptions
import pytest

from util import channel_closed, start_own_broker

DLX_P, DLX_A = "pol.dlx.p", "pol.dlx.a"   # direct exchanges (definitions): policy / argument DLX
AE_P, AE_A = "pol.ae.p", "pol.ae.a"       # direct exchanges (definitions): policy / argument AE
DEF_X, DEF_Q, DEF_QA = "pol.def.x", "pol.def.q", "pol.def.qa"


def _policy(name, pattern, definition, apply_to="queues", priority=0):
    p = {"vhost": "/", "name": name, "pattern": pattern, "definition": definition}
    if apply_to is not None:
        p["apply-to"] = apply_to
    if priority is not None:
        p["priority"] = priority
    return p


def _exchange(name, kind="direct", arguments=None):
    return {"vhost": "/", "name": name, "type": kind, "durable": True, "auto_delete": False,
            "internal": False, "arguments": arguments or {}}


def _queue(name, arguments=None):
    return {"vhost": "/", "name": name, "durable": True, "auto_delete": False,
            "arguments": arguments or {}}


def _binding(source, queue, key):
    return {"vhost": "/", "source": source, "destination": queue, "destination_type": "queue",
            "routing_key": key, "arguments": {}}


_AT = {"max-length": 1, "alternate-exchange": AE_P}

DEFINITIONS = {
    "policies": [
        # regex semantics
        _policy("ttl-prefix", r"^pol\.ttl\.", {"message-ttl": 200}),
        _policy("re-anchored", r"^re\.anch\.", {"max-length": 1}),
        _policy("re-unanchored", "mid", {"max-length": 2}),
        _policy("re-any-char", r"^re\.any.thing\.[0-9a-f]+$", {"max-length": 3}),
        _policy("re-alternation", r"^re\.(one|two)\.", {"max-length": 4}),
        _policy("server-named", r"^amq\.gen-", {"max-length": 1}),
        # apply-to
        _policy("at-queues", r"^at\.queues\.", _AT, apply_to="queues"),
        _policy("at-exchanges", r"^at\.exchanges\.", _AT, apply_to="exchanges"),
        _policy("at-all", r"^at\.all\.", _AT, apply_to="all"),
        _policy("at-default", r"^at\.default\.", _AT, apply_to=None, priority=None),
        # priorities
        _policy("prio-lo", r"^prio\.", {"max-length": 3}, priority=1),
        _policy("prio-hi", r"^prio\.hi\.", {"max-length-bytes": 50}, priority=5),
        _policy("prio-specific", r"^prio\.hi\.x\.", {"max-length": 1}, priority=2),
        _policy("prio-negative", r"\.neg\.", {"max-length": 2}, priority=-1),
        # keys
        _policy("key-expires", r"^key\.expires\.", {"expires": 300}),
        _policy("key-len", r"^key\.len\.", {"max-length": 2}),
        _policy("key-bytes", r"^key\.bytes\.", {"max-length-bytes": 10}),
        _policy("key-ovf", r"^key\.ovf\.", {"max-length": 2, "overflow": "reject-publish"}),
        _policy("key-ovfdlx", r"^key\.ovfdlx\.", {"max-length": 1, "overflow": "reject-publish-dlx",
                                                   "dead-letter-exchange": DLX_P}),
        _policy("key-dlx", r"^key\.dlx\.", {"dead-letter-exchange": DLX_P}),
        _policy("key-dlrk", r"^key\.dlrk\.", {"dead-letter-exchange": DLX_P,
                                               "dead-letter-routing-key": "rk.p"}),
        _policy("key-ae", r"^key\.ae\.", {"alternate-exchange": AE_P}, apply_to="exchanges"),
        _policy("key-ae-builtin", r"^amq\.direct$", {"alternate-exchange": AE_P}, apply_to="exchanges"),
        _policy("key-ha-all", r"^key\.haall\.",
                {"ha-mode": "all", "ha-sync-mode": "automatic", "max-length": 1}),
        _policy("key-ha-exactly", r"^key\.haexactly\.",
                {"ha-mode": "exactly", "ha-params": 2, "ha-sync-mode": "manual", "max-length": 2}),
        _policy("key-ha-nodes", r"^key\.hanodes\.",
                {"ha-mode": "nodes", "ha-params": ["rabbit@nowhere"], "max-length": 3}),
        # queue argument vs policy
        _policy("prec-ttl", r"^prec\.ttl\.", {"message-ttl": 300}),
        _policy("prec-exp", r"^prec\.exp\.", {"expires": 400}),
        _policy("prec-len", r"^prec\.len\.", {"max-length": 3}),
        _policy("prec-bytes", r"^prec\.bytes\.", {"max-length-bytes": 30}),
        _policy("prec-dl", r"^prec\.dl\.", {"dead-letter-exchange": DLX_P,
                                             "dead-letter-routing-key": "rk.p"}),
        _policy("prec-ovf", r"^prec\.ovf\.", {"max-length": 1, "overflow": "reject-publish"}),
        _policy("prec-ae", r"^prec\.ae\.", {"alternate-exchange": AE_P}, apply_to="exchanges"),
        # user policies under the operator policies below
        _policy("op-user", r"^op\.", {"max-length": 5, "overflow": "reject-publish"}),
        _policy("opl-user", r"^opl\.", {"max-length": 1}),
        _policy("opb-user", r"^opb\.", {"max-length-bytes": 20}),
        # declare-ok state, definitions-file queues
        _policy("state", r"^state\.", {"max-length": 2}),
        _policy("state-zero", r"^state\.zero\.", {"message-ttl": 0}, priority=1),
        _policy("def", r"^pol\.def\.", {"max-length": 3}),
    ],
    "operator_policies": [
        _policy("op-cap", r"^op\.", {"max-length": 2}),
        _policy("opl-cap", r"^opl\.", {"max-length": 4}),
        _policy("opb-cap", r"^opb\.", {"max-length-bytes": 10}),
        _policy("opk-ttl", r"^opk\.ttl\.", {"message-ttl": 0}),
        _policy("opk-exp", r"^opk\.exp\.", {"expires": 300}),
        _policy("opp-lo", r"^opp\.", {"max-length": 1}, priority=0),
        _policy("opp-hi", r"^opp\.hi\.", {"max-length-bytes": 50}, priority=3),
    ],
    "exchanges": [_exchange(DLX_P), _exchange(DLX_A), _exchange(AE_P), _exchange(AE_A),
                  _exchange(DEF_X)],
    "queues": [_queue(DEF_Q), _queue(DEF_QA, {"x-max-length": 1})],
    "bindings": [_binding(DEF_X, DEF_Q, "k"), _binding(DEF_X, DEF_QA, "ka")],
}


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def policy_broker(_broker_server, tmp_path_factory):
    """A broker of the kind under test started with DEFINITIONS (one start per kind per module)."""
    b = start_own_broker(_broker_server.name, tmp_path_factory, "policies", definitions=DEFINITIONS)
    yield b
    b.stop()


@pytest.fixture
def pbroker(policy_broker):
    if not policy_broker.alive():
        pytest.fail(f"{policy_broker.name} (policies) died; log tail:\n{policy_broker.log_tail()}")
    yield policy_broker
    if not policy_broker.alive():
        pytest.fail(f"{policy_broker.name} (policies) died during this test; log tail:\n"
                    f"{policy_broker.log_tail()}")


@pytest.fixture
def conn(pbroker):
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=pbroker.host, port=pbroker.port, credentials=pika.PlainCredentials("guest", "guest"),
        connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30))
    yield c
    if c.is_open:
        try:
            c.close()
        except Exception:
            pass


@pytest.fixture
def ch(conn):
    """A channel in confirm mode: every publish returns once the broker has enqueued (or refused) it."""
    c = conn.channel()
    c.confirm_delivery()
    return c


# ---------------------------------------------------------------- helpers

def name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def declare(ch, prefix: str, **args) -> str:
    """An exclusive queue named prefix+hex with the given x-arguments."""
    q = name(prefix)
    ok = ch.queue_declare(q, exclusive=True, arguments=args or None)
    assert ok.method.message_count == 0
    return q


def publish(ch, queue: str, n: int, size: int = 0, exchange: str = "", **kw) -> list:
    """Publish n messages (bodies m0, m1... or size bytes each); -> ['ack'|'nack'] per message."""
    out = []
    for i in range(n):
        body = f"m{i}".encode() if not size else f"{i:0{size}d}".encode()[-size:]
        try:
            ch.basic_publish(exchange, queue, body, **kw)
            out.append("ack")
        except pika.exceptions.NackError:
            out.append("nack")
    return out


def count(ch, q: str) -> int:
    return ch.queue_declare(q, passive=True).method.message_count


def drain(ch, q: str) -> list:
    out = []
    for _ in range(1000):
        m, _p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append(b)
    raise AssertionError("queue did not drain")


def kept(ch, prefix: str, n: int = 6, size: int = 0, **args) -> int:
    """Declare a queue, publish n messages, -> how many it holds (n = no length limit applies)."""
    q = declare(ch, prefix, **args)
    publish(ch, q, n, size)
    return count(ch, q)


def exists(conn, q: str) -> bool:
    c = conn.channel()
    try:
        c.queue_declare(q, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    c.close()
    return True


def sink(ch, exchange: str, key: str) -> str:
    """An exclusive queue bound to exchange with key."""
    s = name("sink.")
    ch.queue_declare(s, exclusive=True)
    ch.queue_bind(s, exchange, key)
    return s


def wait_count(ch, q: str, n: int, timeout: float = 2.0) -> int:
    """Dead-lettering is asynchronous: poll until q holds n messages."""
    deadline = time.monotonic() + timeout
    while True:
        c = count(ch, q)
        if c == n or time.monotonic() > deadline:
            return c
        time.sleep(0.02)


def reject_one(ch, q: str) -> None:
    m, _p, _b = ch.basic_get(q)
    assert m is not None, f"{q} is empty"
    ch.basic_reject(m.delivery_tag, requeue=False)


# ---------------------------------------------------------------- matching

def test_policy_applies_to_matching_queue_declared_later(ch):
    q, other = declare(ch, "pol.ttl."), declare(ch, "pol.other.")
    publish(ch, q, 1)
    publish(ch, other, 1)
    assert count(ch, q) == 1
    time.sleep(0.6)
    assert count(ch, q) == 0          # message-ttl 200 from the policy
    assert count(ch, other) == 1      # no policy


def test_pattern_is_an_unanchored_search(ch):
    assert kept(ch, "re.anch.") == 1         # ^re\.anch\.
    assert kept(ch, "x.re.anch.") == 6       # ^ anchors: no match
    assert kept(ch, "re.xmidx.") == 2        # 'mid' found anywhere
    assert kept(ch, "midway.") == 2
    assert kept(ch, "re.zz.mid") == 2        # ...also at the end ('re.zz.mid' + hex)
    assert kept(ch, "re.xMIDx.") == 6        # case-sensitive


def test_pattern_regex_syntax(ch):
    assert kept(ch, "reXanchX") == 6         # escaped dots are literal dots
    assert kept(ch, "re.anyXthing.") == 3    # unescaped '.' is any character
    assert kept(ch, "re.any.thing.") == 3
    q = name("re.any.thing.") + ".more"      # '$' anchors the end
    ch.queue_declare(q, exclusive=True)
    publish(ch, q, 6)
    assert count(ch, q) == 6
    assert kept(ch, "re.one.") == 4          # alternation
    assert kept(ch, "re.two.") == 4
    assert kept(ch, "re.three.") == 6


def test_server_named_queue_gets_policy(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    assert q.startswith("amq.gen-")
    publish(ch, q, 3)
    assert count(ch, q) == 1


def _ae_used(ch, exchange_prefix: str, **xargs) -> bool:
    """Declare a direct exchange, publish an unroutable message -> did AE_P get it?"""
    x = name(exchange_prefix)
    ch.exchange_declare(x, "direct", auto_delete=True, arguments=xargs or None)
    key = name("rk.")
    s = sink(ch, AE_P, key)
    publish(ch, key, 1, exchange=x)
    got = wait_count(ch, s, 1, timeout=0.3) == 1
    ch.exchange_delete(x)
    return got


@pytest.mark.parametrize("apply_to,to_queues,to_exchanges", [
    ("queues", True, False), ("exchanges", False, True), ("all", True, True),
    ("default", True, True),  # no "apply-to" in the definition: all
])
def test_apply_to(ch, apply_to, to_queues, to_exchanges):
    assert (kept(ch, f"at.{apply_to}.q.", 3) == 1) is to_queues
    assert _ae_used(ch, f"at.{apply_to}.x.") is to_exchanges


# ---------------------------------------------------------------- priority

def test_highest_priority_policy_alone_applies(ch):
    # prio-lo (1, max-length 3) and prio-hi (5, max-length-bytes 50) both match 'prio.hi.': only
    # prio-hi applies, its definition is not merged with prio-lo's max-length.
    assert kept(ch, "prio.lo.", 12, size=5) == 3
    assert kept(ch, "prio.hi.", 12, size=5) == 10        # 50 bytes / 5, no max-length 3
    # prio-specific (2) has the longest pattern, yet prio-hi (5) wins
    assert kept(ch, "prio.hi.x.", 12, size=5) == 10


def test_negative_priority(ch):
    assert kept(ch, "x.neg.") == 2          # prio-negative (-1) alone
    assert kept(ch, "prio.neg.") == 3       # prio-lo (1) beats prio-negative (-1)


# ---------------------------------------------------------------- keys

def test_key_message_ttl_expires_messages(ch):
    q = declare(ch, "pol.ttl.")
    publish(ch, q, 2)
    time.sleep(0.5)
    assert ch.basic_get(q, auto_ack=True)[0] is None


def test_key_expires_deletes_unused_queue(conn, ch):
    q = name("key.expires.")
    ch.queue_declare(q)
    time.sleep(0.8)
    assert not exists(conn, q)


def test_key_max_length_drops_head(ch):
    q = declare(ch, "key.len.")
    assert publish(ch, q, 5) == ["ack"] * 5
    assert drain(ch, q) == [b"m3", b"m4"]


def test_key_max_length_bytes(ch):
    q = declare(ch, "key.bytes.")
    publish(ch, q, 4, size=4)
    assert drain(ch, q) == [b"0002", b"0003"]     # 8 of 10 bytes


def test_key_overflow_reject_publish(ch):
    q = declare(ch, "key.ovf.")
    assert publish(ch, q, 3) == ["ack", "ack", "nack"]
    assert drain(ch, q) == [b"m0", b"m1"]


def test_key_overflow_reject_publish_dlx(ch):
    q = declare(ch, "key.ovfdlx.")
    s = sink(ch, DLX_P, q)
    assert publish(ch, q, 2) == ["ack", "nack"]
    assert wait_count(ch, s, 1) == 1
    m, p, b = ch.basic_get(s, auto_ack=True)
    assert b == b"m1"
    assert m.exchange == DLX_P and m.routing_key == q
    assert p.headers["x-death"][0]["reason"] == "maxlen"
    assert drain(ch, q) == [b"m0"]


def test_key_dead_letter_exchange(ch):
    q = declare(ch, "key.dlx.")
    s = sink(ch, DLX_P, q)          # no dead-letter-routing-key: the original key (q)
    publish(ch, q, 1)
    reject_one(ch, q)
    assert wait_count(ch, s, 1) == 1
    m, p, b = ch.basic_get(s, auto_ack=True)
    assert (m.exchange, m.routing_key, b) == (DLX_P, q, b"m0")
    d = p.headers["x-death"][0]
    assert (d["reason"], d["queue"]) == ("rejected", q)


def test_key_dead_letter_routing_key(ch):
    q = declare(ch, "key.dlrk.")
    s, s_orig = sink(ch, DLX_P, "rk.p"), sink(ch, DLX_P, q)
    publish(ch, q, 1)
    reject_one(ch, q)
    assert wait_count(ch, s, 1) == 1
    m, _p, b = ch.basic_get(s, auto_ack=True)
    assert (m.exchange, m.routing_key, b) == (DLX_P, "rk.p", b"m0")
    assert count(ch, s_orig) == 0


def test_key_alternate_exchange(ch):
    assert _ae_used(ch, "key.ae.")
    assert not _ae_used(ch, "key.nope.")


def test_key_alternate_exchange_on_builtin_exchange(ch):
    key = name("rk.")
    s = sink(ch, AE_P, key)
    publish(ch, key, 1, exchange="amq.direct", mandatory=True)   # routed via the AE: no return
    assert wait_count(ch, s, 1) == 1


def test_key_classic_mirroring_keys_are_accepted(ch):
    # The policies carry ha-mode/ha-params/ha-sync-mode next to a max-length that shows they are
    # in force (a definitions file with an invalid policy would not have loaded them).
    assert kept(ch, "key.haall.") == 1
    assert kept(ch, "key.haexactly.") == 2
    assert kept(ch, "key.hanodes.") == 3


def test_policy_is_not_a_queue_argument(conn, ch):
    q = name("key.len.")
    ch.queue_declare(q, exclusive=True)
    ch.queue_declare(q, exclusive=True)          # no arguments: equivalent
    with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue "
                             f"'{q}' in vhost '/': received the value '2' of type 'signedint' "
                             f"but current is none"):
        ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 2})


# ---------------------------------------------------------------- queue arguments vs policy

def test_message_ttl_lower_of_argument_and_policy(ch):
    # policy message-ttl 300
    q_arg_lower = declare(ch, "prec.ttl.", **{"x-message-ttl": 0})
    q_pol_lower = declare(ch, "prec.ttl.", **{"x-message-ttl": 60000})
    publish(ch, q_arg_lower, 1)
    publish(ch, q_pol_lower, 1)
    assert count(ch, q_arg_lower) == 0       # x-message-ttl 0: gone at once
    assert count(ch, q_pol_lower) == 1
    time.sleep(0.7)
    assert count(ch, q_pol_lower) == 0       # gone after the policy's 300 ms


def test_expires_lower_of_argument_and_policy(conn, ch):
    # policy expires 400
    arg_lower, pol_lower = name("prec.exp."), name("prec.exp.")
    ch.queue_declare(arg_lower, arguments={"x-expires": 100})
    ch.queue_declare(pol_lower, arguments={"x-expires": 60000})
    t0 = time.monotonic()
    time.sleep(0.25)
    assert not exists(conn, arg_lower)       # after 100 ms, not 400
    time.sleep(max(0.0, t0 + 0.9 - time.monotonic()))
    assert not exists(conn, pol_lower)       # after 400 ms, not 60 s


def test_max_length_lower_of_argument_and_policy(ch):
    # policy max-length 3
    assert kept(ch, "prec.len.", 6, **{"x-max-length": 5}) == 3
    assert kept(ch, "prec.len.", 6, **{"x-max-length": 1}) == 1


def test_max_length_bytes_lower_of_argument_and_policy(ch):
    # policy max-length-bytes 30
    assert kept(ch, "prec.bytes.", 8, size=5, **{"x-max-length-bytes": 100}) == 6
    assert kept(ch, "prec.bytes.", 8, size=5, **{"x-max-length-bytes": 10}) == 2


def test_dead_letter_arguments_win_key_by_key(ch):
    # policy: dead-letter-exchange DLX_P, dead-letter-routing-key rk.p
    sinks = {(x, k): sink(ch, x, k) for x in (DLX_P, DLX_A) for k in ("rk.p", "rk.a")}
    cases = {
        "none": ({}, (DLX_P, "rk.p")),
        "dlx": ({"x-dead-letter-exchange": DLX_A}, (DLX_A, "rk.p")),
        "both": ({"x-dead-letter-exchange": DLX_A, "x-dead-letter-routing-key": "rk.a"}, (DLX_A, "rk.a")),
    }
    for tag, (args, _) in cases.items():
        q = declare(ch, "prec.dl.", **args)
        ch.basic_publish("", q, tag.encode())
        reject_one(ch, q)
    for tag, (_, target) in cases.items():
        assert wait_count(ch, sinks[target], 1) == 1, tag
        m, _p, b = ch.basic_get(sinks[target], auto_ack=True)
        assert (m.exchange, m.routing_key, b) == (*target, tag.encode())
    for s in sinks.values():
        assert count(ch, s) == 0


def test_dead_letter_routing_key_argument_needs_dlx_argument(ch):
    q = name("prec.dl.")
    with channel_closed(406, f"PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for "
                             f"queue '{q}' in vhost '/': routing_key_but_no_dlx_defined"):
        ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-routing-key": "rk.a"})


def test_overflow_argument_wins(ch):
    # policy: max-length 1, overflow reject-publish
    q_policy = declare(ch, "prec.ovf.")
    q_arg = declare(ch, "prec.ovf.", **{"x-overflow": "drop-head"})
    assert publish(ch, q_policy, 3) == ["ack", "nack", "nack"]
    assert publish(ch, q_arg, 3) == ["ack", "ack", "ack"]
    assert drain(ch, q_policy) == [b"m0"]
    assert drain(ch, q_arg) == [b"m2"]


def test_alternate_exchange_argument_wins(ch):
    # policy alternate-exchange AE_P on 'prec.ae.' exchanges
    x = name("prec.ae.")
    ch.exchange_declare(x, "direct", auto_delete=True, arguments={"alternate-exchange": AE_A})
    key = name("rk.")
    s_p, s_a = sink(ch, AE_P, key), sink(ch, AE_A, key)
    publish(ch, key, 1, exchange=x)
    assert wait_count(ch, s_a, 1) == 1
    assert count(ch, s_p) == 0
    ch.exchange_delete(x)
    assert _ae_used(ch, "prec.ae.")           # without the argument, the policy's AE


# ---------------------------------------------------------------- operator policies

def test_operator_policy_lower_than_user_policy(ch):
    # user: max-length 5 + overflow reject-publish; operator: max-length 2 -> 2, and the user
    # policy's overflow still applies (operator and user policies merge key by key)
    q = declare(ch, "op.")
    assert publish(ch, q, 3) == ["ack", "ack", "nack"]
    assert drain(ch, q) == [b"m0", b"m1"]


def test_user_policy_lower_than_operator_policy(ch):
    assert kept(ch, "opl.") == 1              # user max-length 1, operator 4


def test_operator_policy_caps_queue_argument(ch):
    q = declare(ch, "op.", **{"x-max-length": 10})
    assert publish(ch, q, 3) == ["ack", "ack", "nack"]
    q = declare(ch, "op.", **{"x-max-length": 1})
    assert publish(ch, q, 2) == ["ack", "nack"]


def test_operator_policy_max_length_bytes(ch):
    assert kept(ch, "opb.", 6, size=5) == 2   # user 20 bytes, operator 10


def test_operator_policy_message_ttl(ch):
    q = declare(ch, "opk.ttl.", **{"x-message-ttl": 60000})
    publish(ch, q, 2)
    assert count(ch, q) == 0                  # operator message-ttl 0


def test_operator_policy_expires(conn, ch):
    q = name("opk.exp.")
    ch.queue_declare(q, arguments={"x-expires": 60000})
    time.sleep(0.8)
    assert not exists(conn, q)                # operator expires 300


def test_operator_policies_highest_priority_alone_applies(ch):
    assert kept(ch, "opp.lo.", 12, size=5) == 1
    assert kept(ch, "opp.hi.", 12, size=5) == 10   # 50 bytes, no max-length 1


# ---------------------------------------------------------------- reported state

def test_declare_ok_reports_counts_after_limits(ch):
    q = declare(ch, "state.")
    publish(ch, q, 5)
    ok = ch.queue_declare(q, exclusive=True)
    assert (ok.method.message_count, ok.method.consumer_count) == (2, 0)
    assert ch.queue_declare(q, passive=True).method.message_count == 2
    z = declare(ch, "state.zero.")
    publish(ch, z, 3)
    assert ch.queue_declare(z, exclusive=True).method.message_count == 0


def test_definitions_queues_get_policies(ch):
    ch.queue_purge(DEF_Q)
    ch.queue_purge(DEF_QA)
    publish(ch, "k", 5, exchange=DEF_X)
    publish(ch, "ka", 5, exchange=DEF_X)
    ok = ch.queue_declare(DEF_Q, durable=True)
    assert ok.method.message_count == 3           # policy max-length 3
    assert ch.queue_declare(DEF_QA, passive=True).method.message_count == 1   # x-max-length 1 < 3
    assert drain(ch, DEF_Q) == [b"m2", b"m3", b"m4"]

"""exchange.*: declare/delete/equivalence, predeclared exchanges, exchange-to-exchange bindings,
alternate exchanges, internal exchanges, and routing for direct/fanout/topic/headers."""

import time

import pika
import pytest

import amqpraw as R
from amqpraw import Typed as T
from util import (channel_closed, connection_closed, declare_temp_queue, message_count, sync,
                  wait_message_count)


def drain(ch, q, expect=None, timeout=3.0):
    """basic.get everything from q; if expect is given, wait until that many are there first."""
    if expect is not None:
        wait_message_count(ch, q, expect, timeout)
    out = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((m, p, b))


FENCE = b"__fence__"


def fence(ch, queues):
    """Publish a marker straight to each queue. Messages published earlier on the same channel
    reach each queue before its marker, so collect() up to the marker sees all of them."""
    for q in queues:
        ch.basic_publish("", q, FENCE)


def bodies_after_fence(ch, q, timeout=5.0):
    """Bodies that reached q before its fence marker (consumes them and the marker)."""
    return [b for _m, _p, b in collect(ch, q, timeout)]


def collect(ch, q, timeout=5.0):
    """basic.get from q until the fence marker; returns the (method, props, body) before it."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            assert time.monotonic() < deadline, f"fence marker never reached {q}; got {out}"
            time.sleep(0.01)
            continue
        if b == FENCE:
            return out
        out.append((m, p, b))


# ---------------------------------------------------------------- declare / delete

@pytest.mark.parametrize("xtype", ["direct", "fanout", "topic", "headers"])
def test_exchange_declare_each_type(pika_channel, unique_name, xtype):
    pika_channel.exchange_declare(unique_name, xtype)
    try:
        pika_channel.exchange_declare(unique_name, xtype, passive=True)
        pika_channel.exchange_declare(unique_name, xtype)  # equivalent redeclare is fine
    finally:
        pika_channel.exchange_delete(unique_name)


@pytest.mark.parametrize("name,xtype", [("amq.direct", "direct"), ("amq.fanout", "fanout"),
                                        ("amq.topic", "topic"), ("amq.headers", "headers"),
                                        ("amq.match", "headers")])
def test_exchange_predeclared_exist_and_are_durable(pika_channel, name, xtype):
    pika_channel.exchange_declare(name, passive=True)
    # A non-passive redeclare with the right (durable) properties is allowed even with the amq. prefix.
    pika_channel.exchange_declare(name, xtype, durable=True)


def test_exchange_redeclare_predeclared_as_non_durable_is_406(pika_channel):
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct' "
                             "in vhost '/': received 'false' but current is 'true'"):
        pika_channel.exchange_declare("amq.direct", "direct", durable=False)


def test_exchange_declare_passive_missing_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no exchange '{unique_name}' in vhost '/'"):
        pika_channel.exchange_declare(unique_name, passive=True)


def test_exchange_declare_passive_ignores_type_and_flags(pika_channel, unique_name):
    pika_channel.exchange_declare(unique_name, "direct")
    try:
        pika_channel.exchange_declare(unique_name, "fanout", passive=True, durable=True)
    finally:
        pika_channel.exchange_delete(unique_name)


def test_exchange_redeclare_different_type_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.exchange_declare(unique_name, "direct")
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'type' for exchange '{unique_name}' "
                                 "in vhost '/': received 'fanout' but current is 'direct'"):
            ch.exchange_declare(unique_name, "fanout")
    finally:
        pika_connect().channel().exchange_delete(unique_name)


def test_exchange_redeclare_different_durable_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.exchange_declare(unique_name, "direct")
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '{unique_name}' "
                                 "in vhost '/': received 'true' but current is 'false'"):
            ch.exchange_declare(unique_name, "direct", durable=True)
    finally:
        pika_connect().channel().exchange_delete(unique_name)


def test_exchange_redeclare_different_auto_delete_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.exchange_declare(unique_name, "direct")
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'auto_delete' for exchange "
                                 f"'{unique_name}' in vhost '/': received 'true' but current is 'false'"):
            ch.exchange_declare(unique_name, "direct", auto_delete=True)
    finally:
        pika_connect().channel().exchange_delete(unique_name)


def test_exchange_redeclare_different_internal_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.exchange_declare(unique_name, "direct")
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'internal' for exchange "
                                 f"'{unique_name}' in vhost '/': received 'true' but current is 'false'"):
            ch.exchange_declare(unique_name, "direct", internal=True)
    finally:
        pika_connect().channel().exchange_delete(unique_name)


def test_exchange_redeclare_adding_alternate_exchange_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.exchange_declare(unique_name, "direct")
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange "
                                 f"'{unique_name}' in vhost '/': received the value 'foo' of type 'longstr' "
                                 "but current is none"):
            ch.exchange_declare(unique_name, "direct", arguments={"alternate-exchange": "foo"})
    finally:
        pika_connect().channel().exchange_delete(unique_name)


def test_exchange_declare_amq_prefix_is_403(pika_channel):
    with channel_closed(403, "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'"):
        pika_channel.exchange_declare("amq.foo", "direct")


def test_exchange_declare_default_exchange_is_403(pika_channel):
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        pika_channel.exchange_declare("", "direct")


def test_exchange_declare_unknown_type_is_503_connection_error(pika_conn, unique_name):
    ch = pika_conn.channel()
    with connection_closed(503, "COMMAND_INVALID - unknown exchange type 'bogus'"):
        ch.exchange_declare(unique_name, "bogus")
    assert pika_conn.is_closed


def test_exchange_delete(pika_channel, unique_name):
    pika_channel.exchange_declare(unique_name, "fanout")
    pika_channel.exchange_delete(unique_name)
    with channel_closed(404):
        pika_channel.exchange_declare(unique_name, passive=True)


def test_exchange_delete_missing_is_ok(pika_channel, unique_name):
    pika_channel.exchange_delete(unique_name)
    sync(pika_channel)


def test_exchange_delete_if_unused_with_bindings_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.exchange_declare(unique_name, "direct")
    try:
        q = declare_temp_queue(ch)
        ch.queue_bind(q, unique_name, "k")
        with channel_closed(406, f"PRECONDITION_FAILED - exchange '{unique_name}' in vhost '/' in use"):
            ch.exchange_delete(unique_name, if_unused=True)
    finally:
        pika_connect().channel().exchange_delete(unique_name)


def test_exchange_delete_if_unused_without_bindings_succeeds(pika_channel, unique_name):
    pika_channel.exchange_declare(unique_name, "direct")
    pika_channel.exchange_delete(unique_name, if_unused=True)
    with channel_closed(404):
        pika_channel.exchange_declare(unique_name, passive=True)


def test_exchange_delete_predeclared_is_403(pika_channel):
    with channel_closed(403, "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed"):
        pika_channel.exchange_delete("amq.direct")


def test_exchange_delete_default_is_403(pika_channel):
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        pika_channel.exchange_delete("")


def test_exchange_delete_removes_bindings(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    pika_channel.exchange_declare(unique_name, "fanout")
    pika_channel.queue_bind(q, unique_name)
    pika_channel.exchange_delete(unique_name)
    pika_channel.exchange_declare(unique_name, "fanout")
    try:
        pika_channel.basic_publish(unique_name, "", b"x")
        fence(pika_channel, [q])
        assert bodies_after_fence(pika_channel, q) == []
    finally:
        pika_channel.exchange_delete(unique_name)


def test_exchange_auto_delete_deleted_when_last_binding_removed(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    pika_channel.exchange_declare(unique_name, "fanout", auto_delete=True)
    pika_channel.queue_bind(q, unique_name)
    pika_channel.exchange_declare(unique_name, passive=True)
    pika_channel.queue_unbind(q, unique_name)
    with channel_closed(404):
        pika_channel.exchange_declare(unique_name, passive=True)


# ---------------------------------------------------------------- default exchange

def test_exchange_default_routes_by_queue_name(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True)
    pika_channel.basic_publish("", unique_name, b"direct-to-queue")
    got = drain(pika_channel, unique_name, expect=1)
    assert [b for _m, _p, b in got] == [b"direct-to-queue"]


def test_exchange_default_unbind_is_403(pika_channel):
    q = declare_temp_queue(pika_channel)
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        pika_channel.queue_unbind(q, "", q)


# ---------------------------------------------------------------- internal / alternate / e2e

def test_exchange_internal_cannot_be_published_to_403(pika_channel, unique_name):
    pika_channel.exchange_declare(unique_name, "fanout", internal=True)
    try:
        pika_channel.basic_publish(unique_name, "", b"x")
        with channel_closed(403, f"ACCESS_REFUSED - cannot publish to internal exchange '{unique_name}' "
                                 "in vhost '/'"):
            sync(pika_channel)
    finally:
        pika_channel.connection.channel().exchange_delete(unique_name)


def test_exchange_internal_routes_when_reached_by_exchange_binding(pika_channel, names):
    src, internal = names("src"), names("int")
    q = declare_temp_queue(pika_channel)
    pika_channel.exchange_declare(src, "fanout")
    pika_channel.exchange_declare(internal, "fanout", internal=True)
    try:
        pika_channel.exchange_bind(internal, src)
        pika_channel.queue_bind(q, internal)
        pika_channel.basic_publish(src, "", b"via-internal")
        assert [b for _m, _p, b in drain(pika_channel, q, expect=1)] == [b"via-internal"]
    finally:
        pika_channel.exchange_delete(src)
        pika_channel.exchange_delete(internal)


def test_exchange_to_exchange_bind_routes_and_unbind_stops(pika_channel, names):
    src, dst = names("src"), names("dst")
    q = declare_temp_queue(pika_channel)
    pika_channel.exchange_declare(src, "topic")
    pika_channel.exchange_declare(dst, "direct")
    try:
        pika_channel.exchange_bind(dst, src, "a.*")
        pika_channel.queue_bind(q, dst, "a.b")
        pika_channel.basic_publish(src, "a.b", b"routed")      # src topic a.* -> dst direct a.b -> q
        pika_channel.basic_publish(src, "a.c", b"not-bound")   # reaches dst, but dst has no a.c binding
        pika_channel.basic_publish(src, "x.b", b"not-matched")
        fence(pika_channel, [q])
        assert bodies_after_fence(pika_channel, q) == [b"routed"]
        pika_channel.exchange_unbind(dst, src, "a.*")
        pika_channel.basic_publish(src, "a.b", b"after-unbind")
        fence(pika_channel, [q])
        assert bodies_after_fence(pika_channel, q) == []
    finally:
        pika_channel.exchange_delete(src)
        pika_channel.exchange_delete(dst)


def test_exchange_bind_missing_source_is_404(pika_channel, names):
    dst, missing = names("dst"), names("missing")
    pika_channel.exchange_declare(dst, "fanout")
    try:
        with channel_closed(404, f"NOT_FOUND - no exchange '{missing}' in vhost '/'"):
            pika_channel.exchange_bind(dst, missing)
    finally:
        pika_channel.connection.channel().exchange_delete(dst)


def test_exchange_bind_missing_destination_is_404(pika_channel, names):
    missing = names("missing")
    with channel_closed(404, f"NOT_FOUND - no exchange '{missing}' in vhost '/'"):
        pika_channel.exchange_bind(missing, "amq.fanout")


def test_exchange_to_exchange_cycle_delivers_at_most_once_per_queue(pika_channel, names):
    x1, x2 = names("x1"), names("x2")
    q = declare_temp_queue(pika_channel)
    pika_channel.exchange_declare(x1, "fanout")
    pika_channel.exchange_declare(x2, "fanout")
    try:
        pika_channel.exchange_bind(x2, x1)
        pika_channel.exchange_bind(x1, x2)
        pika_channel.queue_bind(q, x1)
        pika_channel.queue_bind(q, x2)
        pika_channel.basic_publish(x1, "", b"once")
        pika_channel.basic_publish(x2, "", b"twice?")
        fence(pika_channel, [q])
        time.sleep(0.1)
        assert bodies_after_fence(pika_channel, q) == [b"once", b"twice?"]
    finally:
        pika_channel.exchange_delete(x1)
        pika_channel.exchange_delete(x2)


def test_exchange_diamond_delivers_once_per_queue(pika_channel, names):
    top, left, right = names("top"), names("left"), names("right")
    q = declare_temp_queue(pika_channel)
    for x in (top, left, right):
        pika_channel.exchange_declare(x, "fanout")
    try:
        pika_channel.exchange_bind(left, top)
        pika_channel.exchange_bind(right, top)
        pika_channel.queue_bind(q, left)
        pika_channel.queue_bind(q, right)
        pika_channel.basic_publish(top, "", b"one")
        fence(pika_channel, [q])
        assert bodies_after_fence(pika_channel, q) == [b"one"]
    finally:
        for x in (top, left, right):
            pika_channel.exchange_delete(x)


def test_exchange_alternate_exchange_receives_unroutable(pika_conn, names):
    ch = pika_conn.channel()
    main_x, ae = names("main"), names("ae")
    q_main, q_ae = declare_temp_queue(ch), declare_temp_queue(ch)
    ch.exchange_declare(ae, "fanout")
    ch.exchange_declare(main_x, "direct", arguments={"alternate-exchange": ae})
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    try:
        ch.queue_bind(q_main, main_x, "known")
        ch.queue_bind(q_ae, ae)
        ch.basic_publish(main_x, "known", b"routed")
        ch.basic_publish(main_x, "unknown", b"to-ae", mandatory=True)
        fence(ch, [q_main, q_ae])
        assert bodies_after_fence(ch, q_main) == [b"routed"]
        got = [(m.exchange, m.routing_key, b) for m, _p, b in collect(ch, q_ae)]
        assert got == [(main_x, "unknown", b"to-ae")]
        pika_conn.process_data_events(time_limit=0.1)
        assert returned == []  # routed via the AE: not returned even though mandatory
    finally:
        ch.exchange_delete(main_x)
        ch.exchange_delete(ae)


def test_exchange_alternate_exchange_missing_means_unroutable(pika_conn, names):
    ch = pika_conn.channel()
    main_x = names("main")
    ch.exchange_declare(main_x, "direct", arguments={"alternate-exchange": names("nonexistent")})
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append(m))
    try:
        ch.basic_publish(main_x, "nowhere", b"x", mandatory=True)
        deadline = time.monotonic() + 5
        while not returned and time.monotonic() < deadline:
            pika_conn.process_data_events(time_limit=0.05)
        assert [(m.reply_code, m.reply_text) for m in returned] == [(312, "NO_ROUTE")]
    finally:
        ch.exchange_delete(main_x)


# ---------------------------------------------------------------- routing: direct / fanout

def test_routing_direct_exact_key_match(pika_channel, unique_name):
    q1, q2 = declare_temp_queue(pika_channel), declare_temp_queue(pika_channel)
    pika_channel.queue_bind(q1, "amq.direct", unique_name + ".a")
    pika_channel.queue_bind(q2, "amq.direct", unique_name + ".b")
    pika_channel.queue_bind(q2, "amq.direct", unique_name + ".a")
    pika_channel.basic_publish("amq.direct", unique_name + ".a", b"A")
    pika_channel.basic_publish("amq.direct", unique_name + ".b", b"B")
    pika_channel.basic_publish("amq.direct", unique_name + ".A", b"case")
    fence(pika_channel, [q1, q2])
    assert bodies_after_fence(pika_channel, q1) == [b"A"]
    assert bodies_after_fence(pika_channel, q2) == [b"A", b"B"]


def test_routing_direct_same_queue_two_keys_gets_one_copy_per_message(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    x = unique_name
    pika_channel.exchange_declare(x, "direct")
    try:
        pika_channel.queue_bind(q, x, "k1")
        pika_channel.queue_bind(q, x, "k2")
        pika_channel.basic_publish(x, "k1", b"1")
        pika_channel.basic_publish(x, "k2", b"2")
        fence(pika_channel, [q])
        assert bodies_after_fence(pika_channel, q) == [b"1", b"2"]
    finally:
        pika_channel.exchange_delete(x)


def test_routing_fanout_ignores_routing_key_and_copies_to_all(pika_channel, unique_name):
    x = unique_name
    pika_channel.exchange_declare(x, "fanout")
    try:
        qs = [declare_temp_queue(pika_channel) for _ in range(3)]
        for i, q in enumerate(qs):
            pika_channel.queue_bind(q, x, f"whatever{i}")
        pika_channel.basic_publish(x, "any.key", b"fan")
        fence(pika_channel, qs)
        for q in qs:
            got = [(m.exchange, m.routing_key, b) for m, _p, b in collect(pika_channel, q)]
            assert got == [(x, "any.key", b"fan")]
    finally:
        pika_channel.exchange_delete(x)


# ---------------------------------------------------------------- routing: topic

TOPIC_KEYS = ["", "a", "b", "c", "a.b", "a.c", "b.a", "x.c", "a.b.c", "a.b.b.c", "a.b.d.c", "a.b.c.d",
              "a..c", ".", "..", "a.", ".a", "#", "*"]

TOPIC_CASES = {
    "*": ["a", "b", "c", "#", "*"],
    "#": TOPIC_KEYS,
    "a.*": ["a.b", "a.c", "a."],
    "a.#": ["a", "a.b", "a.c", "a.b.c", "a.b.b.c", "a.b.d.c", "a.b.c.d", "a..c", "a."],
    "#.c": ["c", "a.c", "x.c", "a.b.c", "a.b.b.c", "a.b.d.c", "a..c"],
    "a.#.c": ["a.c", "a.b.c", "a.b.b.c", "a.b.d.c", "a..c"],
    "a.*.c": ["a.b.c", "a..c"],
    "*.*": ["a.b", "a.c", "b.a", "x.c", ".", "a.", ".a"],
    "a.*.#": ["a.b", "a.c", "a.b.c", "a.b.b.c", "a.b.d.c", "a.b.c.d", "a..c", "a."],
    "*.#": [k for k in TOPIC_KEYS if k != ""],
    "#.*": [k for k in TOPIC_KEYS if k != ""],
    "#.#": TOPIC_KEYS,
    "#.a.#": ["a", "a.b", "a.c", "b.a", "a.b.c", "a.b.b.c", "a.b.d.c", "a.b.c.d", "a..c", "a.", ".a"],
    "*.a": ["b.a", ".a"],
    "a.*.*": ["a.b.c", "a..c"],
    "": [""],
    "a..c": ["a..c"],
    "a.b.c": ["a.b.c"],
}


@pytest.mark.parametrize("pattern", list(TOPIC_CASES), ids=[repr(p) for p in TOPIC_CASES])
def test_routing_topic_pattern(pika_channel, pattern):
    x = "amq.topic"
    q = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(q, x, pattern)
    for k in TOPIC_KEYS:
        pika_channel.basic_publish(x, k, k.encode())
    fence(pika_channel, [q])
    got = sorted(m.routing_key for m, _p, _b in collect(pika_channel, q))
    assert got == sorted(TOPIC_CASES[pattern])


def test_routing_topic_multiple_matching_bindings_give_one_copy(pika_channel):
    q = declare_temp_queue(pika_channel)
    for p in ("a.*", "#", "a.b", "*.b"):
        pika_channel.queue_bind(q, "amq.topic", p)
    pika_channel.basic_publish("amq.topic", "a.b", b"one")
    fence(pika_channel, [q])
    assert bodies_after_fence(pika_channel, q) == [b"one"]


# ---------------------------------------------------------------- routing: headers

@pytest.fixture
def raw_publisher(raw_connect):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK

    def publish(exchange, headers, body, routing_key="ignored"):
        raw.send(R.publish_frames(1, exchange, routing_key, body, props=R.headers_props(headers)))

    return publish


def _headers_route(ch, publish, binding_args, messages):
    """Bind a fresh queue to amq.headers with binding_args, publish messages (typed header dicts),
    return the indexes of the messages that arrived."""
    q = declare_temp_queue(ch)
    ch.queue_bind(q, "amq.headers", "rk-ignored", arguments=binding_args)
    for i, h in enumerate(messages):
        publish("amq.headers", h, str(i).encode())
    publish("", {}, b"__fence__", routing_key=q)
    deadline = time.monotonic() + 5
    got = []
    while time.monotonic() < deadline:
        m, _p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            time.sleep(0.02)
            continue
        if b == b"__fence__":
            break
        got.append(int(b))
    return got


MSGS = [{"a": 1, "b": "x"}, {"a": 1}, {"b": "x"}, {"a": 1, "b": "x", "c": 3}, {"a": 2, "b": "x"}, {},
        {"a": 1, "b": "y"}]


@pytest.mark.parametrize("xmatch,expected", [
    ("all", [0, 3]),
    ("any", [0, 1, 2, 3, 4, 6]),
    (None, [0, 3]),  # x-match absent means all
])
def test_routing_headers_x_match(pika_channel, raw_publisher, xmatch, expected):
    args = {"a": 1, "b": "x"}
    if xmatch:
        args["x-match"] = xmatch
    assert _headers_route(pika_channel, raw_publisher, args, MSGS) == expected


def test_routing_headers_all_with_no_other_keys_matches_everything(pika_channel, raw_publisher):
    assert _headers_route(pika_channel, raw_publisher, {"x-match": "all"}, MSGS) == list(range(len(MSGS)))


def test_routing_headers_any_with_no_other_keys_matches_nothing(pika_channel, raw_publisher):
    assert _headers_route(pika_channel, raw_publisher, {"x-match": "any"}, MSGS) == []


X_MSGS = [{"x-a": 1, "b": 2}, {"b": 2}, {"x-a": 1}, {"x-a": 2, "b": 2}, {}]


@pytest.mark.parametrize("xmatch,expected", [
    ("all", [0, 1, 3]),          # x- keys in the binding are ignored
    ("any", [0, 1, 3]),
    ("all-with-x", [0]),         # ... unless -with-x
    ("any-with-x", [0, 1, 2, 3]),
])
def test_routing_headers_x_prefixed_keys(pika_channel, raw_publisher, xmatch, expected):
    args = {"x-match": xmatch, "x-a": 1, "b": 2}
    assert _headers_route(pika_channel, raw_publisher, args, X_MSGS) == expected


def test_routing_headers_binding_on_only_x_keys_with_any_matches_nothing(pika_channel, raw_publisher):
    assert _headers_route(pika_channel, raw_publisher, {"x-match": "any", "x-a": 1}, X_MSGS) == []


TYPED = [T("I", 1), T("l", 1), "1", T("t", True), T("b", 1), T("s", 1), T("I", 2), None,
         T("u", 1), T("i", 1), T("B", 1)]


def test_routing_headers_int_binding_matches_ints_of_any_width_not_strings_or_bools(pika_channel, raw_publisher):
    msgs = [{"a": v} for v in TYPED] + [{}]
    got = _headers_route(pika_channel, raw_publisher, {"x-match": "all", "a": 1}, msgs)
    assert got == [0, 1, 4, 5, 8, 9, 10]


def test_routing_headers_string_binding_matches_only_equal_string(pika_channel, raw_publisher):
    msgs = [{"a": v} for v in TYPED] + [{}]
    assert _headers_route(pika_channel, raw_publisher, {"x-match": "all", "a": "1"}, msgs) == [2]


def test_routing_headers_void_binding_value_matches_key_presence(pika_channel, raw_publisher):
    msgs = [{"a": v} for v in TYPED] + [{}, {"b": 1}]
    got = _headers_route(pika_channel, raw_publisher, {"x-match": "all", "a": None}, msgs)
    assert got == list(range(len(TYPED)))


def test_routing_headers_numeric_equality_spans_float_and_timestamp_types(pika_channel, raw_publisher):
    # RabbitMQ compares header values with Erlang '==': 1 == 1.0, and a timestamp is an integer.
    msgs = [{"a": T("d", 1.0)}, {"a": T("f", 1.0)}, {"a": T("T", 1)}, {"a": T("d", 1.5)}]
    assert _headers_route(pika_channel, raw_publisher, {"x-match": "all", "a": 1}, msgs) == [0, 1, 2]


def test_routing_headers_invalid_x_match_is_406(pika_channel):
    q = declare_temp_queue(pika_channel)
    with channel_closed(406, 'PRECONDITION_FAILED - Invalid x-match field value <<"bogus">>; expected all, '
                             'any, all-with-x, or any-with-x'):
        pika_channel.queue_bind(q, "amq.headers", "", arguments={"x-match": "bogus", "a": 1})


def test_routing_headers_on_amq_match_too(pika_channel, raw_publisher):
    q = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(q, "amq.match", "", arguments={"x-match": "any", "k": "v"})
    raw_publisher("amq.match", {"k": "v"}, b"yes")
    raw_publisher("amq.match", {"k": "w"}, b"no")
    raw_publisher("", {}, FENCE, routing_key=q)
    assert bodies_after_fence(pika_channel, q) == [b"yes"]

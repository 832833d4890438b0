"""Sender-selected distribution: the `CC` and `BCC` message headers.

RabbitMQ 3.10 facts asserted here:
* A `CC` or `BCC` header that is an array routes the message additionally by each longstr element,
  through the same exchange (direct, topic patterns, the default exchange); array elements of
  other types are ignored, as are headers spelled `cc`/`Cc` (the lookup is case-sensitive).
* Each queue gets the message at most once, however many of the keys match it.
* `CC` is delivered unchanged; `BCC` is removed before the message is enqueued (from every copy and
  from a basic.return). Removing it leaves the headers property present, possibly an empty table.
  basic.deliver / get-ok carry the publish routing key, not the CC key that matched.
* mandatory: a message routed only by a CC/BCC key is not returned; the alternate exchange is used
  only if no key routes it.
* A `CC`/`BCC` header of any type but array is a channel error 406
  `PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}` (RabbitMQ's
  type name: longstr, signedint, bool, void, table, binary, ...), class/method 60/40; nothing is
  routed.
"""

import time

import pika

import amqpraw as R
from util import channel_closed, declare_temp_queue, message_count, settle, sync, wait_message_count, wait_until


def _direct(ch, names, bindings) -> tuple[str, dict]:
    """A fresh direct exchange and one temp queue per entry of bindings ({tag: [keys]}).
    -> (exchange, {tag: queue})."""
    return _exchange(ch, names, "direct", bindings)


def _exchange(ch, names, kind, bindings) -> tuple[str, dict]:
    x = names(kind)
    ch.exchange_declare(x, kind, auto_delete=True)
    qs = {}
    for tag, keys in bindings.items():
        qs[tag] = declare_temp_queue(ch)
        for k in keys:
            ch.queue_bind(qs[tag], x, k)
    return x, qs


def _publish(ch, exchange, key, body, headers, **kw) -> None:
    ch.basic_publish(exchange, key, body, pika.BasicProperties(headers=headers), **kw)


def _drain(ch, q) -> list:
    """basic.get (auto-ack) until get-empty -> [(body, routing_key, headers)]."""
    out = []
    for _ in range(100):
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((b.decode(), m.routing_key, p.headers))
    raise AssertionError("queue did not drain")


def _counts(ch, qs: dict, expected: dict) -> dict:
    """Wait until every queue expected to get messages has them, settle briefly, then return the
    message counts of all queues in qs (so queues that should get nothing are checked too)."""
    for tag, n in expected.items():
        if n:
            wait_message_count(ch, qs[tag], n)
    time.sleep(0.1)
    return {tag: message_count(ch, q) for tag, q in qs.items()}


def _invalid(header, tname) -> str:
    return f'PRECONDITION_FAILED - invalid message: {{unacceptable_type_in_header,"{header}",{tname}}}'


# ---------------------------------------------------------------- routing

def test_cc_header_routes_to_additional_keys_on_direct_exchange(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"], "c": ["c"], "d": ["d"]})
    _publish(pika_channel, x, "a", b"m", {"CC": ["b", "c"]})
    assert _counts(pika_channel, qs, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1, "d": 0}


def test_bcc_header_routes_to_additional_keys_on_direct_exchange(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"], "c": ["c"], "d": ["d"]})
    _publish(pika_channel, x, "a", b"m", {"BCC": ["b", "c"]})
    assert _counts(pika_channel, qs, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1, "d": 0}


def test_cc_and_bcc_together_route_to_all_listed_keys(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"], "c": ["c"], "d": ["d"]})
    _publish(pika_channel, x, "a", b"m", {"CC": ["b"], "BCC": ["c"]})
    assert _counts(pika_channel, qs, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1, "d": 0}


def test_cc_routes_even_when_publish_routing_key_matches_nothing(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"]})
    _publish(pika_channel, x, "nothing", b"m", {"CC": ["b"]})
    assert _counts(pika_channel, qs, {"b": 1}) == {"a": 0, "b": 1}


def test_cc_and_bcc_on_default_exchange_route_to_named_queues(pika_channel):
    qa, qb, qc, qd = (declare_temp_queue(pika_channel) for _ in range(4))
    _publish(pika_channel, "", qa, b"m", {"CC": [qb, "no-such-queue"], "BCC": [qc]})
    qs = {"a": qa, "b": qb, "c": qc, "d": qd}
    assert _counts(pika_channel, qs, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1, "d": 0}


def test_cc_queue_receives_message_once_when_several_keys_match(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"ab": ["a", "b"], "b": ["b"], "c": ["c"]})
    _publish(pika_channel, x, "a", b"m", {"CC": ["b", "a", "b"], "BCC": ["a", "b", "c"]})
    assert _counts(pika_channel, qs, {"ab": 1, "b": 1, "c": 1}) == {"ab": 1, "b": 1, "c": 1}
    assert [body for body, _k, _h in _drain(pika_channel, qs["ab"])] == ["m"]


def test_cc_on_default_exchange_naming_the_target_queue_again_delivers_once(pika_channel):
    q = declare_temp_queue(pika_channel)
    _publish(pika_channel, "", q, b"m", {"CC": [q], "BCC": [q]})
    assert wait_message_count(pika_channel, q, 1) == 1
    time.sleep(0.1)
    assert message_count(pika_channel, q) == 1


def test_cc_topic_exchange_keys_are_matched_against_patterns(pika_channel, names):
    x, qs = _exchange(pika_channel, names, "topic",
                      {"star": ["a.*"], "hash": ["#.z"], "exact": ["x.y"], "other": ["b.*"]})
    _publish(pika_channel, x, "x.y", b"m", {"CC": ["a.b", "q.z", "a.z"]})
    assert _counts(pika_channel, qs, {"star": 1, "hash": 1, "exact": 1}) == \
        {"star": 1, "hash": 1, "exact": 1, "other": 0}


def test_cc_array_elements_that_are_not_longstr_are_ignored(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"], "c": ["c"], "n": ["5"]})
    # pika sends 5 as 'I', b"b" as 'x' (binary), a dict as 'F': only "c" (longstr) routes
    _publish(pika_channel, x, "a", b"m", {"CC": [5, b"b", "c", {"k": "b"}]})
    assert _counts(pika_channel, qs, {"a": 1, "c": 1}) == {"a": 1, "b": 0, "c": 1, "n": 0}


def test_cc_header_name_is_case_sensitive(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"], "c": ["c"]})
    _publish(pika_channel, x, "a", b"m", {"cc": ["b"], "Bcc": ["c"]})
    assert _counts(pika_channel, qs, {"a": 1}) == {"a": 1, "b": 0, "c": 0}
    assert _drain(pika_channel, qs["a"]) == [("m", "a", {"cc": ["b"], "Bcc": ["c"]})]


def test_cc_empty_arrays_route_by_routing_key_only(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"]})
    _publish(pika_channel, x, "a", b"m", {"CC": [], "BCC": []})
    assert _counts(pika_channel, qs, {"a": 1}) == {"a": 1, "b": 0}
    assert _drain(pika_channel, qs["a"]) == [("m", "a", {"CC": []})]


# ---------------------------------------------------------------- headers as delivered

def test_cc_header_is_delivered_unchanged(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"]})
    headers = {"CC": ["b", "zz"], "other": 1, "s": "v"}
    _publish(pika_channel, x, "a", b"m", headers)
    assert _counts(pika_channel, qs, {"a": 1, "b": 1}) == {"a": 1, "b": 1}
    for tag in ("a", "b"):
        assert _drain(pika_channel, qs[tag]) == [("m", "a", headers)], tag


def test_bcc_header_is_removed_before_delivery(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"], "c": ["c"]})
    _publish(pika_channel, x, "a", b"m", {"CC": ["b"], "BCC": ["c"], "other": 1})
    assert _counts(pika_channel, qs, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1}
    for tag in ("a", "b", "c"):
        assert _drain(pika_channel, qs[tag]) == [("m", "a", {"CC": ["b"], "other": 1})], tag


def test_bcc_only_header_leaves_an_empty_headers_table(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"]})
    _publish(pika_channel, x, "a", b"m", {"BCC": ["b"]})
    assert _counts(pika_channel, qs, {"a": 1, "b": 1}) == {"a": 1, "b": 1}
    for tag in ("a", "b"):
        assert _drain(pika_channel, qs[tag]) == [("m", "a", {})], tag


def test_cc_basic_deliver_carries_publish_routing_key_and_cc_header(pika_conn, names):
    ch = pika_conn.channel()
    x, qs = _direct(ch, names, {"a": ["a"], "b": ["b"]})
    got = []
    ch.basic_consume(qs["b"], lambda c, m, p, b: got.append((m.routing_key, m.exchange, p.headers, b)),
                     auto_ack=True)
    _publish(ch, x, "a", b"m", {"CC": ["b"], "BCC": ["zz"], "k": "v"})
    assert wait_until(pika_conn, lambda: got)
    settle(pika_conn, 0.1)
    assert got == [("a", x, {"CC": ["b"], "k": "v"}, b"m")]


# ---------------------------------------------------------------- mandatory / alternate exchange

def test_cc_mandatory_message_routed_only_via_cc_is_not_returned(pika_conn, names):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    x, qs = _direct(ch, names, {"b": ["b"]})
    _publish(ch, x, "nothing", b"m", {"CC": ["b"]}, mandatory=True)
    assert wait_message_count(ch, qs["b"], 1) == 1
    settle(pika_conn, 0.2)
    assert returned == []


def test_bcc_mandatory_message_routed_only_via_bcc_is_not_returned(pika_conn, names):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    x, qs = _direct(ch, names, {"b": ["b"]})
    _publish(ch, x, "nothing", b"m", {"BCC": ["b"]}, mandatory=True)
    assert wait_message_count(ch, qs["b"], 1) == 1
    settle(pika_conn, 0.2)
    assert returned == []


def test_cc_mandatory_unroutable_by_every_key_is_returned_without_bcc(pika_conn, names):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, m.reply_text, m.exchange,
                                                                  m.routing_key, p.headers, b)))
    x, _qs = _direct(ch, names, {"b": ["b"]})
    _publish(ch, x, "nothing", b"m", {"CC": ["zz"], "BCC": ["yy"], "k": 1}, mandatory=True)
    assert wait_until(pika_conn, lambda: returned)
    assert returned == [(312, "NO_ROUTE", x, "nothing", {"CC": ["zz"], "k": 1}, b"m")]


def test_cc_routed_message_does_not_go_to_alternate_exchange(pika_channel, names):
    ae = names("ae")
    pika_channel.exchange_declare(ae, "fanout", auto_delete=True)
    q_ae = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(q_ae, ae, "")
    x = names("x")
    pika_channel.exchange_declare(x, "direct", auto_delete=True, arguments={"alternate-exchange": ae})
    qb = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(qb, x, "b")
    _publish(pika_channel, x, "nothing", b"via-cc", {"CC": ["b"]})
    _publish(pika_channel, x, "nothing", b"to-ae", {"CC": ["zz"], "BCC": ["yy"]})
    assert _counts(pika_channel, {"b": qb, "ae": q_ae}, {"b": 1, "ae": 1}) == {"b": 1, "ae": 1}
    assert _drain(pika_channel, qb) == [("via-cc", "nothing", {"CC": ["b"]})]
    assert _drain(pika_channel, q_ae) == [("to-ae", "nothing", {"CC": ["zz"]})]


# ---------------------------------------------------------------- invalid header types

def test_cc_string_header_is_406_invalid_message(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"]})
    other = pika_channel.connection.channel()
    _publish(other, x, "a", b"m", {"CC": "b"})
    with channel_closed(406, _invalid("CC", "longstr")):
        sync(other)
    assert _counts(pika_channel, qs, {}) == {"a": 0, "b": 0}


def test_bcc_string_header_is_406_invalid_message(pika_channel, names):
    x, qs = _direct(pika_channel, names, {"a": ["a"], "b": ["b"]})
    other = pika_channel.connection.channel()
    _publish(other, x, "a", b"m", {"BCC": "b"})
    with channel_closed(406, _invalid("BCC", "longstr")):
        sync(other)
    assert _counts(pika_channel, qs, {}) == {"a": 0, "b": 0}


def test_cc_non_array_header_types_are_406_invalid_message(pika_conn):
    q = declare_temp_queue(pika_conn.channel())
    # pika: int -> 'I', bool -> 't', None -> 'V', dict -> 'F', bytes -> 'x'
    for value, tname in ((5, "signedint"), (True, "bool"), (None, "void"), ({"k": "v"}, "table"),
                         (b"b", "binary")):
        ch = pika_conn.channel()
        _publish(ch, "", q, b"m", {"CC": value})
        with channel_closed(406, _invalid("CC", tname)):
            sync(ch)
    assert message_count(pika_conn.channel(), q) == 0


def test_cc_invalid_header_is_a_channel_error_on_basic_publish_raw(raw_connect):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send(R.publish_frames(1, "", "nowhere", b"m", props=R.headers_props({"CC": "b"})))
    f = raw.expect(R.CHANNEL_CLOSE, 1)
    assert f.close_info() == (406, _invalid("CC", "longstr"), 60, 40)
    raw.send_method(1, R.CHANNEL_CLOSE_OK)
    # a valid array on another channel of the same connection is fine
    assert raw.channel_open(2).method == R.CHANNEL_OPEN_OK
    raw.send(R.publish_frames(2, "", "nowhere", b"m", props=R.headers_props({"CC": ["b"]})))
    raw.send_method(2, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    raw.expect(R.QUEUE_DECLARE_OK, 2)

"""Classic priority queues (`x-max-priority`): argument validation and equivalence, delivery order
(highest priority first, FIFO within a priority), requeue positions, counts.

RabbitMQ 3.10 facts asserted here:
* x-max-priority accepts any AMQP integer type (b B s u I i l) with a value 0..255; pika sends a
  Python int as 'I' (signed 32) when it fits, else 'l' (signed 64).
* Invalid values are 406 `invalid arg` with the Erlang error term as text:
  `{max_value_exceeded,256}`, `{value_negative,-1}`, or `"expected integer, got longstr"` (quoted,
  with RabbitMQ's type name: longstr, bool, float, double, decimal, timestamp, table, array, void,
  binary).
* On an existing queue the equivalence check runs first, so an invalid value there is reported as
  `inequivalent arg`, not `invalid arg`; equivalence compares integer values across types (I 10 == l 10).
  Passive declare ignores the argument.
* A message without the priority property is priority 0; a priority above the max counts as the max
  (FIFO with the other max-priority messages) but the property is delivered unchanged.
* Requeued messages go back to their original position within their priority.
* On a queue without x-max-priority (and on x-max-priority 0) the property is ignored: plain FIFO.
"""

import pika
from pika.compat import long

import amqpraw as R
from util import (Collector, channel_closed, declare_temp_queue, message_count, wait_message_count,
                  wait_until)


def _pq(ch, max_priority, **kw) -> str:
    """Server-named exclusive priority queue."""
    return declare_temp_queue(ch, arguments={"x-max-priority": max_priority}, **kw)


def _publish(ch, q, items) -> None:
    """items: [(body, priority-or-None)]; None publishes without the priority property."""
    for body, prio in items:
        props = pika.BasicProperties(priority=prio) if prio is not None else None
        ch.basic_publish("", q, body.encode(), props)


def _drain(ch, q) -> list:
    """basic.get (auto-ack) until get-empty -> [(body, priority property, redelivered)]."""
    out = []
    for _ in range(1000):
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((b.decode(), p.priority, m.redelivered))
    raise AssertionError("queue did not drain")


def _get_n(ch, q, n) -> list:
    """n basic.gets without auto-ack -> [(method, body)]."""
    out = []
    for _ in range(n):
        m, _p, b = ch.basic_get(q)
        assert m is not None
        out.append((m, b.decode()))
    return out


def _invalid(q, text) -> str:
    return f"PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue '{q}' in vhost '/': {text}"


def _inequivalent(q, text) -> str:
    return f"PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue '{q}' in vhost '/': {text}"


def _raw_declare(raw, channel, name, value) -> R.Frame:
    """queue.declare(name, exclusive) with x-max-priority = value on a fresh raw channel."""
    assert raw.channel_open(channel).method == R.CHANNEL_OPEN_OK
    raw.send_method(channel, R.QUEUE_DECLARE,
                    R.queue_declare_args(name, exclusive=True, arguments={"x-max-priority": value}))
    return raw.read_frame()


# ---------------------------------------------------------------- declare / validation

def test_priority_queue_declare_max_priority_1_10_255_is_ok(pika_channel, names):
    for mp in (1, 10, 255):
        q = names(f"p{mp}")
        ok = pika_channel.queue_declare(q, exclusive=True, arguments={"x-max-priority": mp}).method
        assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 0, 0)


def test_priority_queue_declare_max_priority_0_is_ok(pika_channel, unique_name):
    ok = pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 0}).method
    assert ok.queue == unique_name


def test_priority_queue_redeclare_same_max_priority_is_ok(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})
    ok = pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10}).method
    assert ok.queue == unique_name


def test_priority_queue_redeclare_same_value_other_integer_type_is_ok(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})  # 'I'
    ok = pika_channel.queue_declare(unique_name, exclusive=True,
                                    arguments={"x-max-priority": long(10)}).method             # 'l'
    assert ok.queue == unique_name


def test_priority_queue_redeclare_different_max_priority_is_406_inequivalent(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})
    ch = pika_conn.channel()
    with channel_closed(406, _inequivalent(unique_name, "received '5' but current is '10'")):
        ch.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 5})


def test_priority_queue_redeclare_without_max_priority_is_406_inequivalent(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})
    ch = pika_conn.channel()
    with channel_closed(406, _inequivalent(unique_name,
                                           "received none but current is the value '10' of type 'signedint'")):
        ch.queue_declare(unique_name, exclusive=True)


def test_priority_queue_redeclare_plain_queue_with_max_priority_is_406_inequivalent(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True)
    ch = pika_conn.channel()
    with channel_closed(406, _inequivalent(unique_name,
                                           "received the value '10' of type 'signedint' but current is none")):
        ch.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})


def test_priority_queue_redeclare_with_invalid_value_reports_inequivalent_not_invalid(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})
    ch = pika_conn.channel()
    with channel_closed(406, _inequivalent(unique_name, "received '256' but current is '10'")):
        ch.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 256})
    ch = pika_conn.channel()
    with channel_closed(406, _inequivalent(unique_name, "received 'a' but current is '10'")):
        ch.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": "a"})


def test_priority_queue_passive_declare_ignores_max_priority(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 10})
    for v in (3, 256):
        ok = pika_channel.queue_declare(unique_name, passive=True, arguments={"x-max-priority": v}).method
        assert ok.queue == unique_name


def test_priority_queue_max_priority_256_is_406_max_value_exceeded(pika_channel, unique_name):
    # pika encodes 256 as 'I' (signed 32-bit)
    with channel_closed(406, _invalid(unique_name, "{max_value_exceeded,256}")):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 256})


def test_priority_queue_max_priority_long_above_int32_is_406_max_value_exceeded(pika_channel, unique_name):
    # pika encodes 2**40 as 'l' (signed 64-bit)
    with channel_closed(406, _invalid(unique_name, "{max_value_exceeded,1099511627776}")):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 2 ** 40})


def test_priority_queue_negative_max_priority_is_406_value_negative(pika_channel, unique_name):
    # pika encodes -1 as 'I' (signed 32-bit)
    with channel_closed(406, _invalid(unique_name, "{value_negative,-1}")):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": -1})


def test_priority_queue_string_max_priority_is_406_expected_integer(pika_channel, unique_name):
    # pika encodes str as 'S' (longstr); a numeric string is not coerced
    with channel_closed(406, _invalid(unique_name, '"expected integer, got longstr"')):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": "5"})


def test_priority_queue_bool_max_priority_is_406_expected_integer(pika_channel, unique_name):
    with channel_closed(406, _invalid(unique_name, '"expected integer, got bool"')):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": True})


def test_priority_queue_max_priority_accepts_every_integer_type_raw(raw_connect, names):
    raw = raw_connect()
    raw.handshake()
    for i, code in enumerate(("b", "B", "s", "u", "I", "i", "l"), start=1):
        f = _raw_declare(raw, i, names(f"t{code}"), R.Typed(code, 5))
        assert f.method == R.QUEUE_DECLARE_OK, (code, f, f.close_info() if f.method == R.CHANNEL_CLOSE else None)


def test_priority_queue_max_priority_range_checked_for_every_integer_width_raw(raw_connect, names):
    raw = raw_connect()
    raw.handshake()
    cases = [("b", -1, "{value_negative,-1}"), ("s", -3, "{value_negative,-3}"),
             ("u", 256, "{max_value_exceeded,256}"), ("i", 300, "{max_value_exceeded,300}"),
             ("l", 1000, "{max_value_exceeded,1000}")]
    for i, (code, v, text) in enumerate(cases, start=1):
        q = names(f"t{code}")
        f = _raw_declare(raw, i, q, R.Typed(code, v))
        assert f.method == R.CHANNEL_CLOSE, (code, f)
        assert f.close_info() == (406, _invalid(q, text), 50, 10), code
        raw.send_method(i, R.CHANNEL_CLOSE_OK)


def test_priority_queue_non_integer_max_priority_types_are_406_raw(raw_connect, names):
    raw = raw_connect()
    raw.handshake()
    cases = [(R.Typed("f", 5.0), "float"), (R.Typed("d", 5.0), "double"), (R.Typed("D", (0, 5)), "decimal"),
             (R.Typed("T", 5), "timestamp"), (R.Typed("x", b"5"), "binary"), ({"a": 1}, "table"),
             ([5], "array"), (None, "void")]
    for i, (value, tname) in enumerate(cases, start=1):
        q = names(tname)
        f = _raw_declare(raw, i, q, value)
        assert f.method == R.CHANNEL_CLOSE, (tname, f)
        assert f.close_info() == (406, _invalid(q, f'"expected integer, got {tname}"'), 50, 10), tname
        raw.send_method(i, R.CHANNEL_CLOSE_OK)


# ---------------------------------------------------------------- delivery order

def test_priority_queue_basic_get_returns_highest_priority_first_fifo_within_priority(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("a1", 1), ("b5", 5), ("c3", 3), ("d5", 5), ("e1", 1), ("f10", 10), ("g3", 3)])
    assert wait_message_count(pika_channel, q, 7) == 7
    assert [b for b, _p, _r in _drain(pika_channel, q)] == ["f10", "b5", "d5", "c3", "g3", "a1", "e1"]


def test_priority_queue_consumer_receives_backlog_highest_priority_first(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 10)
    _publish(ch, q, [("a1", 1), ("b5", 5), ("c3", 3), ("d5", 5), ("e1", 1), ("f10", 10), ("g3", 3)])
    assert wait_message_count(ch, q, 7) == 7
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    assert wait_until(pika_conn, lambda: len(col) == 7)
    assert [b.decode() for b in col.bodies] == ["f10", "b5", "d5", "c3", "g3", "a1", "e1"]
    assert col.tags == list(range(1, 8))


def test_priority_queue_message_without_priority_counts_as_zero(pika_channel):
    q = _pq(pika_channel, 5)
    _publish(pika_channel, q, [("n1", None), ("z1", 0), ("p1", 1), ("n2", None), ("z2", 0)])
    assert wait_message_count(pika_channel, q, 5) == 5
    assert _drain(pika_channel, q) == [("p1", 1, False), ("n1", None, False), ("z1", 0, False),
                                       ("n2", None, False), ("z2", 0, False)]


def test_priority_queue_priority_above_max_is_treated_as_max(pika_channel):
    q = _pq(pika_channel, 5)
    _publish(pika_channel, q, [("a3", 3), ("b5", 5), ("c9", 9), ("d5", 5), ("e255", 255), ("f4", 4), ("g6", 6)])
    assert wait_message_count(pika_channel, q, 7) == 7
    assert [b for b, _p, _r in _drain(pika_channel, q)] == ["b5", "c9", "d5", "e255", "g6", "f4", "a3"]


def test_priority_queue_priority_property_is_delivered_unchanged(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 5)
    _publish(ch, q, [("a200", 200), ("b3", 3), ("c255", 255), ("dN", None), ("e0", 0)])
    assert wait_message_count(ch, q, 5) == 5
    assert [(b, p) for b, p, _r in _drain(ch, q)] == [("a200", 200), ("c255", 255), ("b3", 3),
                                                      ("dN", None), ("e0", 0)]
    # the same through basic.deliver
    _publish(ch, q, [("f7", 7), ("g2", 2)])
    assert wait_message_count(ch, q, 2) == 2
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert [(m[2], m[1].priority) for m in col.messages] == [(b"f7", 7), (b"g2", 2)]


def test_priority_queue_max_priority_1_has_two_levels(pika_channel):
    q = _pq(pika_channel, 1)
    _publish(pika_channel, q, [("a0", 0), ("b9", 9), ("c1", 1), ("dN", None), ("e5", 5)])
    assert wait_message_count(pika_channel, q, 5) == 5
    assert [b for b, _p, _r in _drain(pika_channel, q)] == ["b9", "c1", "e5", "a0", "dN"]


def test_priority_queue_max_priority_0_is_fifo(pika_channel):
    q = _pq(pika_channel, 0)
    _publish(pika_channel, q, [("a1", 1), ("b9", 9), ("c0", 0), ("dN", None), ("e5", 5)])
    assert wait_message_count(pika_channel, q, 5) == 5
    assert [b for b, _p, _r in _drain(pika_channel, q)] == ["a1", "b9", "c0", "dN", "e5"]


def test_non_priority_queue_ignores_priority_property(pika_channel):
    q = declare_temp_queue(pika_channel)
    _publish(pika_channel, q, [("a1", 1), ("b9", 9), ("c0", 0), ("dN", None), ("e5", 5), ("f255", 255)])
    assert wait_message_count(pika_channel, q, 6) == 6
    assert _drain(pika_channel, q) == [("a1", 1, False), ("b9", 9, False), ("c0", 0, False),
                                       ("dN", None, False), ("e5", 5, False), ("f255", 255, False)]


# ---------------------------------------------------------------- requeue

def test_priority_queue_nack_requeue_returns_message_to_its_priority_position(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("p5-a", 5), ("p5-b", 5), ("p1-c", 1)])
    assert wait_message_count(pika_channel, q, 3) == 3
    (m, body), = _get_n(pika_channel, q, 1)
    assert (body, m.redelivered) == ("p5-a", False)
    pika_channel.basic_nack(m.delivery_tag, requeue=True)
    assert wait_message_count(pika_channel, q, 3) == 3
    assert _drain(pika_channel, q) == [("p5-a", 5, True), ("p5-b", 5, False), ("p1-c", 1, False)]


def test_priority_queue_requeued_message_goes_ahead_of_later_same_priority_messages(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("x5-a", 5), ("x5-b", 5)])
    assert wait_message_count(pika_channel, q, 2) == 2
    (m, body), = _get_n(pika_channel, q, 1)
    assert body == "x5-a"
    _publish(pika_channel, q, [("x5-c", 5)])
    assert wait_message_count(pika_channel, q, 2) == 2
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    assert wait_message_count(pika_channel, q, 3) == 3
    assert _drain(pika_channel, q) == [("x5-a", 5, True), ("x5-b", 5, False), ("x5-c", 5, False)]


def test_priority_queue_reject_requeue_lower_priority_stays_behind_higher(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("low", 1)])
    assert wait_message_count(pika_channel, q, 1) == 1
    (m, body), = _get_n(pika_channel, q, 1)
    assert body == "low"
    _publish(pika_channel, q, [("high", 9), ("mid", 5)])
    assert wait_message_count(pika_channel, q, 2) == 2
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    assert wait_message_count(pika_channel, q, 3) == 3
    assert _drain(pika_channel, q) == [("high", 9, False), ("mid", 5, False), ("low", 1, True)]


def test_priority_queue_nack_out_of_order_requeue_restores_original_order(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("p1-a", 1), ("p5-b", 5), ("p5-c", 5), ("p9-d", 9), ("p1-e", 1)])
    assert wait_message_count(pika_channel, q, 5) == 5
    got = _get_n(pika_channel, q, 4)
    assert [b for _m, b in got] == ["p9-d", "p5-b", "p5-c", "p1-a"]
    tags = {b: m.delivery_tag for m, b in got}
    for b in ("p1-a", "p5-c", "p9-d", "p5-b"):
        pika_channel.basic_nack(tags[b], requeue=True)
    assert wait_message_count(pika_channel, q, 5) == 5
    assert _drain(pika_channel, q) == [("p9-d", 9, True), ("p5-b", 5, True), ("p5-c", 5, True),
                                       ("p1-a", 1, True), ("p1-e", 1, False)]


def test_priority_queue_nack_multiple_requeue_restores_priority_order(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("p1-a", 1), ("p9-b", 9), ("p5-c", 5)])
    assert wait_message_count(pika_channel, q, 3) == 3
    got = _get_n(pika_channel, q, 3)
    assert [b for _m, b in got] == ["p9-b", "p5-c", "p1-a"]
    _publish(pika_channel, q, [("p5-d", 5)])
    assert wait_message_count(pika_channel, q, 1) == 1
    pika_channel.basic_nack(got[-1][0].delivery_tag, multiple=True, requeue=True)
    assert wait_message_count(pika_channel, q, 4) == 4
    assert _drain(pika_channel, q) == [("p9-b", 9, True), ("p5-c", 5, True), ("p5-d", 5, False),
                                       ("p1-a", 1, True)]


def test_priority_queue_channel_close_requeues_unacked_by_priority(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 10)
    _publish(ch, q, [("l1-a", 1), ("h9-a", 9), ("m5-a", 5), ("h9-b", 9), ("l1-b", 1)])
    assert wait_message_count(ch, q, 5) == 5
    consumer_ch = pika_conn.channel()
    assert [b for _m, b in _get_n(consumer_ch, q, 3)] == ["h9-a", "h9-b", "m5-a"]
    _publish(ch, q, [("m5-late", 5), ("h9-late", 9)])
    assert wait_message_count(ch, q, 4) == 4
    consumer_ch.close()
    assert wait_message_count(ch, q, 7) == 7
    assert _drain(ch, q) == [("h9-a", 9, True), ("h9-b", 9, True), ("h9-late", 9, False),
                             ("m5-a", 5, True), ("m5-late", 5, False),
                             ("l1-a", 1, False), ("l1-b", 1, False)]


def test_priority_queue_basic_recover_requeues_by_priority(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 10)
    _publish(ch, q, [("l1", 1), ("h9", 9), ("m5", 5)])
    assert wait_message_count(ch, q, 3) == 3
    assert [b for _m, b in _get_n(ch, q, 2)] == ["h9", "m5"]
    _publish(ch, q, [("h9-late", 9)])
    assert wait_message_count(ch, q, 2) == 2
    ch.basic_recover(requeue=True)
    assert wait_message_count(ch, q, 4) == 4
    assert _drain(ch, q) == [("h9", 9, True), ("h9-late", 9, False), ("m5", 5, True), ("l1", 1, False)]


# ---------------------------------------------------------------- consumers

def test_priority_queue_prefetch_1_consumer_receives_in_priority_order(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 10)
    _publish(ch, q, [("a2", 2), ("b7", 7), ("cN", None), ("d7", 7), ("e10", 10), ("f2", 2)])
    assert wait_message_count(ch, q, 6) == 6
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    for n in range(1, 7):
        assert wait_until(pika_conn, lambda: len(col) == n), n
        assert message_count(ch, q) == 6 - n
        ch.basic_ack(col.tags[-1])
    assert [b.decode() for b in col.bodies] == ["e10", "b7", "d7", "a2", "f2", "cN"]
    assert all(m[0].redelivered is False for m in col.messages)


def test_priority_queue_higher_priority_published_while_consumer_busy_overtakes(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 10)
    _publish(ch, q, [("a1", 1), ("b5", 5), ("c3", 3)])
    assert wait_message_count(ch, q, 3) == 3
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert col.bodies == [b"b5"]
    _publish(ch, q, [("d7", 7)])
    assert wait_message_count(ch, q, 3) == 3
    for n in range(2, 5):
        ch.basic_ack(col.tags[-1])
        assert wait_until(pika_conn, lambda: len(col) == n), n
    ch.basic_ack(col.tags[-1])
    assert [b.decode() for b in col.bodies] == ["b5", "d7", "c3", "a1"]


# ---------------------------------------------------------------- counts

def test_priority_queue_declare_ok_message_count_counts_all_priorities(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 5})
    _publish(pika_channel, unique_name, [("a", 0), ("b", 5), ("c", None), ("d", 200), ("e", 3), ("f", 3)])
    assert wait_message_count(pika_channel, unique_name, 6) == 6
    ok = pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-max-priority": 5}).method
    assert (ok.message_count, ok.consumer_count) == (6, 0)
    # unacked messages are not counted, whatever their priority
    _get_n(pika_channel, unique_name, 2)
    ok = pika_channel.queue_declare(unique_name, passive=True).method
    assert ok.message_count == 4


def test_priority_queue_basic_get_message_count_counts_remaining_across_priorities(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("a", 1), ("b", 9), ("c", 5), ("d", None)])
    assert wait_message_count(pika_channel, q, 4) == 4
    counts = []
    for _ in range(4):
        m, _p, _b = pika_channel.basic_get(q, auto_ack=True)
        counts.append(m.message_count)
    assert counts == [3, 2, 1, 0]


def test_priority_queue_purge_counts_all_priorities(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("a", 1), ("b", 9), ("c", 5), ("d", None), ("e", 9), ("f", 250)])
    assert wait_message_count(pika_channel, q, 6) == 6
    assert pika_channel.queue_purge(q).method.message_count == 6
    assert message_count(pika_channel, q) == 0
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_priority_queue_purge_leaves_unacked_and_they_requeue_by_priority(pika_conn):
    ch = pika_conn.channel()
    q = _pq(ch, 10)
    _publish(ch, q, [("a1", 1), ("b9", 9), ("c5", 5), ("d1", 1)])
    assert wait_message_count(ch, q, 4) == 4
    consumer_ch = pika_conn.channel()
    assert [b for _m, b in _get_n(consumer_ch, q, 2)] == ["b9", "c5"]
    assert ch.queue_purge(q).method.message_count == 2
    _publish(ch, q, [("e5", 5)])
    assert wait_message_count(ch, q, 1) == 1
    consumer_ch.close()
    assert wait_message_count(ch, q, 3) == 3
    assert _drain(ch, q) == [("b9", 9, True), ("c5", 5, True), ("e5", 5, False)]


def test_priority_queue_delete_ok_counts_all_priorities(pika_channel):
    q = _pq(pika_channel, 10)
    _publish(pika_channel, q, [("a", 1), ("b", 9), ("c", 5), ("d", None), ("e", 0)])
    assert wait_message_count(pika_channel, q, 5) == 5
    assert pika_channel.queue_delete(q).method.message_count == 5

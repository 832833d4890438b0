"""Consumer priorities (`x-priority` argument of basic.consume) on classic queues.

RabbitMQ 3.10 facts asserted here:
* A message goes to the highest-priority consumer that can take it (has prefetch room, or is
  no-ack); a lower-priority consumer receives only while every higher one is at its prefetch limit
  (its channel's basic.qos, per consumer). Consumers of equal priority share messages round-robin.
* No `x-priority` means priority 0 (it round-robins with an explicit 0). Negative values and
  values beyond 32 bits (sent as 'l') are fine.
* When a blocked higher-priority consumer acks, the next message goes to it again, not to the
  lower-priority consumer that still has room. When it cancels, the lower one gets everything.
* Any AMQP integer type (b B s u I i l) is accepted; every other type is a channel error
  406 `PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'Q' in vhost '/': "expected
  integer, got longstr"` (RabbitMQ's type name: longstr, bool, float, double, decimal, timestamp,
  binary, table, array, void), class/method 60/20; no consumer is registered. The queue is looked
  up first: on a missing queue it is the usual 404.
"""

import struct

import amqpraw as R
from util import Collector, channel_closed, declare_temp_queue, message_count, publish_n, settle, wait_until


def _consumers(conn, q, specs):
    """specs: [(priority-or-None, prefetch-or-None)] -> [Collector], one channel per consumer,
    registered in order. prefetch None means a no-ack consumer; otherwise manual ack with
    basic.qos(prefetch). priority None sends no x-priority argument."""
    cols = []
    for prio, prefetch in specs:
        ch = conn.channel()
        if prefetch is not None:
            ch.basic_qos(prefetch_count=prefetch)
        col = Collector()
        col.channel = ch
        args = {"x-priority": prio} if prio is not None else None
        col.tag = ch.basic_consume(q, col, auto_ack=prefetch is None, arguments=args)
        cols.append(col)
    return cols


def _bodies(col) -> list:
    return [b.decode() for b in col.bodies]


def _total(cols) -> int:
    return sum(len(c) for c in cols)


def _invalid(q, tname) -> str:
    return (f"PRECONDITION_FAILED - invalid arg 'x-priority' for queue '{q}' in vhost '/': "
            f'"expected integer, got {tname}"')


def _raw_consume(raw, channel, queue, value) -> R.Frame:
    """basic.consume(queue) with x-priority = value (may be R.Typed) on a fresh raw channel."""
    assert raw.channel_open(channel).method == R.CHANNEL_OPEN_OK
    args = (struct.pack(">H", 0) + R.shortstr(queue) + R.shortstr(f"ctag-{channel}") + bytes([0])
            + R.table({"x-priority": value}))
    raw.send_method(channel, R.BASIC_CONSUME, args)
    return raw.read_frame()


# ---------------------------------------------------------------- dispatch

def test_consumer_priority_highest_consumer_with_prefetch_room_receives_everything(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, high = _consumers(pika_conn, q, [(0, 10), (10, 10)])
    publish_n(ch, q, 5)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 5)
    settle(pika_conn, 0.2)
    assert _bodies(high) == ["m0", "m1", "m2", "m3", "m4"]
    assert _bodies(low) == []


def test_consumer_priority_lower_consumer_receives_only_when_higher_is_at_prefetch_limit(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, high = _consumers(pika_conn, q, [(0, 10), (10, 2)])
    publish_n(ch, q, 5)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 5)
    assert _bodies(high) == ["m0", "m1"]
    assert _bodies(low) == ["m2", "m3", "m4"]


def test_consumer_priority_messages_cascade_down_the_levels_as_each_fills(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    p1, p5, p10 = _consumers(pika_conn, q, [(1, 2), (5, 2), (10, 2)])
    publish_n(ch, q, 8)
    assert wait_until(pika_conn, lambda: _total([p1, p5, p10]) == 6)
    settle(pika_conn, 0.2)
    assert (_bodies(p10), _bodies(p5), _bodies(p1)) == (["m0", "m1"], ["m2", "m3"], ["m4", "m5"])
    assert message_count(ch, q) == 2


def test_consumer_priority_equal_priority_consumers_round_robin(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, a, b, c = _consumers(pika_conn, q, [(0, 10), (5, 10), (5, 10), (5, 10)])
    publish_n(ch, q, 9)
    assert wait_until(pika_conn, lambda: _total([low, a, b, c]) == 9)
    settle(pika_conn, 0.2)
    assert _bodies(low) == []
    # strictly rotating among the three priority-5 consumers
    got = [_bodies(x) for x in (a, b, c)]
    assert all(len(g) == 3 for g in got), got
    starts = sorted(int(g[0][1:]) for g in got)
    assert starts == [0, 1, 2], got
    for g in got:
        k = int(g[0][1:])
        assert g == [f"m{k}", f"m{k + 3}", f"m{k + 6}"], got


def test_consumer_priority_default_is_zero_so_positive_priority_wins(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    default, p1 = _consumers(pika_conn, q, [(None, 10), (1, 10)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([default, p1]) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(p1), _bodies(default)) == (["m0", "m1", "m2"], [])


def test_consumer_priority_default_is_zero_so_it_beats_negative_priority(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    neg, default = _consumers(pika_conn, q, [(-1, 10), (None, 10)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([neg, default]) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(default), _bodies(neg)) == (["m0", "m1", "m2"], [])


def test_consumer_priority_default_round_robins_with_explicit_zero(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    zero, default = _consumers(pika_conn, q, [(0, 10), (None, 10)])
    publish_n(ch, q, 4)
    assert wait_until(pika_conn, lambda: _total([zero, default]) == 4)
    assert len(zero) == 2 and len(default) == 2
    assert {tuple(_bodies(zero)), tuple(_bodies(default))} == {("m0", "m2"), ("m1", "m3")}


def test_consumer_priority_negative_priorities_allowed_higher_wins(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    m10, m5 = _consumers(pika_conn, q, [(-10, 10), (-5, 10)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([m10, m5]) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(m5), _bodies(m10)) == (["m0", "m1", "m2"], [])


def test_consumer_priority_negative_consumer_receives_when_higher_blocked(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    m10, m5 = _consumers(pika_conn, q, [(-10, 10), (-5, 1)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([m10, m5]) == 3)
    assert (_bodies(m5), _bodies(m10)) == (["m0"], ["m1", "m2"])


def test_consumer_priority_values_beyond_32_bits_are_ordered(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    # pika sends 2**31-1 as 'I' and 2**40 as 'l'
    i32, i64 = _consumers(pika_conn, q, [(2 ** 31 - 1, 10), (2 ** 40, 10)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([i32, i64]) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(i64), _bodies(i32)) == (["m0", "m1", "m2"], [])


def test_consumer_priority_high_consumer_that_acks_receives_again_before_low(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, high = _consumers(pika_conn, q, [(0, 1), (10, 1)])
    publish_n(ch, q, 4)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 2)
    assert (_bodies(high), _bodies(low)) == (["m0"], ["m1"])
    assert message_count(ch, q) == 2
    high.channel.basic_ack(high.tags[-1])
    assert wait_until(pika_conn, lambda: len(high) == 2)
    settle(pika_conn, 0.2)
    assert (_bodies(high), _bodies(low)) == (["m0", "m2"], ["m1"])
    low.channel.basic_ack(low.tags[-1])
    assert wait_until(pika_conn, lambda: len(low) == 2)
    assert (_bodies(high), _bodies(low)) == (["m0", "m2"], ["m1", "m3"])


def test_consumer_priority_high_consumer_ack_wins_over_low_consumer_with_room(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, high = _consumers(pika_conn, q, [(0, 100), (10, 1)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 3)
    assert (_bodies(high), _bodies(low)) == (["m0"], ["m1", "m2"])
    # publish on the acking channel, so the ack reaches the queue before the new messages
    high.channel.basic_ack(high.tags[-1])
    publish_n(high.channel, q, 2, prefix="n")
    assert wait_until(pika_conn, lambda: _total([low, high]) == 5)
    # n0 goes to the (now unblocked) high consumer, which is then full again; n1 to low
    assert (_bodies(high), _bodies(low)) == (["m0", "n0"], ["m1", "m2", "n1"])


def test_consumer_priority_no_ack_high_consumer_is_never_blocked(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, high = _consumers(pika_conn, q, [(0, 1), (10, None)])
    publish_n(ch, q, 5)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 5)
    settle(pika_conn, 0.2)
    assert (_bodies(high), _bodies(low)) == (["m0", "m1", "m2", "m3", "m4"], [])


def test_consumer_priority_low_consumer_receives_everything_after_high_cancels(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    low, high = _consumers(pika_conn, q, [(0, 10), (10, 1)])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 3)
    assert (_bodies(high), _bodies(low)) == (["m0"], ["m1", "m2"])
    high.channel.basic_cancel(high.tag)
    publish_n(ch, q, 2, prefix="n")
    assert wait_until(pika_conn, lambda: len(low) == 4)
    settle(pika_conn, 0.2)
    assert (_bodies(high), _bodies(low)) == (["m0"], ["m1", "m2", "n0", "n1"])


def test_consumer_priority_backlog_goes_to_high_consumer_when_it_registers(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    publish_n(ch, q, 4)
    assert wait_until(pika_conn, lambda: message_count(ch, q) == 4)
    low, = _consumers(pika_conn, q, [(0, 1)])
    assert wait_until(pika_conn, lambda: len(low) == 1)
    high, = _consumers(pika_conn, q, [(10, 10)])
    assert wait_until(pika_conn, lambda: len(high) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(low), _bodies(high)) == (["m0"], ["m1", "m2", "m3"])


def test_consumer_priority_consumers_on_one_channel_use_per_consumer_prefetch(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    cch = pika_conn.channel()
    cch.basic_qos(prefetch_count=1)  # global=false: a limit per consumer
    low, high = Collector(), Collector()
    cch.basic_consume(q, low, arguments={"x-priority": 0})
    cch.basic_consume(q, high, arguments={"x-priority": 9})
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 2)
    settle(pika_conn, 0.2)
    assert (_bodies(high), _bodies(low)) == (["m0"], ["m1"])
    assert message_count(ch, q) == 1


# ---------------------------------------------------------------- argument validation

def test_consumer_priority_string_is_406_expected_integer(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    cch = pika_conn.channel()
    with channel_closed(406, _invalid(q, "longstr")):
        cch.basic_consume(q, Collector(), arguments={"x-priority": "5"})
    assert ch.queue_declare(q, passive=True).method.consumer_count == 0


def test_consumer_priority_bool_is_406_expected_integer(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    with channel_closed(406, _invalid(q, "bool")):
        pika_conn.channel().basic_consume(q, Collector(), arguments={"x-priority": True})


def test_consumer_priority_invalid_value_on_missing_queue_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'"):
        pika_channel.basic_consume(unique_name, Collector(), arguments={"x-priority": "5"})


def test_consumer_priority_accepts_every_integer_type_raw(raw_connect):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    q = raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()
    for i, (code, v) in enumerate((("b", -3), ("B", 200), ("s", -300), ("u", 60000), ("I", -7),
                                   ("i", 3000000000), ("l", 2 ** 40)), start=2):
        f = _raw_consume(raw, i, q, R.Typed(code, v))
        assert f.method == R.BASIC_CONSUME_OK, (code, f, f.close_info() if f.method == R.CHANNEL_CLOSE else None)


def test_consumer_priority_non_integer_types_are_406_raw(raw_connect):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    q = raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()
    cases = [(R.Typed("S", b"5"), "longstr"), (R.Typed("t", True), "bool"), (R.Typed("f", 5.0), "float"),
             (R.Typed("d", 5.0), "double"), (R.Typed("D", (0, 5)), "decimal"), (R.Typed("T", 5), "timestamp"),
             (R.Typed("x", b"5"), "binary"), ({"a": 1}, "table"), ([5], "array"), (None, "void")]
    for i, (value, tname) in enumerate(cases, start=2):
        f = _raw_consume(raw, i, q, value)
        assert f.method == R.CHANNEL_CLOSE, (tname, f)
        assert f.close_info() == (406, _invalid(q, tname), 60, 20), tname
        raw.send_method(i, R.CHANNEL_CLOSE_OK)

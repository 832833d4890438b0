"""Single active consumer (`x-single-active-consumer: true` queue argument) on classic queues.

RabbitMQ 3.10 facts asserted here:
* The first consumer registered is the active one and receives every message; the others wait and
  get nothing, even while the active one is at its prefetch limit and they have room.
* declare-ok / passive declare `consumer_count` counts every registered consumer, waiting or not.
* When the active consumer is cancelled, another waiting consumer becomes active (the first of the
  highest x-priority, else the next registered): it receives new messages and the messages the
  cancelled consumer later rejects/nacks with requeue (redelivered=true). basic.cancel does not
  requeue the cancelled consumer's unacked messages.
* When the active consumer's channel closes, its unacked messages are requeued (in their original
  position, redelivered=true) and delivered to the next consumer.
* Cancelling a waiting consumer changes nothing; with all consumers gone, the next consumer to
  register becomes active and gets the backlog. basic.get works as usual.
* The first consumer is active even if a later one has a higher x-priority.
* An exclusive basic.consume is always refused, even with no consumers: 403
  `ACCESS_REFUSED - queue 'Q' in vhost '/' in exclusive use`.
* The value must be a bool: 406 `PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for
  queue 'Q' in vhost '/': {unacceptable_type,longstr}` (RabbitMQ type names: signedint, void,
  table, array, ...). Redeclaring with a different value or without it is 406 `inequivalent arg`.
* `false` is an ordinary queue (round-robin).

Not asserted (a RabbitMQ 3.10 bug, rabbitmq-server#5460): if the active consumer is cancelled
while messages are *ready*, 3.10 does not hand them to the new active consumer until something
else makes the queue dispatch (e.g. a channel closing), and the next publish crashes the queue.
The tests below only cancel with an empty queue, or close the cancelled consumer's channel.
"""


from util import Collector, channel_closed, declare_temp_queue, message_count, publish_n, settle, wait_until

SAC = {"x-single-active-consumer": True}


def _sac_queue(ch, value=True) -> str:
    return declare_temp_queue(ch, arguments={"x-single-active-consumer": value})


def _consumers(conn, q, n, prefetch=None, auto_ack=False, priorities=None):
    """n consumers, one channel each, registered in order -> [Collector] (with .channel, .tag)."""
    cols = []
    for i in range(n):
        ch = conn.channel()
        if prefetch is not None:
            ch.basic_qos(prefetch_count=prefetch)
        col = Collector()
        col.channel = ch
        args = {"x-priority": priorities[i]} if priorities is not None else None
        col.tag = ch.basic_consume(q, col, auto_ack=auto_ack, arguments=args)
        cols.append(col)
    return cols


def _got(col) -> list:
    """[(body, redelivered)]"""
    return [(m[2].decode(), m[0].redelivered) for m in col.messages]


def _bodies(col) -> list:
    return [b.decode() for b in col.bodies]


def _total(cols) -> int:
    return sum(len(c) for c in cols)


def _invalid(q, tname) -> str:
    return (f"PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue '{q}' in vhost '/': "
            f"{{unacceptable_type,{tname}}}")


def _inequivalent(q, text) -> str:
    return f"PRECONDITION_FAILED - inequivalent arg 'x-single-active-consumer' for queue '{q}' in vhost '/': {text}"


# ---------------------------------------------------------------- dispatch

def test_sac_only_first_consumer_receives(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    cols = _consumers(pika_conn, q, 3, auto_ack=True)
    publish_n(ch, q, 6)
    assert wait_until(pika_conn, lambda: _total(cols) == 6)
    settle(pika_conn, 0.2)
    assert [_bodies(c) for c in cols] == [["m0", "m1", "m2", "m3", "m4", "m5"], [], []]


def test_sac_waiting_consumer_gets_nothing_while_active_is_at_prefetch_limit(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, = _consumers(pika_conn, q, 1, prefetch=1)
    second, = _consumers(pika_conn, q, 1, prefetch=100)
    publish_n(ch, q, 4)
    assert wait_until(pika_conn, lambda: len(first) == 1)
    settle(pika_conn, 0.3)
    assert (_bodies(first), _bodies(second)) == (["m0"], [])
    assert message_count(ch, q) == 3
    first.channel.basic_ack(first.tags[-1])
    assert wait_until(pika_conn, lambda: len(first) == 2)
    settle(pika_conn, 0.2)
    assert (_bodies(first), _bodies(second)) == (["m0", "m1"], [])


def test_sac_declare_ok_consumer_count_counts_all_consumers(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, exclusive=True, arguments=SAC)
    cols = _consumers(pika_conn, unique_name, 3, auto_ack=True)
    ok = ch.queue_declare(unique_name, exclusive=True, arguments=SAC).method
    assert (ok.message_count, ok.consumer_count) == (0, 3)
    cols[1].channel.basic_cancel(cols[1].tag)
    assert ch.queue_declare(unique_name, passive=True).method.consumer_count == 2
    cols[0].channel.basic_cancel(cols[0].tag)
    assert ch.queue_declare(unique_name, passive=True).method.consumer_count == 1


def test_sac_next_consumer_becomes_active_after_active_cancels(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, second, third = _consumers(pika_conn, q, 3, auto_ack=True)
    publish_n(ch, q, 2)
    assert wait_until(pika_conn, lambda: len(first) == 2)
    first.channel.basic_cancel(first.tag)
    publish_n(ch, q, 3, prefix="n")
    assert wait_until(pika_conn, lambda: len(second) == 3)
    settle(pika_conn, 0.2)
    assert [_bodies(c) for c in (first, second, third)] == [["m0", "m1"], ["n0", "n1", "n2"], []]


def test_sac_cancel_keeps_unacked_messages_and_their_requeue_goes_to_next_consumer(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, second = _consumers(pika_conn, q, 2, prefetch=5)
    publish_n(ch, q, 2)
    assert wait_until(pika_conn, lambda: len(first) == 2)
    first.channel.basic_cancel(first.tag)
    assert message_count(ch, q) == 0  # basic.cancel does not requeue
    publish_n(ch, q, 2, prefix="n")
    assert wait_until(pika_conn, lambda: len(second) == 2)
    assert _got(second) == [("n0", False), ("n1", False)]
    first.channel.basic_nack(first.tags[-1], multiple=True, requeue=True)
    assert wait_until(pika_conn, lambda: len(second) == 4)
    settle(pika_conn, 0.2)
    assert _got(second) == [("n0", False), ("n1", False), ("m0", True), ("m1", True)]
    assert _got(first) == [("m0", False), ("m1", False)]


def test_sac_active_channel_close_requeues_unacked_to_next_consumer_redelivered(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, second, third = _consumers(pika_conn, q, 3, prefetch=2)
    publish_n(ch, q, 5)
    assert wait_until(pika_conn, lambda: len(first) == 2)
    settle(pika_conn, 0.2)
    assert [_bodies(c) for c in (first, second, third)] == [["m0", "m1"], [], []]
    # pika's channel close cancels the consumer first, then closes the channel. RabbitMQ 3.10
    # hands the queue over only at the close (rabbitmq-server#5460: nothing is delivered after
    # an active consumer's cancel), so the successor sees m0, m1 first; Warren hands over at the
    # cancel, so it may see m2, m3 first. Either way the successor gets every message, the
    # closed channel's unacked ones redelivered, and the third consumer nothing.
    first.channel.close()
    assert wait_until(pika_conn, lambda: len(second) == 2)
    while len(second) < 5:
        count = len(second)
        second.channel.basic_ack(second.tags[-1], multiple=True)
        assert wait_until(pika_conn, lambda: len(second) > count)
    settle(pika_conn, 0.2)
    assert sorted(_got(second)) == [("m0", True), ("m1", True), ("m2", False), ("m3", False), ("m4", False)]
    assert _got(third) == []


def test_sac_next_consumer_receives_remaining_messages_after_active_cancels_and_closes(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, = _consumers(pika_conn, q, 1, prefetch=1)
    second, = _consumers(pika_conn, q, 1, prefetch=100)
    publish_n(ch, q, 4)
    assert wait_until(pika_conn, lambda: len(first) == 1)
    first.channel.basic_cancel(first.tag)
    first.channel.close()
    assert wait_until(pika_conn, lambda: len(second) == 4)
    settle(pika_conn, 0.2)
    assert _got(first) == [("m0", False)]
    # (the order differs between brokers that hand over at cancel and at close; see module doc)
    assert sorted(_got(second)) == [("m0", True), ("m1", False), ("m2", False), ("m3", False)]
    assert message_count(ch, q) == 0


def test_sac_waiting_consumer_cancel_does_not_change_active(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, second, third = _consumers(pika_conn, q, 3, auto_ack=True)
    second.channel.basic_cancel(second.tag)
    publish_n(ch, q, 2)
    assert wait_until(pika_conn, lambda: len(first) == 2)
    first.channel.basic_cancel(first.tag)
    publish_n(ch, q, 2, prefix="n")
    assert wait_until(pika_conn, lambda: len(third) == 2)
    settle(pika_conn, 0.2)
    assert [_bodies(c) for c in (first, second, third)] == [["m0", "m1"], [], ["n0", "n1"]]


def test_sac_new_consumer_becomes_active_after_all_cancelled_and_gets_backlog(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, second = _consumers(pika_conn, q, 2, auto_ack=True)
    first.channel.basic_cancel(first.tag)
    second.channel.basic_cancel(second.tag)
    assert ch.queue_declare(q, passive=True).method.consumer_count == 0
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: message_count(ch, q) == 3)
    late, later = _consumers(pika_conn, q, 2, auto_ack=True)
    assert wait_until(pika_conn, lambda: len(late) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(late), _bodies(later)) == (["m0", "m1", "m2"], [])
    assert (_bodies(first), _bodies(second)) == ([], [])


def test_sac_second_consumer_on_same_channel_waits(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    cch = pika_conn.channel()
    a, b = Collector(), Collector()
    ta = cch.basic_consume(q, a, auto_ack=True)
    cch.basic_consume(q, b, auto_ack=True)
    publish_n(ch, q, 2)
    assert wait_until(pika_conn, lambda: len(a) == 2)
    cch.basic_cancel(ta)
    publish_n(ch, q, 2, prefix="n")
    assert wait_until(pika_conn, lambda: len(b) == 2)
    settle(pika_conn, 0.2)
    assert (_bodies(a), _bodies(b)) == (["m0", "m1"], ["n0", "n1"])


def test_sac_first_consumer_is_active_even_if_later_has_higher_priority(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    low, high = _consumers(pika_conn, q, 2, auto_ack=True, priorities=[1, 10])
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: _total([low, high]) == 3)
    settle(pika_conn, 0.2)
    assert (_bodies(low), _bodies(high)) == (["m0", "m1", "m2"], [])


def test_sac_after_cancel_highest_priority_waiting_consumer_becomes_active(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, next_registered, high = _consumers(pika_conn, q, 3, auto_ack=True, priorities=[1, 1, 10])
    publish_n(ch, q, 2)
    assert wait_until(pika_conn, lambda: len(first) == 2)
    first.channel.basic_cancel(first.tag)
    publish_n(ch, q, 2, prefix="n")
    assert wait_until(pika_conn, lambda: _total([next_registered, high]) == 2)
    settle(pika_conn, 0.2)
    assert (_bodies(next_registered), _bodies(high)) == ([], ["n0", "n1"])


def test_sac_basic_get_works_while_a_consumer_is_active(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch)
    first, = _consumers(pika_conn, q, 1, prefetch=1)
    publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: len(first) == 1)
    m, _p, body = ch.basic_get(q, auto_ack=True)
    assert (body, m.message_count) == (b"m1", 1)
    assert _bodies(first) == ["m0"]


def test_sac_false_is_an_ordinary_round_robin_queue(pika_conn):
    ch = pika_conn.channel()
    q = _sac_queue(ch, False)
    a, b = _consumers(pika_conn, q, 2, auto_ack=True)
    publish_n(ch, q, 4)
    assert wait_until(pika_conn, lambda: _total([a, b]) == 4)
    assert {tuple(_bodies(a)), tuple(_bodies(b))} == {("m0", "m2"), ("m1", "m3")}


# ---------------------------------------------------------------- exclusive consume

def test_sac_exclusive_consume_without_other_consumers_is_403(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, exclusive=True, arguments=SAC)
    cch = pika_conn.channel()
    with channel_closed(403, f"ACCESS_REFUSED - queue '{unique_name}' in vhost '/' in exclusive use"):
        cch.basic_consume(unique_name, Collector(), exclusive=True)
    assert ch.queue_declare(unique_name, passive=True).method.consumer_count == 0


def test_sac_exclusive_consume_with_active_consumer_is_403(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, exclusive=True, arguments=SAC)
    first, = _consumers(pika_conn, unique_name, 1, auto_ack=True)
    cch = pika_conn.channel()
    with channel_closed(403, f"ACCESS_REFUSED - queue '{unique_name}' in vhost '/' in exclusive use"):
        cch.basic_consume(unique_name, Collector(), exclusive=True)
    assert ch.queue_declare(unique_name, passive=True).method.consumer_count == 1
    publish_n(ch, unique_name, 1)
    assert wait_until(pika_conn, lambda: len(first) == 1)


# ---------------------------------------------------------------- argument validation

def test_sac_string_value_is_406_unacceptable_type(pika_channel, unique_name):
    with channel_closed(406, _invalid(unique_name, "longstr")):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-single-active-consumer": "true"})


def test_sac_integer_value_is_406_unacceptable_type(pika_channel, unique_name):
    # pika sends 1 as 'I': not coerced to a bool
    with channel_closed(406, _invalid(unique_name, "signedint")):
        pika_channel.queue_declare(unique_name, exclusive=True, arguments={"x-single-active-consumer": 1})


def test_sac_other_non_bool_values_are_406_unacceptable_type(pika_conn, names):
    for value, tname in ((None, "void"), ({"a": True}, "table"), ([True], "array")):
        q = names(tname)
        with channel_closed(406, _invalid(q, tname)):
            pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-single-active-consumer": value})


def test_sac_redeclare_without_argument_is_406_inequivalent(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments=SAC)
    text = "received none but current is the value 'true' of type 'bool'"
    with channel_closed(406, _inequivalent(unique_name, text)):
        pika_conn.channel().queue_declare(unique_name, exclusive=True)


def test_sac_redeclare_with_false_is_406_inequivalent(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments=SAC)
    with channel_closed(406, _inequivalent(unique_name, "received 'false' but current is 'true'")):
        pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments={"x-single-active-consumer": False})


def test_sac_redeclare_plain_queue_with_true_is_406_inequivalent(pika_conn, unique_name):
    pika_conn.channel().queue_declare(unique_name, exclusive=True)
    text = "received the value 'true' of type 'bool' but current is none"
    with channel_closed(406, _inequivalent(unique_name, text)):
        pika_conn.channel().queue_declare(unique_name, exclusive=True, arguments=SAC)


def test_sac_redeclare_with_same_value_is_ok(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True, arguments=SAC)
    ok = pika_channel.queue_declare(unique_name, exclusive=True, arguments=SAC).method
    assert (ok.queue, ok.consumer_count) == (unique_name, 0)

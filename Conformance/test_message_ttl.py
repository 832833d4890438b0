"""Message TTL without dead-lettering: per-queue `x-message-ttl`, per-message `expiration`, the lower
of the two wins, TTL 0, invalid expiration texts, requeue keeps the original deadline, unacked
messages don't expire (but are dropped when requeued after their deadline).

RabbitMQ 3.10 facts asserted here:
* An expired message is never delivered (basic.get, basic.consume) and leaves declare-ok
  message_count on its own (a timer on the head of the queue), without any client activity.
* Expiry is only applied at the head of the queue: a short-lived message behind a message without
  expiration stays counted until it reaches the head; it is then dropped, never delivered. (Warren
  removes it on time: a test marked as a Warren extension.)
* `expiration` is parsed like Erlang `string:to_integer/1` and checked to 0..315360000000 (ten
  years, the same bound as x-message-ttl). Failures close the channel with 406
  `PRECONDITION_FAILED - invalid expiration '<value>': <term>`, term one of `no_integer`
  ("abc", "", " 5"), `{value_negative,-1}`, `{leftover_string,".5"}` ("1.5"; also "5 ", "1e3",
  "0x10"), `{value_too_large,315360000001}`. "+5", "007" and "-0" are accepted ("-0" is 0).
* TTL 0 (either way): delivered if a consumer can take the message at publish time, otherwise
  dropped at once (get-empty, count 0), also when the only consumer is blocked by prefetch.
* The expiration property is delivered unchanged; a queue TTL does not set it.
* The deadline is fixed at publish: nack/reject requeue does not extend it.
* Unacked messages never expire while unacked (ack after the deadline is fine), but when one is
  requeued (nack/reject requeue, basic.recover, channel close) after its deadline it is dropped,
  not redelivered.
"""

import time

import pika
import pytest

from util import (Collector, channel_closed, declare_temp_queue, message_count, settle, sync,
                  wait_until)

MAX_TTL = 315360000000  # 10 years in ms: the largest x-message-ttl / expiration RabbitMQ accepts


def _ttl_queue(ch, ttl) -> str:
    """Server-named exclusive queue with x-message-ttl."""
    return declare_temp_queue(ch, arguments={"x-message-ttl": ttl})


def _pub(ch, q, body, expiration=None) -> None:
    props = pika.BasicProperties(expiration=expiration) if expiration is not None else None
    ch.basic_publish("", q, body.encode(), props)


def _wait_count(ch, q, n, deadline_s: float) -> tuple[int, float]:
    """Poll passive declare until count == n or deadline_s (monotonic) passes -> (count, when)."""
    while True:
        c = message_count(ch, q)
        now = time.monotonic()
        if c == n or now > deadline_s:
            return c, now
        time.sleep(0.01)


def _drain(ch, q) -> list:
    """basic.get (auto-ack) until get-empty -> [(body, expiration property, redelivered)]."""
    out = []
    for _ in range(1000):
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((b.decode(), p.expiration, m.redelivered))
    raise AssertionError("queue did not drain")


# ---------------------------------------------------------------- per-queue x-message-ttl

def test_queue_ttl_expired_message_is_not_returned_by_basic_get(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 100)
    _pub(pika_channel, q, "old")
    sync(pika_channel)
    time.sleep(0.3)
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_queue_ttl_expired_message_is_not_delivered_to_a_later_consumer(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 100)
    _pub(ch, q, "old")
    sync(ch)
    time.sleep(0.3)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    settle(pika_conn, 0.3)
    assert len(col) == 0
    _pub(ch, q, "fresh")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert col.bodies == [b"fresh"]


def test_queue_ttl_expired_messages_leave_message_count_without_client_activity(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 150)
    start = time.monotonic()
    for i in range(3):
        _pub(pika_channel, q, f"m{i}")
    assert message_count(pika_channel, q) == 3
    count, when = _wait_count(pika_channel, q, 0, start + 1.0)
    assert count == 0
    assert when - start >= 0.14
    ok = pika_channel.queue_declare(q, passive=True).method
    assert (ok.message_count, ok.consumer_count) == (0, 0)


def test_queue_ttl_young_messages_are_delivered_normally(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 300)
    _pub(ch, q, "a")
    _pub(ch, q, "b")
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert (b, m.redelivered, m.message_count, p.expiration) == (b"a", False, 1, None)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    assert wait_until(pika_conn, lambda: len(col) == 1)
    _pub(ch, q, "c")
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert col.bodies == [b"b", b"c"]


def test_queue_ttl_messages_expire_in_publish_order_by_their_own_age(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 300)
    start = time.monotonic()
    _pub(pika_channel, q, "early")
    sync(pika_channel)
    time.sleep(0.15)
    _pub(pika_channel, q, "late")
    count, when = _wait_count(pika_channel, q, 1, start + 0.42)
    assert count == 1 and when - start >= 0.29
    assert _drain(pika_channel, q) == [("late", None, False)]


# ---------------------------------------------------------------- per-message expiration

def test_message_expiration_expired_message_is_not_returned_by_basic_get(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "old", expiration="100")
    sync(pika_channel)
    time.sleep(0.3)
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_message_expiration_expired_message_is_not_delivered_to_a_later_consumer(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    _pub(ch, q, "old", expiration="100")
    sync(ch)
    time.sleep(0.3)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    settle(pika_conn, 0.3)
    assert len(col) == 0


def test_message_expiration_expired_message_leaves_message_count(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    start = time.monotonic()
    _pub(pika_channel, q, "a", expiration="150")
    _pub(pika_channel, q, "b", expiration="150")
    assert message_count(pika_channel, q) == 2
    count, when = _wait_count(pika_channel, q, 0, start + 1.0)
    assert count == 0
    assert when - start >= 0.14


def test_message_expiration_young_message_is_delivered_with_property_unchanged(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    _pub(ch, q, "a", expiration="300")
    _pub(ch, q, "b", expiration="60000")
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert (b, p.expiration, m.redelivered) == (b"a", "300", False)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert (col.bodies, col.messages[0][1].expiration) == ([b"b"], "60000")


def test_message_expiration_property_is_delivered_verbatim_not_normalised(pika_channel):
    q = declare_temp_queue(pika_channel)
    for e in ("007", "+5000", "60000"):
        _pub(pika_channel, q, e, expiration=e)
    assert _drain(pika_channel, q) == [("007", "007", False), ("+5000", "+5000", False),
                                       ("60000", "60000", False)]


def test_queue_ttl_does_not_set_the_expiration_property(pika_channel):
    q = _ttl_queue(pika_channel, 60000)
    _pub(pika_channel, q, "plain")
    _pub(pika_channel, q, "own", expiration="30000")
    assert _drain(pika_channel, q) == [("plain", None, False), ("own", "30000", False)]


def test_message_expiring_behind_the_head_is_never_delivered(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "head")  # no expiration: RabbitMQ expires only at the head
    _pub(pika_channel, q, "short", expiration="100")
    _pub(pika_channel, q, "tail")
    sync(pika_channel)
    time.sleep(0.3)
    assert _drain(pika_channel, q) == [("head", None, False), ("tail", None, False)]
    assert message_count(pika_channel, q) == 0


@pytest.mark.warren_extension(
    "an expired message behind unexpired ones is removed on time (RabbitMQ 3.10 keeps counting it "
    "until it reaches the head)")
def test_message_expiring_behind_the_head_is_removed_on_time(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "head")
    _pub(pika_channel, q, "short", expiration="100")
    _pub(pika_channel, q, "tail")
    sync(pika_channel)
    time.sleep(0.3)
    assert message_count(pika_channel, q) == 2
    assert _drain(pika_channel, q) == [("head", None, False), ("tail", None, False)]


def test_message_expiration_mixed_lifetimes_only_expired_ones_drop(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    start = time.monotonic()
    _pub(pika_channel, q, "s1", expiration="100")
    _pub(pika_channel, q, "s2", expiration="100")
    _pub(pika_channel, q, "long", expiration="60000")
    _pub(pika_channel, q, "s3", expiration="100")
    _pub(pika_channel, q, "none")
    # RabbitMQ keeps counting s3 (behind "long") until it reaches the head; Warren removes it on time.
    while message_count(pika_channel, q) > 3 and time.monotonic() < start + 1.0:
        time.sleep(0.01)
    assert message_count(pika_channel, q) in (2, 3)
    time.sleep(0.1)
    assert _drain(pika_channel, q) == [("long", "60000", False), ("none", None, False)]


# ---------------------------------------------------------------- the lower TTL wins

def test_lower_message_expiration_wins_over_queue_ttl(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 60000)
    start = time.monotonic()
    _pub(pika_channel, q, "short", expiration="100")
    count, _when = _wait_count(pika_channel, q, 0, start + 1.0)
    assert count == 0
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_lower_queue_ttl_wins_over_message_expiration(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 100)
    start = time.monotonic()
    _pub(pika_channel, q, "long", expiration="60000")
    count, _when = _wait_count(pika_channel, q, 0, start + 1.0)
    assert count == 0
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_higher_ttl_does_not_shorten_the_lower_one(pika_channel):
    q = _ttl_queue(pika_channel, 60000)
    _pub(pika_channel, q, "a", expiration="30000")
    q2 = _ttl_queue(pika_channel, 30000)
    _pub(pika_channel, q2, "b", expiration="60000")
    sync(pika_channel)
    time.sleep(0.2)
    assert _drain(pika_channel, q) == [("a", "30000", False)]
    assert _drain(pika_channel, q2) == [("b", "60000", False)]


# ---------------------------------------------------------------- TTL 0

def test_queue_ttl_0_message_is_dropped_at_once_without_consumer(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 0)
    _pub(pika_channel, q, "gone")
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None
    assert message_count(pika_channel, q) == 0


def test_queue_ttl_0_message_is_delivered_to_a_ready_consumer(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 0)
    col = Collector()
    ch.basic_consume(q, col)
    _pub(ch, q, "now")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert col.bodies == [b"now"] and col.messages[0][0].redelivered is False
    ch.basic_ack(col.tags[0])
    assert message_count(ch, q) == 0


def test_queue_ttl_0_message_is_dropped_when_consumer_is_blocked_by_prefetch(pika_conn):
    ch = pika_conn.channel()
    ch.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(ch, 0)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    _pub(ch, q, "first")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    _pub(ch, q, "second")
    sync(ch)
    assert message_count(ch, q) == 0
    ch.basic_ack(col.tags[0])
    settle(pika_conn, 0.3)
    assert col.bodies == [b"first"]


def test_message_expiration_0_is_dropped_at_once_without_consumer(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "gone", expiration="0")
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None
    assert message_count(pika_channel, q) == 0


def test_message_expiration_0_is_delivered_to_a_ready_consumer_with_property(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    _pub(ch, q, "now", expiration="0")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert (col.bodies, col.messages[0][1].expiration) == ([b"now"], "0")


def test_message_expiration_minus_zero_is_accepted_as_zero(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "gone", expiration="-0")
    sync(pika_channel)
    assert message_count(pika_channel, q) == 0
    assert pika_channel.is_open


# ---------------------------------------------------------------- invalid expiration

def _expect_invalid_expiration(ch, value, term):
    q = declare_temp_queue(ch)
    with channel_closed(406, f"PRECONDITION_FAILED - invalid expiration '{value}': {term}"):
        _pub(ch, q, "x", expiration=value)
        sync(ch)


def test_message_expiration_not_a_number_is_406_no_integer(pika_channel):
    _expect_invalid_expiration(pika_channel, "abc", "no_integer")


def test_message_expiration_negative_is_406_value_negative(pika_channel):
    _expect_invalid_expiration(pika_channel, "-1", "{value_negative,-1}")


def test_message_expiration_fraction_is_406_leftover_string(pika_channel):
    _expect_invalid_expiration(pika_channel, "1.5", '{leftover_string,".5"}')


def test_message_expiration_empty_string_is_406_no_integer(pika_channel):
    _expect_invalid_expiration(pika_channel, "", "no_integer")


def test_message_expiration_leading_space_is_406_no_integer(pika_channel):
    _expect_invalid_expiration(pika_channel, " 5", "no_integer")


def test_message_expiration_trailing_garbage_is_406_leftover_string(pika_channel):
    _expect_invalid_expiration(pika_channel, "5 ", '{leftover_string," "}')


def test_message_expiration_exponent_is_406_leftover_string(pika_channel):
    _expect_invalid_expiration(pika_channel, "1e3", '{leftover_string,"e3"}')


def test_message_expiration_above_ten_years_is_406_value_too_large(pika_channel):
    _expect_invalid_expiration(pika_channel, str(MAX_TTL + 1), f"{{value_too_large,{MAX_TTL + 1}}}")


def test_message_expiration_ten_years_is_accepted(pika_channel):
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "x", expiration=str(MAX_TTL))
    assert _drain(pika_channel, q) == [("x", str(MAX_TTL), False)]


def test_invalid_expiration_does_not_enqueue_and_other_channels_survive(pika_conn):
    ok_ch = pika_conn.channel()
    q = declare_temp_queue(ok_ch)
    bad = pika_conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - invalid expiration 'abc': no_integer"):
        _pub(bad, q, "bad", expiration="abc")
        sync(bad)
    assert message_count(ok_ch, q) == 0
    _pub(ok_ch, q, "good", expiration="60000")
    assert _drain(ok_ch, q) == [("good", "60000", False)]


# ---------------------------------------------------------------- requeue and unacked messages

def test_requeued_message_keeps_its_original_queue_ttl_deadline(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(pika_channel, 300)
    start = time.monotonic()
    _pub(pika_channel, q, "m")
    time.sleep(0.15)
    m, _p, b = pika_channel.basic_get(q)
    assert b == b"m"
    pika_channel.basic_nack(m.delivery_tag, requeue=True)
    # still alive right after the requeue, and redelivered
    m, _p, b = pika_channel.basic_get(q)
    assert (b, m.redelivered) == (b"m", True)
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    requeued = time.monotonic()
    # gone at the original deadline (start + 0.3), well before requeue + 0.3
    count, when = _wait_count(pika_channel, q, 0, requeued + 0.25)
    assert count == 0
    assert when < requeued + 0.27


def test_requeued_message_keeps_its_original_expiration_deadline(pika_channel):
    pika_channel.confirm_delivery()  # publish returns once the queue has the message
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "m", expiration="300")
    time.sleep(0.15)
    m, _p, b = pika_channel.basic_get(q)
    assert b == b"m"
    pika_channel.basic_nack(m.delivery_tag, requeue=True)
    requeued = time.monotonic()
    count, when = _wait_count(pika_channel, q, 0, requeued + 0.25)
    assert count == 0
    assert when < requeued + 0.27


def test_unacked_message_does_not_expire_and_can_be_acked_after_ttl(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 100)
    _pub(ch, q, "held")
    m, _p, b = ch.basic_get(q)
    assert b == b"held"
    time.sleep(0.3)
    ch.basic_ack(m.delivery_tag)
    sync(ch)
    assert ch.is_open
    assert message_count(ch, q) == 0


def test_unacked_message_nacked_with_requeue_after_ttl_is_dropped(pika_channel):
    q = _ttl_queue(pika_channel, 100)
    _pub(pika_channel, q, "held")
    m, _p, _b = pika_channel.basic_get(q)
    time.sleep(0.3)
    pika_channel.basic_nack(m.delivery_tag, requeue=True)
    sync(pika_channel)
    assert message_count(pika_channel, q) == 0
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_unacked_message_with_expiration_rejected_with_requeue_after_deadline_is_dropped(pika_channel):
    q = declare_temp_queue(pika_channel)
    _pub(pika_channel, q, "held", expiration="100")
    _pub(pika_channel, q, "keep")
    m, _p, _b = pika_channel.basic_get(q)
    time.sleep(0.3)
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    sync(pika_channel)
    assert _drain(pika_channel, q) == [("keep", None, False)]


def test_unacked_messages_requeued_by_channel_close_after_ttl_are_dropped(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 100)
    consumer_ch = pika_conn.channel()
    _pub(ch, q, "a")
    _pub(ch, q, "b")
    sync(ch)
    assert consumer_ch.basic_get(q)[2] == b"a"
    assert consumer_ch.basic_get(q)[2] == b"b"
    time.sleep(0.3)
    consumer_ch.close()
    assert message_count(ch, q) == 0
    m, _p, _b = ch.basic_get(q)
    assert m is None


def test_unacked_message_recovered_after_ttl_is_dropped(pika_channel):
    q = _ttl_queue(pika_channel, 100)
    _pub(pika_channel, q, "held")
    m, _p, _b = pika_channel.basic_get(q)
    assert m is not None
    time.sleep(0.3)
    pika_channel.basic_recover(requeue=True)
    assert message_count(pika_channel, q) == 0
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_messages_expire_behind_a_consumer_blocked_by_prefetch(pika_conn):
    ch = pika_conn.channel()
    ch.confirm_delivery()  # publish returns once the queue has the message
    q = _ttl_queue(ch, 150)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    start = time.monotonic()
    for i in range(4):
        _pub(ch, q, f"m{i}")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert col.bodies == [b"m0"]
    count, _when = _wait_count(ch, q, 0, start + 1.0)
    assert count == 0
    settle(pika_conn, 0.1)
    ch.basic_ack(col.tags[0])
    settle(pika_conn, 0.3)
    assert col.bodies == [b"m0"]
    _pub(ch, q, "fresh")
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert col.bodies == [b"m0", b"fresh"]


def test_prefetch_blocked_consumer_nack_requeue_after_ttl_drops_instead_of_redelivering(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 150)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    _pub(ch, q, "m0")
    _pub(ch, q, "m1")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    settle(pika_conn, 0.35)
    assert message_count(ch, q) == 0
    ch.basic_nack(col.tags[0], requeue=True)
    settle(pika_conn, 0.3)
    assert col.bodies == [b"m0"]
    assert message_count(ch, q) == 0


def test_prefetch_blocked_consumer_nack_requeue_before_ttl_redelivers(pika_conn):
    ch = pika_conn.channel()
    q = _ttl_queue(ch, 1000)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col)
    _pub(ch, q, "m0")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    ch.basic_nack(col.tags[0], requeue=True)
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert col.bodies == [b"m0", b"m0"]
    assert col.messages[1][0].redelivered is True
    ch.basic_ack(col.tags[1])

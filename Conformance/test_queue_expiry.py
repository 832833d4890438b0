"""Queue expiry: the `x-expires` queue argument (milliseconds of disuse after which the queue itself is
deleted, messages and all), validation and equivalence texts.

RabbitMQ 3.10 facts asserted here:
* A queue with no consumers that is not used for `x-expires` ms is deleted, even if it holds
  messages. Publishing to it is not "use": a queue receiving a steady stream of publishes still goes.
* While it has a consumer it is never deleted; the timer starts when the last consumer cancels, so
  the queue goes one period after the cancel (not after the declare).
* Use that resets the timer: basic.get (also a get-empty), a redeclare with the same arguments, and
  **a passive declare** (queue.declare passive=true goes through the queue's `stat` call, which
  restarts the timer). So polling a queue with passive declares more often than its period keeps it
  alive forever; the probes here are spaced by more than a period.
* Validation closes the channel with 406 `PRECONDITION_FAILED - invalid arg 'x-expires' for queue
  '<q>' in vhost '/': <term>`, term `{value_zero,0}`, `{value_negative,-1}`,
  `{value_too_large,315360000001}` (the bound is 315360000000, ten years, as for x-message-ttl), or
  `"expected integer, got longstr"` (also for "100"), `"expected integer, got decimal"`,
  `"expected integer, got bool"`.
* Equivalence: `inequivalent arg 'x-expires' for queue '<q>' in vhost '/': received '20000' but
  current is '10000'`; omitting it on redeclare: `received none but current is the value '10000' of
  type 'signedint'`.
"""

import decimal
import time

import pika
import pika.exceptions
import pytest

from util import Collector, channel_closed, settle, wait_until

MAX_EXPIRES = 315360000000  # 10 years in ms


def _declare(conn, q, ms) -> None:
    ch = conn.channel()
    ch.queue_declare(q, arguments={"x-expires": ms})
    ch.close()


def _exists(conn, q) -> bool:
    """Passive declare on a fresh channel (404 = gone). NB: on RabbitMQ this resets the timer."""
    ch = conn.channel()
    try:
        ch.queue_declare(q, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        assert e.reply_text == f"NOT_FOUND - no queue '{q}' in vhost '/'"
        return False
    ch.close()
    return True


def _wait_gone(conn, q, period_s: float, timeout: float = 1.5) -> bool:
    """Poll until the queue is gone; probes are spaced by more than the period, because each
    passive declare counts as use and restarts the timer."""
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(period_s + 0.1)
        if not _exists(conn, q):
            return True
        if time.monotonic() > deadline:
            return False


# ---------------------------------------------------------------- unused queues go

def test_queue_expiry_unused_queue_is_deleted(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 200)
    assert _wait_gone(pika_conn, unique_name, 0.2)


def test_queue_expiry_unused_queue_holding_messages_is_deleted(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 200)
    ch = pika_conn.channel()
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish("", unique_name, f"m{i}".encode())
    time.sleep(0.35)
    assert not _exists(pika_conn, unique_name)
    # and the messages went with it: a fresh declare is empty
    ok = ch.queue_declare(unique_name).method
    assert ok.message_count == 0
    ch.queue_delete(unique_name)


def test_queue_expiry_not_deleted_before_the_period(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 400)
    time.sleep(0.2)
    assert _exists(pika_conn, unique_name)
    pika_conn.channel().queue_delete(unique_name)


def test_queue_expiry_publishing_does_not_keep_it_alive(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 250)
    ch = pika_conn.channel()
    ch.confirm_delivery()
    start = time.monotonic()
    while time.monotonic() - start < 0.45:
        ch.basic_publish("", unique_name, b"x")  # to the default exchange: routed while it exists
        time.sleep(0.05)
    assert not _exists(pika_conn, unique_name)


def test_queue_expiry_publish_after_deletion_is_unroutable(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 150)
    assert _wait_gone(pika_conn, unique_name, 0.15)
    ch = pika_conn.channel()
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        ch.basic_publish("", unique_name, b"late", mandatory=True)


# ---------------------------------------------------------------- consumers

def test_queue_expiry_queue_with_a_consumer_is_not_deleted(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 150)
    ch = pika_conn.channel()
    ch.basic_consume(unique_name, Collector(), auto_ack=True)
    settle(pika_conn, 0.5)
    assert _exists(pika_conn, unique_name)
    # still consumable: a publish is delivered
    col = Collector()
    ch2 = pika_conn.channel()
    ch2.basic_consume(unique_name, col, auto_ack=True)
    ch2.basic_publish("", unique_name, b"hi")
    settle(pika_conn, 0.3)
    assert _exists(pika_conn, unique_name)
    ch.queue_delete(unique_name)


def test_queue_expiry_deleted_one_period_after_the_consumer_cancels(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 300)
    ch = pika_conn.channel()
    tag = ch.basic_consume(unique_name, Collector(), auto_ack=True)
    settle(pika_conn, 0.45)  # well past the period since the declare
    ch.basic_cancel(tag)
    time.sleep(0.15)  # half a period after the cancel: still there
    assert _exists(pika_conn, unique_name)
    start = time.monotonic()
    assert _wait_gone(pika_conn, unique_name, 0.3)
    assert time.monotonic() - start >= 0.3


def test_queue_expiry_deleted_after_the_consumer_channel_closes(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 200)
    ch = pika_conn.channel()
    ch.basic_consume(unique_name, Collector(), auto_ack=True)
    settle(pika_conn, 0.35)
    assert _exists(pika_conn, unique_name)
    ch.close()
    assert _wait_gone(pika_conn, unique_name, 0.2)


# ---------------------------------------------------------------- what counts as use

def test_queue_expiry_basic_get_empty_resets_the_timer(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 300)
    ch = pika_conn.channel()
    time.sleep(0.2)
    m, _p, _b = ch.basic_get(unique_name)
    assert m is None
    time.sleep(0.2)  # 0.4 s after the declare, 0.2 s after the get
    assert _exists(pika_conn, unique_name)
    assert _wait_gone(pika_conn, unique_name, 0.3)


def test_queue_expiry_basic_get_resets_the_timer(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 300)
    ch = pika_conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("", unique_name, b"a")
    ch.basic_publish("", unique_name, b"b")
    time.sleep(0.2)
    m, _p, b = ch.basic_get(unique_name, auto_ack=True)
    assert b == b"a"
    time.sleep(0.2)
    assert _exists(pika_conn, unique_name)
    assert _wait_gone(pika_conn, unique_name, 0.3)


def test_queue_expiry_redeclare_resets_the_timer(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 300)
    time.sleep(0.2)
    _declare(pika_conn, unique_name, 300)
    time.sleep(0.2)
    assert _exists(pika_conn, unique_name)
    assert _wait_gone(pika_conn, unique_name, 0.3)


def test_queue_expiry_passive_declare_resets_the_timer(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 300)
    time.sleep(0.2)
    assert _exists(pika_conn, unique_name)  # passive declare = use
    time.sleep(0.2)  # 0.4 s after the declare, only 0.2 s after the passive declare
    assert _exists(pika_conn, unique_name)
    time.sleep(0.45)  # a full period with no use at all
    assert not _exists(pika_conn, unique_name)


def test_queue_expiry_frequent_passive_declares_keep_it_alive(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 250)
    ch = pika_conn.channel()
    start = time.monotonic()
    while time.monotonic() - start < 0.9:
        ch.queue_declare(unique_name, passive=True)  # same channel: a 404 would raise here
        time.sleep(0.08)
    assert _wait_gone(pika_conn, unique_name, 0.25)


# ---------------------------------------------------------------- validation and equivalence

def _invalid(q, term) -> str:
    return f"PRECONDITION_FAILED - invalid arg 'x-expires' for queue '{q}' in vhost '/': {term}"


@pytest.mark.parametrize("value,term", [
    (0, "{value_zero,0}"),
    (-1, "{value_negative,-1}"),
    (MAX_EXPIRES + 1, "{value_too_large,315360000001}"),
    ("abc", '"expected integer, got longstr"'),
    ("100", '"expected integer, got longstr"'),
    (decimal.Decimal("1.5"), '"expected integer, got decimal"'),
    (True, '"expected integer, got bool"'),
], ids=["zero", "negative", "too_large", "string", "numeric_string", "decimal", "bool"])
def test_queue_expiry_invalid_value_is_refused(pika_conn, unique_name, value, term):
    ch = pika_conn.channel()
    with channel_closed(406, _invalid(unique_name, term)):
        ch.queue_declare(unique_name, arguments={"x-expires": value})
    assert not _exists(pika_conn, unique_name)


@pytest.mark.parametrize("value", [1, MAX_EXPIRES], ids=["one", "max"])
def test_queue_expiry_bounds_are_accepted(pika_conn, unique_name, value):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, arguments={"x-expires": value})
    ch.queue_delete(unique_name)


def test_queue_expiry_inequivalent_value(pika_conn, unique_name):
    _declare(pika_conn, unique_name, 10000)
    ch = pika_conn.channel()
    with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'x-expires' for queue "
                             f"'{unique_name}' in vhost '/': received '20000' but current is '10000'"):
        ch.queue_declare(unique_name, arguments={"x-expires": 20000})
    ch = pika_conn.channel()
    with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'x-expires' for queue "
                             f"'{unique_name}' in vhost '/': received none but current is the value "
                             f"'10000' of type 'signedint'"):
        ch.queue_declare(unique_name)
    pika_conn.channel().queue_delete(unique_name)

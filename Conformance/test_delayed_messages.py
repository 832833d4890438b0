"""The built-in `x-delayed-message` exchange, compatible with RabbitMQ's community
rabbitmq_delayed_message_exchange plugin (x-delayed-type argument, x-delay header in ms).

Debian's RabbitMQ 3.10 does not ship that plugin, so a declare of the type fails there
(503 COMMAND_INVALID - unknown exchange type 'x-delayed-message'): every test here is a Warren
extension and is expected to fail on RabbitMQ. Behaviour follows the plugin's documentation:
messages without a positive integer x-delay are routed at once; delayed ones are routed by the
underlying type when due, earliest first; the publish is confirmed when the exchange accepts it;
`mandatory` is checked when the message is routed, not at publish.
"""

import time

import pika
import pytest

from util import Collector, channel_closed, declare_temp_queue, wait_until

EXTENSION = "x-delayed-message is built in (RabbitMQ needs the community plugin, which Debian lacks)"


def _delayed_exchange(ch, name, kind="direct"):
    ch.exchange_declare(name, "x-delayed-message", arguments={"x-delayed-type": kind}, auto_delete=True)


def _pub(ch, exchange, key, body, delay=None, mandatory=False):
    headers = {"x-delay": delay} if delay is not None else None
    ch.basic_publish(exchange, key, body.encode(), pika.BasicProperties(headers=headers), mandatory=mandatory)


@pytest.mark.warren_extension(EXTENSION)
def test_delayed_message_is_routed_when_due(pika_conn, unique_name):
    ch = pika_conn.channel()
    _delayed_exchange(ch, unique_name)
    q = declare_temp_queue(ch)
    ch.queue_bind(q, unique_name, "k")
    got = Collector()
    ch.basic_consume(q, got, auto_ack=True)
    start = time.monotonic()
    _pub(ch, unique_name, "k", "later", delay=300)
    assert wait_until(pika_conn, lambda: len(got) == 1, timeout=3)
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2
    method, props, body = got.messages[0]
    assert (method.exchange, method.routing_key, body) == (unique_name, "k", b"later")
    assert props.headers == {"x-delay": 300}


@pytest.mark.warren_extension(EXTENSION)
def test_messages_without_a_positive_delay_are_routed_at_once_and_order_follows_due_time(pika_conn, unique_name):
    ch = pika_conn.channel()
    _delayed_exchange(ch, unique_name, "fanout")
    q = declare_temp_queue(ch)
    ch.queue_bind(q, unique_name)
    got = Collector()
    ch.basic_consume(q, got, auto_ack=True)
    _pub(ch, unique_name, "", "slow", delay=400)
    _pub(ch, unique_name, "", "fast", delay=150)
    _pub(ch, unique_name, "", "now")
    _pub(ch, unique_name, "", "zero", delay=0)
    _pub(ch, unique_name, "", "negative", delay=-5)
    assert wait_until(pika_conn, lambda: len(got) == 5, timeout=3)
    assert got.bodies == [b"now", b"zero", b"negative", b"fast", b"slow"]


@pytest.mark.warren_extension(EXTENSION)
def test_publish_is_confirmed_at_once_and_mandatory_is_checked_when_due(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.confirm_delivery()
    _delayed_exchange(ch, unique_name)
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, m.routing_key, b)))
    start = time.monotonic()
    _pub(ch, unique_name, "nobody", "lost", delay=200, mandatory=True)
    assert time.monotonic() - start < 0.15  # the confirm does not wait for the delay
    assert returned == []
    assert wait_until(pika_conn, lambda: returned, timeout=3)
    assert returned == [(312, "nobody", b"lost")]


@pytest.mark.warren_extension(EXTENSION)
def test_declare_needs_a_valid_delayed_type(pika_conn, unique_name):
    ch = pika_conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type"):
        ch.exchange_declare(unique_name, "x-delayed-message", arguments={"x-delayed-type": "nope"})

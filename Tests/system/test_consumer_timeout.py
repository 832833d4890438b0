"""The delivery acknowledgement timeout (`consumer_timeout`) on a real warren-server process.

RabbitMQ checks this timeout about once a minute, too slowly for a differential test, so these
run against Warren only; the close text is RabbitMQ's, which clients such as Celery match on.
"""
import time

import pika
import pika.exceptions
import pytest

TEXT = ("PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: {} ms. "
        "This timeout value can be configured, see consumers doc guide to learn more")


def _server_with_timeout(start_server, tmp_path, milliseconds: int):
    config = tmp_path / "timeout.conf"
    config.write_text(f"consumer_timeout = {milliseconds}\n")
    return start_server("--config", str(config))


def test_unacked_delivery_past_consumer_timeout_closes_channel_and_requeues(start_server, tmp_path):
    server = _server_with_timeout(start_server, tmp_path, 1000)
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"slow")
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    started = time.monotonic()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as error:
        ch.start_consuming()
    elapsed = time.monotonic() - started
    assert got == [1]
    assert error.value.reply_code == 406
    assert error.value.reply_text == TEXT.format(1000)
    assert 0.9 <= elapsed < 5
    # The message went back to the queue with the channel's other unacknowledged deliveries.
    other = conn.channel()
    method, _props, body = other.basic_get(q, auto_ack=True)
    assert body == b"slow" and method.redelivered
    conn.close()


def test_acknowledged_deliveries_never_time_out(start_server, tmp_path):
    server = _server_with_timeout(start_server, tmp_path, 1000)
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        ch.basic_publish("", q, b"quick")
        method, _p, _b = ch.basic_get(q)
        ch.basic_ack(method.delivery_tag)
        conn.sleep(0.2)
    assert ch.is_open
    conn.close()


def test_queue_consumer_timeout_argument_overrides_the_broker_setting(start_server, tmp_path):
    server = _server_with_timeout(start_server, tmp_path, 600_000)
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True, arguments={"x-consumer-timeout": 1000}).method.queue
    ch.basic_publish("", q, b"slow")
    ch.basic_consume(q, lambda c, m, p, b: None)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as error:
        ch.start_consuming()
    assert error.value.reply_text == TEXT.format(1000)
    conn.close()

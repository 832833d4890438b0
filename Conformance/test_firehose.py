"""The firehose tracer (`amq.rabbitmq.trace`), as RabbitMQ 3.10's rabbit_trace does it.

Facts asserted (checked against RabbitMQ 3.10.8):
* Every vhost has `amq.rabbitmq.trace`: a durable, internal topic exchange; clients may bind to
  it but not publish to it (403 ACCESS_REFUSED).
* Tracing is switched per vhost (here through the management API, `PUT /api/vhosts/{vhost}` with
  `"tracing": true`, which `rabbitmqctl trace_on` also does); `GET /api/vhosts/{vhost}` shows it.
* While on, a publish is copied with routing key `publish.<exchange>` and a delivery (consume or
  get) with `deliver.<queue>`. The copy has the original body; its headers say `exchange_name`,
  `routing_keys`, `properties` (the original properties), `node`, `user`, `channel`,
  `connection`, and `routed_queues` (publish) or `redelivered` (deliver).
* Messages that came through the trace exchange are not traced again: consuming the trace does
  not feed it.
* With tracing off, nothing is copied.
"""

from __future__ import annotations

import time

import pika
import pika.exceptions
import pytest
import requests

from util import start_own_broker

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def trace_broker(_broker_server, tmp_path_factory):
    b = start_own_broker(_broker_server.name, tmp_path_factory, "firehose", management=True)
    yield b
    b.stop()


def set_tracing(broker, on: bool) -> None:
    api = f"http://127.0.0.1:{broker.management_port}/api/vhosts/%2F"
    r = requests.put(api, json={"tracing": on}, auth=("guest", "guest"), timeout=10)
    assert r.status_code in (201, 204), r.text
    assert requests.get(api, auth=("guest", "guest"), timeout=10).json()["tracing"] is on


def connect(broker):
    return pika.BlockingConnection(pika.URLParameters(broker.url))


def drain(channel, queue: str, settle: float = 0.5) -> list:
    """Everything in `queue` once nothing more arrives for `settle` seconds."""
    got, quiet_since = [], time.monotonic()
    while time.monotonic() - quiet_since < settle:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            time.sleep(0.05)
            continue
        got.append((method.routing_key, properties, body))
        quiet_since = time.monotonic()
    return got


def test_trace_exchange_exists_and_is_internal(trace_broker):
    with connect(trace_broker) as conn:
        ch = conn.channel()
        ch.exchange_declare("amq.rabbitmq.trace", exchange_type="topic", durable=True, internal=True, passive=True)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            ch.basic_publish("amq.rabbitmq.trace", "x", b"no")
            ch.basic_get("amq.rabbitmq.trace.never", auto_ack=True)
        assert refused.value.reply_code == 403


def test_publish_and_delivery_are_traced(trace_broker):
    with connect(trace_broker) as conn:
        ch = conn.channel()
        ch.queue_declare("fh.trace", exclusive=True)
        ch.queue_bind("fh.trace", "amq.rabbitmq.trace", "#")
        ch.queue_declare("fh.work", exclusive=True)
        set_tracing(trace_broker, True)
        try:
            props = pika.BasicProperties(content_type="text/plain", headers={"a": 1}, message_id="m1")
            ch.basic_publish("", "fh.work", b"payload", props)
            method, _, body = (None, None, None)
            deadline = time.monotonic() + 5
            while method is None and time.monotonic() < deadline:
                method, _, body = ch.basic_get("fh.work", auto_ack=True)
            assert body == b"payload"
            traces = drain(ch, "fh.trace")
        finally:
            set_tracing(trace_broker, False)
    keys = [key for key, _, _ in traces]
    assert keys == ["publish.", "deliver.fh.work"]
    for _, properties, body in traces:
        headers = properties.headers
        assert body == b"payload"
        assert headers["exchange_name"] == ""
        assert headers["routing_keys"] == ["fh.work"]
        assert headers["properties"]["content_type"] == "text/plain"
        assert headers["properties"]["headers"] == {"a": 1}
        assert headers["properties"]["message_id"] == "m1"
        assert headers["user"] == "guest"
        assert headers["channel"] == 1
        assert isinstance(headers["node"], str) and "@" in headers["node"]
        assert isinstance(headers["connection"], str) and "->" in headers["connection"]
        assert properties.content_type is None and properties.message_id is None
    assert traces[0][1].headers["routed_queues"] == ["fh.work"]
    assert traces[1][1].headers["redelivered"] == 0


def test_consuming_the_trace_does_not_feed_it(trace_broker):
    with connect(trace_broker) as conn:
        ch = conn.channel()
        ch.queue_declare("fh.trace2", exclusive=True)
        ch.queue_bind("fh.trace2", "amq.rabbitmq.trace", "#")
        set_tracing(trace_broker, True)
        try:
            ch.basic_publish("amq.direct", "nowhere", b"x")
            first = drain(ch, "fh.trace2")
            second = drain(ch, "fh.trace2")
        finally:
            set_tracing(trace_broker, False)
    assert [key for key, _, _ in first] == ["publish.amq.direct"]
    assert first[0][1].headers["routed_queues"] == []
    assert second == []


def test_nothing_is_traced_while_tracing_is_off(trace_broker):
    set_tracing(trace_broker, False)
    with connect(trace_broker) as conn:
        ch = conn.channel()
        ch.queue_declare("fh.trace3", exclusive=True)
        ch.queue_bind("fh.trace3", "amq.rabbitmq.trace", "#")
        ch.queue_declare("fh.work3", exclusive=True)
        ch.basic_publish("", "fh.work3", b"quiet")
        assert drain(ch, "fh.trace3") == []

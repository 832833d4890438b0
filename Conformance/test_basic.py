"""basic.*: publish, consume, get, ack/nack/reject, recover, qos, properties, content framing."""

import datetime
import decimal
import socket
import time

import amqp
import amqp.exceptions
import pika
import pytest

from util import (Collector, channel_closed, connection_closed, declare_temp_queue, message_count,
                  publish_n, settle, sync, wait_message_count, wait_until)


# ---------------------------------------------------------------- publish

def test_basic_publish_to_missing_exchange_closes_channel_404(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.basic_publish(unique_name, "rk", b"x")
    with channel_closed(404, f"NOT_FOUND - no exchange '{unique_name}' in vhost '/'"):
        sync(ch)
    assert ch.is_closed
    # Only the channel dies: the connection still works.
    ch2 = pika_conn.channel()
    sync(ch2)


def test_basic_publish_default_exchange_routes_by_queue_name(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True)
    pika_channel.basic_publish("", unique_name, b"hello")
    assert wait_message_count(pika_channel, unique_name, 1) == 1
    m, p, body = pika_channel.basic_get(unique_name, auto_ack=True)
    assert body == b"hello"
    assert m.exchange == ""
    assert m.routing_key == unique_name
    assert m.redelivered is False


def test_basic_publish_mandatory_unroutable_returns_312_no_route(pika_conn, unique_name):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, method, props, body: returned.append((method, props, body)))
    ch.basic_publish("amq.direct", unique_name, b"lost", pika.BasicProperties(message_id="m1"), mandatory=True)
    assert wait_until(pika_conn, lambda: returned)
    method, props, body = returned[0]
    assert method.reply_code == 312
    assert method.reply_text == "NO_ROUTE"
    assert method.exchange == "amq.direct"
    assert method.routing_key == unique_name
    assert body == b"lost"
    assert props.message_id == "m1"


def test_basic_publish_mandatory_to_missing_queue_on_default_exchange_returns_312(pika_conn, unique_name):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, method, props, body: returned.append(method))
    ch.basic_publish("", unique_name, b"lost", mandatory=True)
    assert wait_until(pika_conn, lambda: returned)
    assert (returned[0].reply_code, returned[0].reply_text, returned[0].exchange) == (312, "NO_ROUTE", "")


def test_basic_publish_mandatory_routable_is_not_returned(pika_conn, unique_name):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    ch.queue_declare(unique_name, exclusive=True)
    ch.basic_publish("", unique_name, b"ok", mandatory=True)
    assert wait_message_count(ch, unique_name, 1) == 1
    settle(pika_conn, 0.2)
    assert returned == []


def test_basic_publish_non_mandatory_unroutable_is_dropped_silently(pika_conn, unique_name):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    ch.basic_publish("amq.direct", unique_name, b"dropped")
    sync(ch)
    settle(pika_conn, 0.2)
    assert returned == []
    assert ch.is_open


def test_basic_publish_user_id_mismatch_is_406(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"x", pika.BasicProperties(user_id="bob"))
    with channel_closed(406, "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'"):
        sync(pika_channel)


# ---------------------------------------------------------------- properties and content

def test_basic_all_14_properties_round_trip(pika_channel):
    q = declare_temp_queue(pika_channel)
    headers = {
        "int": 1, "neg": -5, "big": 2 ** 40, "str": "text", "bool": True,
        "nested": {"a": 1, "b": "two"}, "array": [1, "x", True],
        "decimal": decimal.Decimal("1.25"), "bytes": b"\x00\x01\xff", "void": None,
        "timestamp": datetime.datetime(2020, 1, 2, 3, 4, 5),
    }
    sent = pika.BasicProperties(
        content_type="application/json", content_encoding="gzip", headers=headers,
        delivery_mode=2, priority=5, correlation_id="corr-1", reply_to="reply.q",
        expiration="60000", message_id="msg-1", timestamp=1234567890, type="order.created",
        user_id="guest", app_id="conformance", cluster_id="cluster-x")
    pika_channel.basic_publish("", q, b"{}", sent)
    assert wait_message_count(pika_channel, q, 1) == 1
    _m, got, body = pika_channel.basic_get(q, auto_ack=True)
    assert body == b"{}"
    for attr in ("content_type", "content_encoding", "delivery_mode", "priority", "correlation_id",
                 "reply_to", "expiration", "message_id", "timestamp", "type", "user_id", "app_id",
                 "cluster_id"):
        assert getattr(got, attr) == getattr(sent, attr), attr
    h = dict(got.headers)
    ts = h.pop("timestamp")
    assert ts.replace(tzinfo=None) == headers["timestamp"]
    expected = dict(headers)
    expected.pop("timestamp")
    assert h == expected


def test_basic_properties_absent_stay_absent(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"bare")
    assert wait_message_count(pika_channel, q, 1) == 1
    _m, got, body = pika_channel.basic_get(q, auto_ack=True)
    assert body == b"bare"
    for attr in ("content_type", "content_encoding", "headers", "delivery_mode", "priority",
                 "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
                 "user_id", "app_id", "cluster_id"):
        assert getattr(got, attr) is None, attr


def test_basic_amqp_header_field_types_round_trip_py_amqp(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    headers = {"i": 1, "s": "x", "f": 1.5, "l": [1, 2, "three"], "t": {"a": "b"},
               "d": decimal.Decimal("1.5"), "ts": datetime.datetime(2020, 1, 1), "b": False}
    ch.basic_publish(amqp.Message(b"payload", application_headers=headers, content_type="text/plain"), "", q)
    m = None
    for _ in range(100):
        m = ch.basic_get(q, no_ack=True)
        if m is not None:
            break
    assert m is not None
    assert m.body == b"payload"
    assert m.properties["application_headers"] == headers
    assert m.properties["content_type"] == "text/plain"


def test_basic_empty_body_round_trip(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"", pika.BasicProperties(message_id="empty"))
    assert wait_message_count(pika_channel, q, 1) == 1
    _m, p, body = pika_channel.basic_get(q, auto_ack=True)
    assert body == b""
    assert p.message_id == "empty"


def test_basic_large_message_spanning_many_body_frames_round_trips(pika_channel):
    q = declare_temp_queue(pika_channel)
    body = bytes(range(256)) * 4096 + b"tail"  # ~1 MiB: 9 body frames at frame_max 131072
    pika_channel.basic_publish("", q, body)
    assert wait_message_count(pika_channel, q, 1) == 1
    _m, _p, got = pika_channel.basic_get(q, auto_ack=True)
    assert len(got) == len(body)
    assert got == body


def test_basic_large_message_with_small_frame_max_round_trips(pika_connect):
    conn = pika_connect(frame_max=4096)
    ch = conn.channel()
    q = declare_temp_queue(ch)
    body = b"0123456789abcdef" * 8192  # 128 KiB in 4 KiB frames
    ch.basic_publish("", q, body)
    assert wait_message_count(ch, q, 1) == 1
    _m, _p, got = ch.basic_get(q, auto_ack=True)
    assert got == body


# ---------------------------------------------------------------- consume / cancel

def test_basic_consume_server_generated_tag_has_amq_ctag_prefix(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    tag = ch.basic_consume(q, consumer_tag="", callback=lambda m: None)
    assert tag.startswith("amq.ctag-"), tag
    assert len(tag) > len("amq.ctag-")
    tag2 = ch.basic_consume(q, consumer_tag="", callback=lambda m: None)
    assert tag2.startswith("amq.ctag-") and tag2 != tag


def test_basic_consume_client_tag_is_echoed(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    assert ch.basic_consume(q, consumer_tag="my-tag", callback=lambda m: None) == "my-tag"


def test_basic_consume_delivers_published_messages_in_order(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    col = Collector()
    tag = ch.basic_consume(q, col, auto_ack=True)
    bodies = publish_n(ch, q, 20)
    assert wait_until(pika_conn, lambda: len(col) == 20)
    assert col.bodies == bodies
    assert [m[0].consumer_tag for m in col.messages] == [tag] * 20
    assert col.tags == list(range(1, 21))
    assert all(m[0].redelivered is False for m in col.messages)
    assert all(m[0].routing_key == q and m[0].exchange == "" for m in col.messages)


def test_basic_consume_missing_queue_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'"):
        pika_channel.basic_consume(unique_name, lambda *a: None)


def test_basic_consume_exclusive_blocks_second_consumer_403(pika_connect, unique_name):
    c1, c2 = pika_connect(), pika_connect()
    ch1 = c1.channel()
    ch1.queue_declare(unique_name, auto_delete=True)
    ch1.basic_consume(unique_name, lambda *a: None, exclusive=True)
    ch2 = c2.channel()
    with channel_closed(403, f"ACCESS_REFUSED - queue '{unique_name}' in vhost '/' in exclusive use"):
        ch2.basic_consume(unique_name, lambda *a: None)


def test_basic_consume_exclusive_refused_when_queue_already_has_consumer_403(pika_connect, unique_name):
    c1, c2 = pika_connect(), pika_connect()
    ch1 = c1.channel()
    ch1.queue_declare(unique_name, auto_delete=True)
    ch1.basic_consume(unique_name, lambda *a: None)
    ch2 = c2.channel()
    with channel_closed(403, f"ACCESS_REFUSED - queue '{unique_name}' in vhost '/' in exclusive use"):
        ch2.basic_consume(unique_name, lambda *a: None, exclusive=True)


def test_basic_consume_duplicate_consumer_tag_is_530_connection_error(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    ch.basic_consume(q, consumer_tag="dup", callback=lambda m: None)
    with pytest.raises(amqp.exceptions.NotAllowed) as ei:
        ch.basic_consume(q, consumer_tag="dup", callback=lambda m: None)
    assert ei.value.reply_code == 530
    assert ei.value.reply_text == "NOT_ALLOWED - attempt to reuse consumer tag 'dup'"
    assert ei.value.method_sig == (60, 20)
    # 530 is a hard error: the whole connection is gone.
    with pytest.raises(Exception):
        amqp_conn.channel().queue_declare("", exclusive=True)


def test_basic_cancel_stops_deliveries(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    col = Collector()
    tag = ch.basic_consume(q, col, auto_ack=True)
    ch.basic_publish("", q, b"before")
    assert wait_until(pika_conn, lambda: len(col) == 1)
    ch.basic_cancel(tag)
    ch.basic_publish("", q, b"after")
    assert wait_message_count(ch, q, 1) == 1
    assert col.bodies == [b"before"]
    res = ch.queue_declare(q, passive=True).method
    assert res.consumer_count == 0


def test_basic_cancel_ok_echoes_tag_py_amqp(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    ch.basic_consume(q, consumer_tag="ctag-x", callback=lambda m: None)
    assert ch.basic_cancel("ctag-x") == "ctag-x"
    assert ch.queue_declare(q, passive=True).consumer_count == 0


def test_basic_cancel_unknown_tag_is_ok_py_amqp(amqp_conn):
    ch = amqp_conn.channel()
    assert ch.basic_cancel("never-existed") == "never-existed"
    ch.queue_declare("", exclusive=True)  # channel still open


def test_basic_consumer_cancel_notification_on_queue_delete(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name)
    cancels = []
    ch.add_on_cancel_callback(lambda frame: cancels.append(frame.method))
    tag = ch.basic_consume(unique_name, lambda *a: None)
    other = pika_conn.channel()
    other.queue_delete(unique_name)
    assert wait_until(pika_conn, lambda: cancels)
    assert cancels[0].NAME == "Basic.Cancel"
    assert cancels[0].consumer_tag == tag
    assert ch.is_open


# ---------------------------------------------------------------- get

def test_basic_get_returns_message_count_of_remaining(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 3)
    assert wait_message_count(pika_channel, q, 3) == 3
    counts = []
    for _ in range(3):
        m, _p, _b = pika_channel.basic_get(q, auto_ack=True)
        counts.append(m.message_count)
    assert counts == [2, 1, 0]


def test_basic_get_ok_fields(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"a")
    assert wait_message_count(pika_channel, q, 1) == 1
    m, _p, body = pika_channel.basic_get(q)
    assert (m.delivery_tag, m.redelivered, m.exchange, m.routing_key, body) == (1, False, "", q, b"a")


def test_basic_get_empty_queue_returns_get_empty(pika_channel):
    q = declare_temp_queue(pika_channel)
    assert pika_channel.basic_get(q) == (None, None, None)


def test_basic_get_empty_py_amqp_returns_none(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    assert ch.basic_get(q) is None


def test_basic_get_missing_queue_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'"):
        pika_channel.basic_get(unique_name)


def test_basic_delivery_tags_are_per_channel_and_shared_by_get_and_consume(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    publish_n(ch, q, 3)
    assert wait_message_count(ch, q, 3) == 3
    m1, _, _ = ch.basic_get(q)
    col = Collector()
    ch.basic_consume(q, col)
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert m1.delivery_tag == 1
    assert col.tags == [2, 3]
    other = pika_conn.channel()
    q2 = declare_temp_queue(other)
    other.basic_publish("", q2, b"x")
    assert wait_message_count(other, q2, 1) == 1
    m, _, _ = other.basic_get(q2)
    assert m.delivery_tag == 1


# ---------------------------------------------------------------- ack / nack / reject

def _get_n(ch, q, n):
    out = []
    for _ in range(n):
        m, p, b = ch.basic_get(q)
        assert m is not None
        out.append((m, b))
    return out


def test_basic_ack_single_removes_message(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 2)
    assert wait_message_count(pika_channel, q, 2) == 2
    (m1, _), (m2, _) = _get_n(pika_channel, q, 2)
    pika_channel.basic_ack(m1.delivery_tag)
    pika_channel.basic_nack(m2.delivery_tag, requeue=True)
    assert wait_message_count(pika_channel, q, 1) == 1
    _m, _p, body = pika_channel.basic_get(q, auto_ack=True)
    assert body == b"m1"


def test_basic_ack_multiple_acks_all_up_to_tag(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 5)
    assert wait_message_count(pika_channel, q, 5) == 5
    got = _get_n(pika_channel, q, 5)
    pika_channel.basic_ack(got[2][0].delivery_tag, multiple=True)  # acks tags 1..3
    pika_channel.basic_recover(requeue=True)  # the rest (4, 5) go back
    assert wait_message_count(pika_channel, q, 2) == 2
    bodies = [b for _m, b in _get_n(pika_channel, q, 2)]
    assert bodies == [b"m3", b"m4"]


def test_basic_ack_multiple_with_tag_zero_acks_everything(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 4)
    assert wait_message_count(pika_channel, q, 4) == 4
    _get_n(pika_channel, q, 4)
    pika_channel.basic_ack(0, multiple=True)
    pika_channel.basic_recover(requeue=True)
    assert wait_message_count(pika_channel, q, 0) == 0


def test_basic_ack_unknown_delivery_tag_is_406(pika_channel):
    pika_channel.basic_ack(42)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 42"):
        sync(pika_channel)


def test_basic_double_ack_is_406(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"x")
    assert wait_message_count(pika_channel, q, 1) == 1
    m, _p, _b = pika_channel.basic_get(q)
    pika_channel.basic_ack(m.delivery_tag)
    pika_channel.basic_ack(m.delivery_tag)
    with channel_closed(406, f"PRECONDITION_FAILED - unknown delivery tag {m.delivery_tag}"):
        sync(pika_channel)


def test_basic_ack_of_auto_ack_delivery_is_406(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"x")
    assert wait_message_count(pika_channel, q, 1) == 1
    m, _p, _b = pika_channel.basic_get(q, auto_ack=True)
    pika_channel.basic_ack(m.delivery_tag)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 1"):
        sync(pika_channel)


def test_basic_nack_unknown_delivery_tag_is_406(pika_channel):
    pika_channel.basic_nack(7, requeue=True)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 7"):
        sync(pika_channel)


def test_basic_reject_unknown_delivery_tag_is_406(pika_channel):
    pika_channel.basic_reject(9, requeue=False)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 9"):
        sync(pika_channel)


def test_basic_nack_requeue_true_multiple_redelivers_in_order(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    col = Collector()
    ch.basic_consume(q, col)
    bodies = publish_n(ch, q, 5)
    assert wait_until(pika_conn, lambda: len(col) == 5)
    assert all(m[0].redelivered is False for m in col.messages)
    ch.basic_nack(col.tags[-1], multiple=True, requeue=True)
    assert wait_until(pika_conn, lambda: len(col) == 10)
    again = col.messages[5:]
    assert [m[2] for m in again] == bodies
    assert all(m[0].redelivered is True for m in again)
    assert [m[0].delivery_tag for m in again] == list(range(6, 11))


def test_basic_nack_requeue_false_multiple_drops(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 4)
    assert wait_message_count(pika_channel, q, 4) == 4
    got = _get_n(pika_channel, q, 3)
    pika_channel.basic_nack(got[-1][0].delivery_tag, multiple=True, requeue=False)
    assert wait_message_count(pika_channel, q, 1) == 1
    _m, _p, body = pika_channel.basic_get(q, auto_ack=True)
    assert body == b"m3"


def test_basic_reject_requeue_true_redelivers_with_redelivered_flag(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"once")
    assert wait_message_count(pika_channel, q, 1) == 1
    m, _p, _b = pika_channel.basic_get(q)
    assert m.redelivered is False
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    assert wait_message_count(pika_channel, q, 1) == 1
    m2, _p, body = pika_channel.basic_get(q, auto_ack=True)
    assert body == b"once"
    assert m2.redelivered is True
    assert m2.delivery_tag == m.delivery_tag + 1


def test_basic_reject_requeue_false_drops(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"gone")
    assert wait_message_count(pika_channel, q, 1) == 1
    m, _p, _b = pika_channel.basic_get(q)
    pika_channel.basic_reject(m.delivery_tag, requeue=False)
    assert wait_message_count(pika_channel, q, 0) == 0


def test_basic_requeued_message_returns_to_its_original_position(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 5)
    assert wait_message_count(pika_channel, q, 5) == 5
    got = _get_n(pika_channel, q, 3)  # m0 m1 m2 unacked, m3 m4 ready
    pika_channel.basic_nack(got[1][0].delivery_tag, requeue=True)   # m1 back
    pika_channel.basic_nack(got[0][0].delivery_tag, requeue=True)   # m0 back
    pika_channel.basic_ack(got[2][0].delivery_tag)
    assert wait_message_count(pika_channel, q, 4) == 4
    rest = [(m.redelivered, b) for m, b in _get_n(pika_channel, q, 4)]
    assert rest == [(True, b"m0"), (True, b"m1"), (False, b"m3"), (False, b"m4")]


def test_basic_recover_requeue_true_redelivers_unacked(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    col = Collector()
    ch.basic_consume(q, col)
    bodies = publish_n(ch, q, 3)
    assert wait_until(pika_conn, lambda: len(col) == 3)
    ch.basic_ack(col.tags[0])
    ch.basic_recover(requeue=True)
    assert wait_until(pika_conn, lambda: len(col) == 5)
    assert [(m[0].redelivered, m[2]) for m in col.messages[3:]] == [(True, bodies[1]), (True, bodies[2])]


def test_basic_unacked_messages_requeue_in_order_when_channel_closes(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    publish_n(ch, q, 5)
    assert wait_message_count(ch, q, 5) == 5
    consumer_ch = pika_conn.channel()
    _get_n(consumer_ch, q, 3)
    assert message_count(ch, q) == 2
    consumer_ch.close()
    assert wait_message_count(ch, q, 5) == 5
    rest = [(m.redelivered, b) for m, b in _get_n(ch, q, 5)]
    assert rest == [(True, b"m0"), (True, b"m1"), (True, b"m2"), (False, b"m3"), (False, b"m4")]


def test_basic_unacked_messages_requeue_when_connection_closes(pika_connect, unique_name):
    owner = pika_connect().channel()
    owner.queue_declare(unique_name, auto_delete=False)
    try:
        publish_n(owner, unique_name, 3)
        assert wait_message_count(owner, unique_name, 3) == 3
        consumer = pika_connect()
        col = Collector()
        cch = consumer.channel()
        cch.basic_consume(unique_name, col)
        assert wait_until(consumer, lambda: len(col) == 3)
        assert message_count(owner, unique_name) == 0
        consumer.close()
        assert wait_message_count(owner, unique_name, 3) == 3
        m, _p, body = owner.basic_get(unique_name, auto_ack=True)
        assert (m.redelivered, body) == (True, b"m0")
    finally:
        owner.queue_delete(unique_name)


# ---------------------------------------------------------------- qos / dispatch

def test_basic_qos_prefetch_count_limits_unacked_deliveries_per_consumer(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    ch.basic_qos(prefetch_count=2)
    col = Collector()
    ch.basic_consume(q, col)
    publish_n(ch, q, 5)
    assert wait_until(pika_conn, lambda: len(col) == 2)
    settle(pika_conn, 0.3)
    assert len(col) == 2
    ch.basic_ack(col.tags[0])
    assert wait_until(pika_conn, lambda: len(col) == 3)
    settle(pika_conn, 0.2)
    assert len(col) == 3
    ch.basic_ack(col.tags[-1], multiple=True)
    assert wait_until(pika_conn, lambda: len(col) == 5)
    assert col.bodies == [b"m0", b"m1", b"m2", b"m3", b"m4"]


def test_basic_qos_per_consumer_applies_to_each_consumer_on_channel(pika_conn):
    ch = pika_conn.channel()
    q1, q2 = declare_temp_queue(ch), declare_temp_queue(ch)
    ch.basic_qos(prefetch_count=2, global_qos=False)
    c1, c2 = Collector(), Collector()
    ch.basic_consume(q1, c1)
    ch.basic_consume(q2, c2)
    publish_n(ch, q1, 5)
    publish_n(ch, q2, 5)
    assert wait_until(pika_conn, lambda: len(c1) == 2 and len(c2) == 2)
    settle(pika_conn, 0.3)
    assert (len(c1), len(c2)) == (2, 2)


def test_basic_qos_global_true_limits_whole_channel(pika_conn):
    ch = pika_conn.channel()
    q1, q2 = declare_temp_queue(ch), declare_temp_queue(ch)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    c1, c2 = Collector(), Collector()
    ch.basic_consume(q1, c1)
    ch.basic_consume(q2, c2)
    publish_n(ch, q1, 5)
    publish_n(ch, q2, 5)
    assert wait_until(pika_conn, lambda: len(c1) + len(c2) == 3)
    settle(pika_conn, 0.3)
    assert len(c1) + len(c2) == 3
    for col in (c1, c2):
        for t in col.tags:
            ch.basic_ack(t)
    assert wait_until(pika_conn, lambda: len(c1) + len(c2) == 6)


def test_basic_qos_zero_means_unlimited(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    ch.basic_qos(prefetch_count=0)
    col = Collector()
    ch.basic_consume(q, col)
    publish_n(ch, q, 50)
    assert wait_until(pika_conn, lambda: len(col) == 50)


def test_basic_round_robin_across_consumers(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    a, b = Collector(), Collector()
    cha, chb = pika_conn.channel(), pika_conn.channel()
    cha.basic_consume(q, a, auto_ack=True)
    chb.basic_consume(q, b, auto_ack=True)
    publish_n(ch, q, 6)
    assert wait_until(pika_conn, lambda: len(a) + len(b) == 6)
    assert len(a) == 3 and len(b) == 3
    # strictly alternating
    assert sorted(a.bodies + b.bodies) == [b"m0", b"m1", b"m2", b"m3", b"m4", b"m5"]
    assert {a.bodies[0], b.bodies[0]} == {b"m0", b"m1"}
    evens = [b"m0", b"m2", b"m4"]
    odds = [b"m1", b"m3", b"m5"]
    assert (a.bodies, b.bodies) in ((evens, odds), (odds, evens))


def test_basic_round_robin_skips_consumers_at_prefetch_limit(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    cha, chb = pika_conn.channel(), pika_conn.channel()
    cha.basic_qos(prefetch_count=1)
    chb.basic_qos(prefetch_count=100)
    a, b = Collector(), Collector()
    cha.basic_consume(q, a)
    chb.basic_consume(q, b)
    publish_n(ch, q, 10)
    assert wait_until(pika_conn, lambda: len(a) + len(b) == 10)
    assert len(a) == 1
    assert len(b) == 9
    settle(pika_conn, 0.2)
    assert len(a) == 1


def test_basic_no_ack_consumer_is_not_limited_by_prefetch(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    ch.basic_qos(prefetch_count=1)
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    publish_n(ch, q, 10)
    assert wait_until(pika_conn, lambda: len(col) == 10)


# ---------------------------------------------------------------- py-amqp flows

def test_basic_py_amqp_consume_and_ack_round_trip(amqp_conn):
    ch = amqp_conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    got = []
    ch.basic_consume(q, callback=lambda m: got.append(m))
    for i in range(5):
        ch.basic_publish(amqp.Message(b"p%d" % i, message_id=str(i)), "", q)
    deadline = time.monotonic() + 5
    while len(got) < 5 and time.monotonic() < deadline:
        try:
            amqp_conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass
    assert [m.body for m in got] == [b"p%d" % i for i in range(5)]
    assert [m.properties["message_id"] for m in got] == ["0", "1", "2", "3", "4"]
    assert [m.delivery_info["delivery_tag"] for m in got] == [1, 2, 3, 4, 5]
    assert all(m.delivery_info["redelivered"] is False for m in got)
    ch.basic_ack(5, multiple=True)
    assert ch.queue_declare(q, passive=True).message_count == 0


def test_basic_py_amqp_publisher_confirms(amqp_connect):
    conn = amqp_connect(confirm_publish=True)
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True, auto_delete=False).queue
    for i in range(10):
        ch.basic_publish(amqp.Message(b"c%d" % i), "", q)  # blocks until basic.ack
    assert ch.queue_declare(q, passive=True).message_count == 10

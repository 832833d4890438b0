"""channel.*: open/close, closed-channel use, flow, isolation of channel errors."""

import struct

import pika

import amqpraw as R
from test_connection import expect_connection_close
from util import channel_closed, declare_temp_queue, reply_text, sync, wait_message_count


def _close_args(code=200, text="bye"):
    return struct.pack(">H", code) + R.shortstr(text) + struct.pack(">HH", 0, 0)


def test_channel_open_and_close(pika_conn):
    ch = pika_conn.channel()
    assert ch.is_open
    ch.close()
    assert ch.is_closed
    ch2 = pika_conn.channel()
    sync(ch2)


def test_channel_open_ok_raw(raw_connect):
    raw = raw_connect()
    raw.handshake()
    f = raw.channel_open(1)
    assert (f.method, f.channel) == (R.CHANNEL_OPEN_OK, 1)
    raw.send_method(1, R.CHANNEL_CLOSE, _close_args())
    f = raw.read_frame()
    assert (f.method, f.channel) == (R.CHANNEL_CLOSE_OK, 1)


def test_channel_number_can_be_reused_after_close(raw_connect):
    raw = raw_connect()
    raw.handshake()
    for _ in range(3):
        assert raw.channel_open(7).method == R.CHANNEL_OPEN_OK
        raw.send_method(7, R.CHANNEL_CLOSE, _close_args())
        raw.expect(R.CHANNEL_CLOSE_OK, 7)


def test_channel_high_channel_numbers_allowed(raw_connect):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(2047).method == R.CHANNEL_OPEN_OK


def test_channel_use_of_closed_channel_is_504_connection_error(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send_method(1, R.CHANNEL_CLOSE, _close_args())
    raw.expect(R.CHANNEL_CLOSE_OK, 1)
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    expect_connection_close(raw, 504, "CHANNEL_ERROR - expected 'channel.open'", (50, 10))


def test_channel_flow_active_true_is_ok(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send_method(1, (20, 20), b"\x01")
    f = raw.expect((20, 21), 1)
    assert f.args().octet() & 1 == 1


def test_channel_flow_active_false_is_540_not_implemented(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send_method(1, (20, 20), b"\x00")
    expect_connection_close(raw, 540, "NOT_IMPLEMENTED - active=false", (20, 20))


def test_channel_error_closes_only_that_channel(pika_conn, unique_name):
    good = pika_conn.channel()
    q = declare_temp_queue(good)
    bad = pika_conn.channel()
    with channel_closed(404):
        bad.queue_declare(unique_name, passive=True)
    assert bad.is_closed
    assert good.is_open and pika_conn.is_open
    good.basic_publish("", q, b"x")
    assert wait_message_count(good, q, 1) == 1


def test_channel_close_reply_carries_failing_class_and_method(raw_connect, unique_name):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args(unique_name, passive=True))
    f = raw.expect(R.CHANNEL_CLOSE, 1)
    assert f.close_info() == (404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'", 50, 10)
    raw.send_method(1, R.CHANNEL_CLOSE_OK)
    # the channel number is free again
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK


def test_channel_frames_after_server_close_are_ignored_until_close_ok(raw_connect, unique_name):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args(unique_name, passive=True))
    # Pipelined after the failing method, before we have seen channel.close: must be dropped.
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    raw.expect(R.CHANNEL_CLOSE, 1)
    raw.send_method(1, R.CHANNEL_CLOSE_OK)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK


def test_channel_long_reply_text_is_truncated_to_255(pika_channel):
    name = "q" * 240
    with channel_closed(404) as ei:
        pika_channel.queue_declare(name, passive=True)
    text = ei.value.reply_text
    assert len(text.encode()) == 255
    assert text == reply_text(f"NOT_FOUND - no queue '{name}' in vhost '/'")
    assert text.endswith("...")

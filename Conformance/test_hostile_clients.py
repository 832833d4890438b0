"""Hostile and careless clients: the broker must survive them and keep serving everyone else."""

import socket
import struct
import threading
import time

import pika
import pytest

import amqpraw as R
from test_connection import assert_broker_serves, expect_connection_close, read_to_eof
from util import Collector, declare_temp_queue, message_count, wait_message_count, wait_until

MB = 1024 * 1024


def _raw_ready(raw_connect, **kw):
    raw = raw_connect(**kw)
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    return raw


# ---------------------------------------------------------------- abrupt disconnects

def test_hostile_disconnect_after_protocol_header(raw_connect, broker):
    raw = raw_connect()
    raw.start()
    raw.close()
    assert_broker_serves(broker)


def test_hostile_disconnect_mid_handshake(raw_connect, broker):
    raw = raw_connect()
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.close()
    assert_broker_serves(broker)


def test_hostile_disconnect_mid_method_frame(raw_connect, pika_channel, broker, unique_name):
    pika_channel.queue_declare(unique_name)
    try:
        raw = _raw_ready(raw_connect)
        frames = R.publish_frames(1, "", unique_name, b"partial")
        raw.send(frames[:9])  # frame header and two payload bytes of basic.publish
        raw.close()
        assert_broker_serves(broker)
        assert message_count(pika_channel, unique_name) == 0
    finally:
        pika_channel.queue_delete(unique_name)


def test_hostile_disconnect_mid_body_does_not_enqueue_partial_message(raw_connect, pika_channel, broker,
                                                                       unique_name):
    pika_channel.queue_declare(unique_name)
    try:
        raw = _raw_ready(raw_connect)
        frames = R.publish_frames(1, "", unique_name, b"b" * 300000)
        raw.send(frames[: len(frames) // 2])
        raw.close()
        assert_broker_serves(broker)
        time.sleep(0.2)
        assert message_count(pika_channel, unique_name) == 0
    finally:
        pika_channel.queue_delete(unique_name)


def test_hostile_many_connections_dropped_without_close(raw_connect, broker):
    conns = []
    for _ in range(50):
        raw = raw_connect()
        raw.handshake()
        raw.channel_open(1)
        conns.append(raw)
    for raw in conns:
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        raw.close()
    assert_broker_serves(broker)


# ---------------------------------------------------------------- garbage

def test_hostile_garbage_after_valid_header_closes_connection(broker):
    with socket.create_connection((broker.host, broker.port), timeout=10) as s:
        s.sendall(R.PROTOCOL_HEADER)
        s.sendall(b"\xde\xad\xbe\xef" * 256)
        read_to_eof(s, timeout=15, limit=1 << 20)
    assert_broker_serves(broker)


def test_hostile_garbage_after_handshake_is_501_frame_error(raw_connect, broker):
    raw = raw_connect()
    raw.handshake()
    raw.send(b"\x01\x00\x00\x00\x00\x00\x04abcd\x00")  # bad frame-end octet
    expect_connection_close(raw, 501, timeout=15)
    assert_broker_serves(broker)


def test_hostile_unknown_frame_type_is_501(raw_connect, broker):
    raw = raw_connect()
    raw.handshake()
    raw.send(b"\x09\x00\x00\x00\x00\x00\x04abcd\xce")
    expect_connection_close(raw, 501, timeout=15)
    assert_broker_serves(broker)


def test_hostile_huge_frame_size_is_501(raw_connect, broker):
    raw = raw_connect()
    raw.handshake()
    raw.send(b"\x01\x00\x01\xff\xff\xff\xf0")  # claims a ~4 GiB method frame
    expect_connection_close(raw, 501, timeout=15)
    assert_broker_serves(broker)


# ---------------------------------------------------------------- channel_max

def test_hostile_open_2047_channels_then_2048th_fails(raw_connect, broker):
    raw = raw_connect(timeout=30)
    raw.handshake()
    assert raw.tune[0] == 2047
    raw.send(b"".join(R.method_frame(i, R.CHANNEL_OPEN, R.shortstr("")) for i in range(1, 2048)))
    opened = set()
    for _ in range(2047):
        f = raw.read_frame()
        assert f.method == R.CHANNEL_OPEN_OK, f
        opened.add(f.channel)
    assert opened == set(range(1, 2048))
    raw.send_method(2048, R.CHANNEL_OPEN, R.shortstr(""))
    expect_connection_close(
        raw, 530, "NOT_ALLOWED - number of channels opened (2047) has reached the negotiated channel_max (2047)")
    assert_broker_serves(broker)


def test_hostile_channel_max_lowered_by_client_is_enforced(raw_connect):
    raw = raw_connect()
    raw.handshake(channel_max=10)
    for i in range(1, 11):
        assert raw.channel_open(i).method == R.CHANNEL_OPEN_OK
    raw.send_method(11, R.CHANNEL_OPEN, R.shortstr(""))
    expect_connection_close(
        raw, 530, "NOT_ALLOWED - number of channels opened (10) has reached the negotiated channel_max (10)")


# ---------------------------------------------------------------- big and slow

@pytest.mark.timeout(120)
def test_hostile_50mb_message_publish_broker_survives(raw_connect, pika_connect, broker, unique_name):
    setup = pika_connect().channel()
    setup.queue_declare(unique_name)
    try:
        raw = _raw_ready(raw_connect, timeout=60)
        raw.send_method(1, R.CONFIRM_SELECT, b"\x00")
        raw.expect(R.CONFIRM_SELECT_OK, 1)
        body = b"\xab" * (50 * MB)
        raw.send(R.publish_frames(1, "", unique_name, body))
        del body
        # Accepted (ack) or refused (nack / channel or connection close) are both survivable outcomes.
        try:
            f = raw.read_frame()
            assert f.method in (R.BASIC_ACK, R.BASIC_NACK, R.CHANNEL_CLOSE, R.CONNECTION_CLOSE), f
        except (R.ConnectionClosed, ConnectionResetError):
            pass
        raw.close()
        assert_broker_serves(broker)
    finally:
        pika_connect().channel().queue_delete(unique_name)


@pytest.mark.timeout(120)
def test_hostile_slow_consumer_does_not_stall_independent_traffic(raw_connect, pika_connect, broker, names):
    slow_q, fast_q = names("slow"), names("fast")
    setup = pika_connect().channel()
    setup.queue_declare(slow_q)
    setup.queue_declare(fast_q)
    stop = threading.Event()
    producer_sent = [0]
    try:
        # A consumer that never reads its socket (tiny receive buffer, no-ack so the broker pushes freely).
        slow = raw_connect(rcvbuf=4096, timeout=10)
        slow.handshake()
        slow.channel_open(1)
        slow.send_method(1, R.BASIC_CONSUME, R.basic_consume_args(slow_q, "slow", no_ack=True))
        slow.expect(R.BASIC_CONSUME_OK, 1)

        # A producer pushing ~50 MB at it.
        producer = raw_connect(timeout=30)
        producer.handshake()
        producer.channel_open(1)
        chunk = R.publish_frames(1, "", slow_q, b"s" * (256 * 1024))

        def produce():
            try:
                for _ in range(200):
                    if stop.is_set():
                        return
                    producer.send(chunk)
                    producer_sent[0] += 1
            except OSError:
                pass

        t = threading.Thread(target=produce, daemon=True)
        t.start()
        # Let a backlog build: at least 10 MB in (or the broker pushing back on the producer).
        deadline = time.monotonic() + 5
        while producer_sent[0] < 40 and t.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

        # An unrelated publisher/consumer pair must keep flowing.
        pub = pika_connect().channel()
        cons_conn = pika_connect()
        cons = cons_conn.channel()
        col = Collector()
        cons.basic_consume(fast_q, col, auto_ack=True)
        t0 = time.monotonic()
        for i in range(200):
            pub.basic_publish("", fast_q, b"f%d" % i)
        assert wait_until(cons_conn, lambda: len(col) == 200, timeout=15), \
            f"independent pair stalled: {len(col)}/200 after {time.monotonic() - t0:.1f}s"
        assert col.bodies == [b"f%d" % i for i in range(200)]
        assert time.monotonic() - t0 < 15
        print(f"producer had sent {producer_sent[0] * 256 // 1024} MB to the stalled consumer's queue")
    finally:
        stop.set()
        for c in ("slow", "producer"):
            obj = locals().get(c)
            if obj is not None:
                obj.close()
        assert_broker_serves(broker)
        cleanup = pika_connect().channel()
        cleanup.queue_delete(slow_q)
        cleanup.queue_delete(fast_q)

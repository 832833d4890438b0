"""connection.*: protocol header, SASL, tuning, server properties, open/close, hard errors."""

import socket
import struct
import time

import amqp
import amqp.exceptions
import pika
import pika.exceptions
import pytest

import amqpraw as R
from util import declare_temp_queue, wait_message_count


def read_to_eof(sock, timeout=10.0, limit=1 << 16):
    """Read until the peer closes. Returns (data, how) with how in {"eof", "reset"}; fails on timeout."""
    sock.settimeout(timeout)
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data, "reset"
        except socket.timeout:
            pytest.fail(f"server did not close the socket within {timeout}s (got {data!r})")
        if not chunk:
            return data, "eof"
        data += chunk
    pytest.fail(f"server kept sending: {data[:64]!r}...")


def expect_connection_close(raw, code, text=None, class_method=None, timeout=10.0):
    """Next frame must be connection.close(code[, text]); reply close-ok; the server then closes the socket."""
    f = raw.read_frame()
    assert f.method == R.CONNECTION_CLOSE, f
    got_code, got_text, cls, meth = f.close_info()
    assert got_code == code, (got_code, got_text)
    if text is not None:
        assert got_text == text
    if class_method is not None:
        assert (cls, meth) == class_method
    try:
        raw.send_method(0, R.CONNECTION_CLOSE_OK)
    except OSError:
        pass
    read_to_eof(raw.sock, timeout)
    return got_text


def assert_broker_serves(broker):
    """A brand-new client can still do a full round trip."""
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        broker.host, broker.port, connection_attempts=1, socket_timeout=10))
    try:
        ch = conn.channel()
        q = declare_temp_queue(ch)
        ch.basic_publish("", q, b"still-alive")
        assert wait_message_count(ch, q, 1) == 1
        assert ch.basic_get(q, auto_ack=True)[2] == b"still-alive"
    finally:
        conn.close()


# ---------------------------------------------------------------- protocol header

@pytest.mark.parametrize("header", [
    b"AMQP\x00\x00\x09\x00",   # 0-9-0
    b"AMQP\x00\x00\x09\x02",
    b"AMQP\x00\x00\x08\x00",   # 0-8
    b"AMQP\x00\x01\x00\x00",   # 1.0
    b"AMQP\x03\x01\x00\x00",   # 1.0 SASL
    b"XXXXXXXX",
    b"GET / HTTP/1.1\r\n\r\n",
], ids=["0-9-0", "0-9-2", "0-8", "1.0", "1.0-sasl", "garbage", "http"])
def test_connection_wrong_protocol_header_answered_with_0_9_1_header_then_closed(broker, header):
    with socket.create_connection((broker.host, broker.port), timeout=10) as s:
        s.sendall(header)
        data, _how = read_to_eof(s)
    assert data == b"AMQP\x00\x00\x09\x01"


def test_connection_start_advertises_0_9_mechanisms_and_locale(raw_connect):
    raw = raw_connect()
    raw.start()
    assert raw.version == (0, 9)
    assert {b"PLAIN", b"AMQPLAIN"} <= set(raw.mechanisms.split())
    assert b"en_US" in raw.locales.split()


def test_connection_server_properties(raw_connect):
    raw = raw_connect()
    raw.start()
    props = raw.server_properties
    for key in ("product", "version", "platform"):
        assert isinstance(props.get(key), bytes) and props[key], key
    caps = props["capabilities"]
    for cap in ("publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
                "authentication_failure_close", "per_consumer_qos"):
        assert caps.get(cap) is True, cap


def test_connection_tune_defaults(raw_connect):
    raw = raw_connect()
    raw.start()
    raw.start_ok()
    assert raw.read_tune() == (2047, 131072, 60)


def test_connection_pika_negotiates_server_limits(pika_conn):
    params = pika_conn._impl.params
    assert params.channel_max == 2047
    assert params.frame_max == 131072
    assert params.heartbeat == 60


def test_connection_pika_client_lowers_frame_max_and_heartbeat(pika_connect):
    conn = pika_connect(frame_max=8192, heartbeat=5, channel_max=100)
    params = conn._impl.params
    assert (params.channel_max, params.frame_max, params.heartbeat) == (100, 8192, 5)
    ch = conn.channel()
    q = declare_temp_queue(ch)
    body = b"z" * 50000
    ch.basic_publish("", q, body)
    assert wait_message_count(ch, q, 1) == 1
    assert ch.basic_get(q, auto_ack=True)[2] == body


def test_connection_server_respects_lowered_frame_max_outbound(raw_connect):
    raw = raw_connect()
    raw.handshake(frame_max=4096)
    raw.channel_open(1)
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    q = raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()
    body = bytes(range(256)) * 80  # 20480 bytes
    raw.send(R.publish_frames(1, "", q, body, frame_max=4096))
    for _ in range(100):
        raw.send_method(1, R.BASIC_GET, struct.pack(">H", 0) + R.shortstr(q) + b"\x01")
        f = raw.read_frame()
        if f.method == R.BASIC_GET_OK:
            break
        assert f.method == R.BASIC_GET_EMPTY
        time.sleep(0.02)
    h = raw.read_frame()
    assert h.type == R.FRAME_HEADER
    got = b""
    while len(got) < len(body):
        bf = raw.read_frame()
        assert bf.type == R.FRAME_BODY
        assert len(bf.payload) + 8 <= 4096, len(bf.payload)
        got += bf.payload
    assert got == body


def test_connection_frame_larger_than_negotiated_frame_max_is_501(raw_connect):
    raw = raw_connect()
    raw.handshake(frame_max=4096)
    raw.channel_open(1)
    raw.send(R.publish_frames(1, "", "nowhere", b"x" * 10000, frame_max=8192))
    expect_connection_close(raw, 501)


def test_connection_tune_ok_frame_max_above_server_max_is_refused(raw_connect):
    raw = raw_connect()
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(2047, 262144, 0)
    raw.send_method(0, R.CONNECTION_OPEN, R.shortstr("/") + R.shortstr("") + b"\x00")
    try:
        f = raw.read_frame()
    except (R.ConnectionClosed, ConnectionResetError):
        return
    assert f.method == R.CONNECTION_CLOSE, f


def test_connection_tune_ok_frame_max_below_4096_is_refused(raw_connect):
    raw = raw_connect()
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(2047, 1024, 0)
    raw.send_method(0, R.CONNECTION_OPEN, R.shortstr("/") + R.shortstr("") + b"\x00")
    try:
        f = raw.read_frame()
    except (R.ConnectionClosed, ConnectionResetError):
        return
    assert f.method == R.CONNECTION_CLOSE, f


def test_connection_server_sends_heartbeats_at_negotiated_interval(raw_connect):
    raw = raw_connect(timeout=5)
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(2047, 131072, 1)
    assert raw.open().method == R.CONNECTION_OPEN_OK
    t0 = time.monotonic()
    f = raw.read_frame(skip_heartbeats=False)
    assert (f.type, f.channel, f.payload) == (R.FRAME_HEARTBEAT, 0, b"")
    assert time.monotonic() - t0 < 2.0


def test_connection_silent_client_is_dropped_after_missed_heartbeats(raw_connect):
    raw = raw_connect(timeout=10)
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(2047, 131072, 1)
    assert raw.open().method == R.CONNECTION_OPEN_OK
    t0 = time.monotonic()
    with pytest.raises((R.ConnectionClosed, ConnectionResetError)):
        while True:
            raw.read_frame(skip_heartbeats=True)
    assert time.monotonic() - t0 < 8


# ---------------------------------------------------------------- authentication

def test_connection_plain_login(pika_conn):
    assert pika_conn.is_open
    ch = pika_conn.channel()
    declare_temp_queue(ch)


def test_connection_amqplain_login(amqp_connect):
    conn = amqp_connect(login_method="AMQPLAIN")
    assert conn.connected
    ch = conn.channel()
    ch.queue_declare("", exclusive=True)


def test_connection_py_amqp_plain_login(amqp_connect):
    conn = amqp_connect(login_method="PLAIN")
    assert conn.connected
    conn.channel().queue_declare("", exclusive=True)


def test_connection_wrong_password_pika_is_authentication_error(broker):
    params = pika.ConnectionParameters(broker.host, broker.port, connection_attempts=1,
                                       credentials=pika.PlainCredentials("guest", "wrong"))
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        pika.BlockingConnection(params)
    assert "403" in str(ei.value)
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in str(ei.value)


def test_connection_wrong_password_py_amqp_is_403(broker):
    conn = amqp.Connection(host=f"{broker.host}:{broker.port}", userid="guest", password="wrong",
                           login_method="AMQPLAIN", connect_timeout=10)
    with pytest.raises(amqp.exceptions.AccessRefused) as ei:
        conn.connect()
    assert ei.value.reply_code == 403
    assert ei.value.reply_text == ("ACCESS_REFUSED - Login was refused using authentication mechanism "
                                   "AMQPLAIN. For details see the broker logfile.")


def test_connection_wrong_password_with_auth_failure_close_gets_connection_close_403(raw_connect):
    raw = raw_connect()
    raw.start()
    raw.start_ok(password="wrong", capabilities={"authentication_failure_close": True})
    f = raw.read_frame()
    assert f.method == R.CONNECTION_CLOSE
    code, text, _c, _m = f.close_info()
    assert code == 403
    assert text == ("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. "
                    "For details see the broker logfile.")


def test_connection_unknown_user_is_403(raw_connect):
    raw = raw_connect()
    raw.start()
    raw.start_ok(user="nobody", password="guest", capabilities={"authentication_failure_close": True})
    f = raw.read_frame()
    assert f.method == R.CONNECTION_CLOSE
    assert f.close_info()[0] == 403


def test_connection_wrong_password_without_capability_just_closes_socket(raw_connect):
    raw = raw_connect()
    raw.start()
    raw.start_ok(password="wrong", capabilities={})
    data, _how = read_to_eof(raw.sock, timeout=10)
    assert data == b""


def test_connection_unknown_vhost_is_530(amqp_connect, broker):
    conn = amqp.Connection(host=f"{broker.host}:{broker.port}", userid="guest", password="guest",
                           virtual_host="no-such-vhost", connect_timeout=10)
    with pytest.raises(amqp.exceptions.NotAllowed) as ei:
        conn.connect()
    assert ei.value.reply_code == 530
    assert ei.value.reply_text == "NOT_ALLOWED - vhost no-such-vhost not found"
    assert ei.value.method_sig == (10, 40)


def test_connection_unknown_vhost_pika_is_access_denied(broker):
    params = pika.ConnectionParameters(broker.host, broker.port, virtual_host="no-such-vhost",
                                       connection_attempts=1)
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        pika.BlockingConnection(params)
    assert "530" in str(ei.value) and "NOT_ALLOWED - vhost no-such-vhost not found" in str(ei.value)


# ---------------------------------------------------------------- close

def test_connection_client_initiated_close_gets_close_ok(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.connection_close(200, "bye")
    f = raw.read_frame()
    assert f.method == R.CONNECTION_CLOSE_OK and f.channel == 0


def test_connection_pika_close_is_clean(pika_connect):
    conn = pika_connect()
    conn.channel()
    conn.close()
    assert conn.is_closed


def test_connection_second_channel_open_is_504_connection_error(raw_connect, broker):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.CHANNEL_OPEN, R.shortstr(""))
    expect_connection_close(raw, 504, "CHANNEL_ERROR - second 'channel.open' seen", (20, 10))
    assert_broker_serves(broker)


def test_connection_channel_method_on_channel_zero_is_504(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.send_method(0, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    expect_connection_close(raw, 504, class_method=(50, 10))


def test_connection_method_on_unopened_channel_is_504(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.send_method(5, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    expect_connection_close(raw, 504, "CHANNEL_ERROR - expected 'channel.open'", (50, 10))


def test_connection_content_header_without_method_is_505(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send(R.content_frames(1, b"abc"))
    expect_connection_close(raw, 505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead")


def test_connection_method_instead_of_content_header_is_505(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    publish = R.method_frame(1, R.BASIC_PUBLISH, struct.pack(">H", 0) + R.shortstr("") + R.shortstr("x") + b"\x00")
    raw.send(publish + R.method_frame(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True)))
    expect_connection_close(raw, 505, "UNEXPECTED_FRAME - expected content header for class 60, "
                                      "got non content header frame instead", (60, 40))


def test_connection_hard_error_leaves_other_connections_alone(pika_connect, raw_connect):
    survivor = pika_connect()
    ch = survivor.channel()
    q = declare_temp_queue(ch)
    raw = raw_connect()
    raw.handshake()
    raw.send_method(3, R.QUEUE_DECLARE, R.queue_declare_args("x"))
    expect_connection_close(raw, 504)
    ch.basic_publish("", q, b"ok")
    assert wait_message_count(ch, q, 1) == 1

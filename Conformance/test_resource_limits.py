"""Connection resource limits and slow/malicious clients, with server-side limits set in rabbitmq.conf.

Two extra brokers of the kind under test (module-scoped, like test_policies.py's `policy_broker`):

* `limits_broker`: LIMITS = handshake_timeout 2000, max_message_size 1048576, channel_max 8,
  frame_max 8192 (everything else default).
* `conn_max_broker`: connection_max 5, handshake_timeout 2000. A broker of its own, because
  connection_max counts every accepted TCP connection (see below) and would starve the other tests.
  For RabbitMQ only, `num_acceptors.tcp = 1` is added: see "connection_max" below.

RabbitMQ 3.10.8 facts asserted here (read from its rabbit_reader/rabbit_channel/ranch code and
observed):

handshake_timeout
* ONE timer per connection, armed when the connection is accepted, cancelled by nothing except reaching
  the `running` state (connection.open handled). A client that has not completed connection.open
  within handshake_timeout ms of connecting is dropped, whatever step it is at: silent socket, protocol
  header sent (connection.start received, no start-ok), start-ok sent (tune received, no tune-ok),
  tune-ok sent (no connection.open). The deadline does not restart per step. No connection.close
  frame is sent; the socket is just closed (RabbitMQ's listener sockets use linger {true, 0}, so the
  client sees an RST: ECONNRESET, not EOF). Observed: 2.00 s after connect for handshake_timeout 2000.
* An open connection is never affected by it (heartbeat 0: still usable long after the deadline).

max_message_size (body bytes only; properties do not count)
* body == limit: accepted; body == limit + 1: channel.close 406
  "PRECONDITION_FAILED - message size 1048577 is larger than configured max size 1048576",
  class/method 60/40 (basic.publish); the connection and its other channels carry on.
* Checked on the assembled message, i.e. after the LAST body frame: a content header announcing
  limit + 1 bytes gets no reply until the body has arrived. It is checked before the exchange is
  looked up (an oversized publish to a missing exchange is the 406 size error, not 404).

frame_max (server side: frame_max = 8192, offered in connection.tune as (channel_max 8, frame_max 8192,
heartbeat 60))
* RabbitMQ compares the frame's PAYLOAD size with frame_max: a payload of exactly frame_max bytes
  (a 8200-byte frame) is accepted; payload frame_max + 1 is a hard error 501
  "FRAME_ERROR - type T, all octets = <<>>: {frame_too_large,SIZE,8184}" (T the frame type, SIZE the
  declared payload size, 8184 = frame_max - 8), class/method 0/0, decided from the 7-byte frame header
  alone (the payload need not be sent). After sending connection.close the reader sleeps 3 s and then
  drops the socket (it does not wait for close-ok).
* Before tune-ok the limit is initial_frame_max = 4096: right after the protocol header a start-ok
  whose payload is 4096 bytes is accepted (connection.tune follows), 4097 bytes is refused, as is a
  frame header announcing 100 MB: no reply at all, socket closed ~3 s later, and the server never
  reads the announced payload (the client cannot push it: its send fails after a few MB of socket
  buffers).

tune-ok over the server's limits (channel_max 9 or 0 "no limit" against 8; frame_max 8193 or 0 against
  8192): RabbitMQ raises "NOT_ALLOWED - negotiated channel_max = 9 is higher than the maximum allowed
  value (8)" internally, but in the `tuning` state that is NOT sent as connection.close: the socket is
  closed ~3 s later without any frame (logged only).

channel_max
* A COUNT of open channels, not a bound on channel numbers: with channel_max 8, channels 9, 100, 4000
  and 65535 open fine; the open that would make 9 channels is a hard error 530
  "NOT_ALLOWED - number of channels opened (8) has reached the negotiated channel_max (8)",
  class/method 0/0. A closed channel frees its slot.

connection_max (exists in 3.10: rabbit.connection_max, default infinity)
* It is ranch's max_connections on the AMQP listener, not an AMQP-level check: there is no refusal
  frame and no close. At the limit the listener stops accept()ing, so the next client's TCP connect
  still succeeds (kernel backlog) but it is never answered (no connection.start; its protocol header
  sits unread) until a connection goes away; then it is accepted and served normally (its
  handshake_timeout starts only then).
* Every accepted TCP connection counts, authenticated or not: 5 silent sockets hold all 5 slots until
  handshake_timeout drops them.
* ranch parks one acceptor per connection accepted at/over the limit, and RabbitMQ 3.10 runs 10
  acceptors by default, so with defaults about 5 + 9 connections are really served before the
  listener stalls (and acceptors parked while over the limit are not all woken again, so the
  threshold drifts). With `num_acceptors.tcp = 1` the limit is exact: the 6th connection waits.
  That is the behaviour tested (and what Warren is expected to do with connection_max alone).

Slow clients
* 50 sockets trickling a protocol header and start-ok a byte per 100 ms (dropped and reconnected by
  the handshake timeout) plus authenticated clients stalled in the middle of a frame / of a message's
  body do not slow a normal client's publish -> get round trips (median ~1 ms on RabbitMQ).
"""

from __future__ import annotations

import socket
import statistics
import struct
import threading
import time
from typing import Optional

import pika
import pytest

import amqpraw as R
from test_connection import expect_connection_close
from util import channel_closed, start_own_broker, sync

# Each test's timeout also covers the fixture set-up, and the first test to use a module broker
# starts it (RabbitMQ: ~7-10 s, more on a loaded machine); every wait inside a test is bounded by a
# socket timeout of its own.
pytestmark = pytest.mark.timeout(60)

MAX_MSG = 1048576
FRAME_MAX = 8192
CHANNEL_MAX = 8
HANDSHAKE_TIMEOUT_S = 2.0

LIMITS = [
    "handshake_timeout = 2000",
    f"max_message_size = {MAX_MSG}",
    f"channel_max = {CHANNEL_MAX}",
    f"frame_max = {FRAME_MAX}",
]
CONN_MAX = 5
CONN_MAX_LIMITS = [f"connection_max = {CONN_MAX}", "handshake_timeout = 2000"]
# RabbitMQ only (ranch tuning, see the module docstring): one acceptor makes connection_max exact.
RABBITMQ_CONN_MAX_EXTRA = ["num_acceptors.tcp = 1"]


# ---------------------------------------------------------------- brokers

def _start(kind: str, tmp_path_factory, tag: str, config_lines: list[str]):
    return start_own_broker(kind, tmp_path_factory, tag, config_lines=config_lines)


@pytest.fixture(scope="module")
def limits_broker(_broker_server, tmp_path_factory):
    b = _start(_broker_server.name, tmp_path_factory, "limits", LIMITS)
    yield b
    b.stop()


@pytest.fixture(scope="module")
def conn_max_broker(_broker_server, tmp_path_factory):
    lines = list(CONN_MAX_LIMITS)
    if _broker_server.name == "rabbitmq":
        lines += RABBITMQ_CONN_MAX_EXTRA
    b = _start(_broker_server.name, tmp_path_factory, "connmax", lines)
    yield b
    b.stop()


def _checked(b):
    if not b.alive():
        pytest.fail(f"{b.name} (resource limits) died; log tail:\n{b.log_tail()}")
    yield b
    if not b.alive():
        pytest.fail(f"{b.name} (resource limits) died during this test; log tail:\n{b.log_tail()}")


@pytest.fixture
def lb(limits_broker):
    yield from _checked(limits_broker)


@pytest.fixture
def cmb(conn_max_broker):
    yield from _checked(conn_max_broker)


class _Clients:
    """Raw connections, plain sockets and pika connections to one broker, all closed at teardown."""

    def __init__(self, broker):
        self.broker = broker
        self._objs: list = []

    def raw(self, timeout: float = 10.0) -> R.RawConnection:
        c = R.RawConnection(self.broker.host, self.broker.port, timeout=timeout)
        self._objs.append(c)
        return c

    def sock(self, timeout: float = 10.0) -> socket.socket:
        s = socket.create_connection((self.broker.host, self.broker.port), timeout=timeout)
        self._objs.append(s)
        return s

    def pika(self) -> pika.BlockingConnection:
        c = pika.BlockingConnection(pika.ConnectionParameters(
            host=self.broker.host, port=self.broker.port, credentials=pika.PlainCredentials("guest", "guest"),
            connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30))
        self._objs.append(c)
        return c

    def close_all(self) -> None:
        for o in reversed(self._objs):
            try:
                if isinstance(o, pika.BlockingConnection):
                    if o.is_open:
                        o.close()
                else:
                    o.close()
            except Exception:
                pass


@pytest.fixture
def clients(lb):
    c = _Clients(lb)
    yield c
    c.close_all()


@pytest.fixture
def cm_clients(cmb):
    c = _Clients(cmb)
    yield c
    c.close_all()
    time.sleep(0.5)  # let the broker see the closes before the next test counts connections


# ---------------------------------------------------------------- helpers

def wait_closed(sock: socket.socket, timeout: float = 10.0, since: Optional[float] = None):
    """Read until the server closes the socket (EOF or RST). -> (bytes read, seconds since `since`)."""
    since = time.monotonic() if since is None else since
    deadline = since + timeout
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"server did not close the socket within {timeout}s (read {data[:64]!r})")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - since


def raw_wait_closed(raw: R.RawConnection, timeout: float = 10.0, since: Optional[float] = None):
    data, secs = wait_closed(raw.sock, timeout, since)
    return raw.buf + data, secs


def assert_silent(sock: socket.socket, seconds: float) -> None:
    """Nothing arrives and the socket stays open for `seconds`."""
    sock.settimeout(seconds)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        return
    except ConnectionResetError:
        pytest.fail("server reset the connection")
    pytest.fail(f"expected silence, got {data[:64]!r}" if data else "server closed the connection")


def handshake_raw(clients: _Clients, **kw) -> R.RawConnection:
    raw = clients.raw(**kw)
    raw.handshake()
    return raw


def publish_method(channel: int, exchange: str, routing_key: str) -> bytes:
    args = struct.pack(">H", 0) + R.shortstr(exchange) + R.shortstr(routing_key) + b"\x00"
    return R.method_frame(channel, R.BASIC_PUBLISH, args)


def content_header(channel: int, body_size: int) -> bytes:
    return R.frame(R.FRAME_HEADER, channel, struct.pack(">HHQ", 60, 0, body_size) + b"\x00\x00")


def start_ok_frame(payload_size: int) -> bytes:
    """A valid connection.start-ok (PLAIN guest/guest) padded (client property "pad") to exactly
    payload_size bytes of frame payload."""
    def build(pad: int) -> bytes:
        props = R.table({"product": "conformance-raw", "capabilities": {"authentication_failure_close": True},
                         "pad": "p" * pad})
        args = props + R.shortstr("PLAIN") + R.longstr(b"\x00guest\x00guest") + R.shortstr("en_US")
        return struct.pack(">HH", *R.CONNECTION_START_OK) + args
    pad = payload_size - len(build(0))
    assert pad >= 0
    payload = build(pad)
    assert len(payload) == payload_size
    return R.frame(R.FRAME_METHOD, 0, payload)


def frame_too_large_text(ftype: int, size: int) -> str:
    return f"FRAME_ERROR - type {ftype}, all octets = <<>>: {{frame_too_large,{size},{FRAME_MAX - 8}}}"


def size_text(size: int) -> str:
    return f"PRECONDITION_FAILED - message size {size} is larger than configured max size {MAX_MSG}"


def get_one(ch, queue: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is not None or time.monotonic() > deadline:
            return method, props, body
        time.sleep(0.01)


# ---------------------------------------------------------------- handshake_timeout

def test_handshake_timeout_silent_socket_is_closed(clients):
    t0 = time.monotonic()
    s = clients.sock()
    data, secs = wait_closed(s, timeout=10, since=t0)
    assert data == b""
    assert 1.0 <= secs < 10, secs


def test_handshake_timeout_no_start_ok_is_closed_without_close_frame(clients):
    t0 = time.monotonic()
    raw = clients.raw()
    raw.start()  # protocol header -> connection.start; never answered
    data, secs = raw_wait_closed(raw, timeout=10, since=t0)
    assert data == b""  # no connection.close, just a closed socket
    assert 1.0 <= secs < 10, secs


def test_handshake_timeout_no_tune_ok_is_closed_without_close_frame(clients):
    t0 = time.monotonic()
    raw = clients.raw()
    raw.start()
    raw.start_ok()
    assert raw.read_tune() == (CHANNEL_MAX, FRAME_MAX, 60)
    data, secs = raw_wait_closed(raw, timeout=10, since=t0)
    assert data == b""
    assert 1.0 <= secs < 10, secs


def test_handshake_timeout_no_connection_open_is_closed_without_close_frame(clients):
    t0 = time.monotonic()
    raw = clients.raw()
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(CHANNEL_MAX, FRAME_MAX, 0)
    data, secs = raw_wait_closed(raw, timeout=10, since=t0)
    assert data == b""
    assert 1.0 <= secs < 10, secs


def test_handshake_timeout_is_one_deadline_from_connect_not_per_step(clients):
    """Protocol header only after 1.6 s, then start-ok and tune-ok at once: the socket is dropped ~2 s
    after connecting (a per-step timer would allow until >= 3.6 s)."""
    t0 = time.monotonic()
    raw = clients.raw()
    time.sleep(1.6)
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(CHANNEL_MAX, FRAME_MAX, 0)
    data, secs = raw_wait_closed(raw, timeout=10, since=t0)
    assert data == b""
    assert 1.5 <= secs < 3.4, secs


def test_handshake_timeout_does_not_touch_an_open_connection(clients):
    raw = handshake_raw(clients)
    time.sleep(HANDSHAKE_TIMEOUT_S + 0.8)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK


# ---------------------------------------------------------------- max_message_size

def test_max_message_size_exactly_the_limit_is_accepted(clients):
    conn = clients.pika()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    body = bytes(range(256)) * (MAX_MSG // 256)
    assert len(body) == MAX_MSG
    # properties do not count towards the limit
    ch.basic_publish("", q, body, properties=pika.BasicProperties(headers={"pad": "h" * 5000}))
    method, props, got = get_one(ch, q)
    assert method is not None, "message of exactly max_message_size bytes was not enqueued"
    assert got == body
    assert props.headers == {"pad": "h" * 5000}


def test_max_message_size_one_over_closes_channel_406_connection_survives(clients):
    conn = clients.pika()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    with channel_closed(406, size_text(MAX_MSG + 1)):
        ch.basic_publish("", q, b"o" * (MAX_MSG + 1))
        sync(ch)
    assert conn.is_open
    ch2 = conn.channel()
    assert ch2.queue_declare(q, passive=True).method.message_count == 0
    ch2.basic_publish("", q, b"small")
    method, _props, got = get_one(ch2, q)
    assert got == b"small"


def test_max_message_size_checked_after_the_last_body_frame(clients):
    raw = handshake_raw(clients, timeout=15)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send(publish_method(1, "", "nowhere") + content_header(1, MAX_MSG + 1))
    # Only the content header announcing limit + 1 bytes: no reply yet.
    assert_silent(raw.sock, 1.0)
    body = b"b" * (MAX_MSG + 1)
    step = FRAME_MAX - 8
    frames = b"".join(R.frame(R.FRAME_BODY, 1, body[i:i + step]) for i in range(0, len(body), step))
    raw.send(frames[:-100])  # all but the tail of the last body frame: still nothing
    assert_silent(raw.sock, 0.5)
    raw.send(frames[-100:])
    f = raw.read_frame()
    assert f.method == R.CHANNEL_CLOSE and f.channel == 1, f
    assert f.close_info() == (406, size_text(MAX_MSG + 1), 60, 40)
    raw.send_method(1, R.CHANNEL_CLOSE_OK)
    # the connection is fine: a new channel works
    assert raw.channel_open(2).method == R.CHANNEL_OPEN_OK


def test_max_message_size_is_checked_before_the_exchange_exists(clients):
    raw = handshake_raw(clients, timeout=15)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send(R.publish_frames(1, "conf.no-such-exchange", "k", b"x" * (MAX_MSG + 1), frame_max=FRAME_MAX))
    f = raw.read_frame()
    assert f.method == R.CHANNEL_CLOSE and f.channel == 1, f
    assert f.close_info() == (406, size_text(MAX_MSG + 1), 60, 40)


# ---------------------------------------------------------------- frame_max

def test_frame_max_is_offered_in_tune(clients):
    raw = clients.raw()
    raw.start()
    raw.start_ok()
    assert raw.read_tune() == (CHANNEL_MAX, FRAME_MAX, 60)


def test_frame_max_payload_equal_to_frame_max_is_accepted(clients):
    """RabbitMQ checks payload size > frame_max (not frame size): a body frame whose payload is exactly
    frame_max bytes (8200 bytes on the wire) is accepted."""
    raw = handshake_raw(clients)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    q = raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()
    body = b"f" * FRAME_MAX
    raw.send(publish_method(1, "", q) + content_header(1, len(body)) + R.frame(R.FRAME_BODY, 1, body))
    raw.send_method(1, R.BASIC_GET, struct.pack(">H", 0) + R.shortstr(q) + b"\x01")
    f = raw.read_frame()
    assert f.method == R.BASIC_GET_OK, f
    _props, got = raw.read_content(1)
    assert got == body


def test_frame_max_body_frame_one_over_is_501_with_text(clients):
    raw = handshake_raw(clients)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    size = FRAME_MAX + 1
    raw.send(publish_method(1, "", "nowhere") + content_header(1, size) + R.frame(R.FRAME_BODY, 1, b"x" * size))
    expect_connection_close(raw, 501, frame_too_large_text(R.FRAME_BODY, size), class_method=(0, 0), timeout=10)


def test_frame_max_judged_from_the_frame_header_alone(clients):
    """A method frame header announcing 1,000,000 bytes, and nothing else: refused at once."""
    raw = handshake_raw(clients)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send(struct.pack(">BHI", R.FRAME_METHOD, 1, 1_000_000))
    raw.sock.settimeout(5)
    expect_connection_close(raw, 501, frame_too_large_text(R.FRAME_METHOD, 1_000_000), class_method=(0, 0),
                            timeout=10)


def test_frame_max_before_tune_is_4096_start_ok_of_4096_bytes_accepted(clients):
    raw = clients.raw()
    raw.start()
    raw.send(start_ok_frame(4096))
    assert raw.read_tune() == (CHANNEL_MAX, FRAME_MAX, 60)


def test_frame_max_before_tune_is_4096_start_ok_of_4097_bytes_closes_silently(clients):
    raw = clients.raw()
    raw.start()
    t0 = time.monotonic()
    raw.send(start_ok_frame(4097))
    data, secs = raw_wait_closed(raw, timeout=10, since=t0)
    assert data == b""  # no connection.tune, no connection.close
    assert secs < 10


def test_frame_max_before_auth_100mb_frame_closed_without_reading_it(clients):
    raw = clients.raw()
    raw.start()
    declared = 100 * 1024 * 1024
    sent = [0]
    errors: list = []

    def push():
        chunk = b"\x00" * 65536
        try:
            raw.sock.sendall(struct.pack(">BHI", R.FRAME_METHOD, 0, declared)
                             + struct.pack(">HH", *R.CONNECTION_START_OK))
            while sent[0] < declared:
                n = min(len(chunk), declared - sent[0])
                raw.sock.sendall(chunk[:n])
                sent[0] += n
        except OSError as e:
            errors.append(e)

    t0 = time.monotonic()
    pusher = threading.Thread(target=push, name="push-100mb", daemon=True)
    pusher.start()
    data, secs = raw_wait_closed(raw, timeout=10, since=t0)
    pusher.join(timeout=5)
    assert data == b""
    assert secs < 10
    assert not pusher.is_alive() and errors, "the client could still send after the server closed"
    assert sent[0] < declared // 2, f"server read {sent[0]} bytes of a frame it should have refused"


# ---------------------------------------------------------------- channel_max

def test_channel_max_ninth_channel_is_530(clients):
    raw = handshake_raw(clients)
    assert raw.tune[0] == CHANNEL_MAX
    for ch in range(1, CHANNEL_MAX + 1):
        assert raw.channel_open(ch).method == R.CHANNEL_OPEN_OK, ch
    raw.send_method(CHANNEL_MAX + 1, R.CHANNEL_OPEN, R.shortstr(""))
    expect_connection_close(
        raw, 530, "NOT_ALLOWED - number of channels opened (8) has reached the negotiated channel_max (8)",
        class_method=(0, 0))


def test_channel_max_counts_open_channels_not_channel_numbers(clients):
    raw = handshake_raw(clients)
    # channel numbers far above channel_max are fine while fewer than 8 are open
    numbers = [9, 100, 2047, 2048, 65535, 1, 2, 3]
    for ch in numbers:
        assert raw.channel_open(ch).method == R.CHANNEL_OPEN_OK, ch
    # a closed channel frees its slot
    raw.send_method(100, R.CHANNEL_CLOSE, struct.pack(">H", 200) + R.shortstr("bye") + struct.pack(">HH", 0, 0))
    raw.expect(R.CHANNEL_CLOSE_OK, 100)
    assert raw.channel_open(4000).method == R.CHANNEL_OPEN_OK
    raw.send_method(4001, R.CHANNEL_OPEN, R.shortstr(""))
    expect_connection_close(
        raw, 530, "NOT_ALLOWED - number of channels opened (8) has reached the negotiated channel_max (8)",
        class_method=(0, 0))


def test_tune_ok_above_server_limits_closes_without_close_frame(clients):
    """channel_max 9 / 0 ("no limit") against 8, frame_max 8193 / 0 against 8192: the socket is closed,
    no connection.close is sent (RabbitMQ: ~3 s later)."""
    cases = [(9, FRAME_MAX), (0, FRAME_MAX), (CHANNEL_MAX, FRAME_MAX + 1), (CHANNEL_MAX, 0)]
    raws = []
    for channel_max, frame_max in cases:
        raw = clients.raw()
        raw.start()
        raw.start_ok()
        raw.read_tune()
        raw.tune_ok(channel_max, frame_max, 0)
        raws.append((raw, time.monotonic()))
    for (raw, t0), case in zip(raws, cases):
        data, secs = raw_wait_closed(raw, timeout=10, since=t0)
        assert data == b"", (case, data)
        assert secs < 10, case


def test_tune_ok_lower_than_server_limits_is_enforced(clients):
    raw = clients.raw()
    raw.start()
    raw.start_ok()
    raw.read_tune()
    raw.tune_ok(3, 4096, 0)
    assert raw.open().method == R.CONNECTION_OPEN_OK
    for ch in (1, 2, 3):
        assert raw.channel_open(ch).method == R.CHANNEL_OPEN_OK
    raw.send_method(4, R.CHANNEL_OPEN, R.shortstr(""))
    expect_connection_close(
        raw, 530, "NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)",
        class_method=(0, 0))


# ---------------------------------------------------------------- connection_max

def test_connection_max_sixth_connection_waits_unanswered_until_one_closes(cm_clients):
    conns = []
    for _ in range(CONN_MAX):
        raw = handshake_raw(cm_clients)
        assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
        conns.append(raw)
    sixth = cm_clients.raw(timeout=10)  # TCP connect succeeds (backlog)...
    sixth.send(R.PROTOCOL_HEADER)
    assert_silent(sixth.sock, 2.5)  # ...but nothing answers, and nothing closes it
    # the five are unaffected
    for raw in conns:
        assert raw.channel_open(2).method == R.CHANNEL_OPEN_OK
    # one goes away (clean close): the waiting client is accepted and served
    first = conns.pop(0)
    first.connection_close()
    first.expect(R.CONNECTION_CLOSE_OK, 0)
    first.close()
    sixth.sock.settimeout(10)
    f = sixth.expect(R.CONNECTION_START, 0)
    assert f.channel == 0
    sixth.start_ok()
    sixth.tune_ok(*sixth.read_tune()[:2], 0)
    assert sixth.open().method == R.CONNECTION_OPEN_OK
    assert sixth.channel_open(1).method == R.CHANNEL_OPEN_OK
    # full again: a 7th waits too; an abrupt disconnect frees a slot as well
    seventh = cm_clients.raw(timeout=10)
    seventh.send(R.PROTOCOL_HEADER)
    assert_silent(seventh.sock, 1.0)
    conns.pop(0).close()
    seventh.sock.settimeout(10)
    seventh.expect(R.CONNECTION_START, 0)


def test_connection_max_unauthenticated_sockets_count(cm_clients):
    """Five silent sockets take all slots; a real client is served only once handshake_timeout has
    dropped them."""
    t0 = time.monotonic()
    idle = [cm_clients.sock() for _ in range(CONN_MAX)]
    time.sleep(0.2)
    client = cm_clients.raw(timeout=10)
    client.send(R.PROTOCOL_HEADER)
    assert_silent(client.sock, 1.0)
    client.sock.settimeout(10)
    client.expect(R.CONNECTION_START, 0)
    waited = time.monotonic() - t0
    assert 1.0 <= waited < 8, waited
    for s in idle:  # they were the ones dropped
        data, _secs = wait_closed(s, timeout=5)
        assert data == b""
    client.start_ok()
    client.tune_ok(*client.read_tune()[:2], 0)
    assert client.open().method == R.CONNECTION_OPEN_OK


# ---------------------------------------------------------------- slow clients

class _Tricklers:
    """n sockets each sending the protocol header + a start-ok one byte per `gap` seconds, reconnecting
    whenever the server drops them (one thread drives them all)."""

    def __init__(self, broker, n: int, gap: float = 0.1):
        self.broker, self.n, self.gap = broker, n, gap
        self.payload = R.PROTOCOL_HEADER + start_ok_frame(200)
        self.stop = threading.Event()
        self.dropped = 0
        self.connects = 0
        self.errors: list = []
        self.thread = threading.Thread(target=self._run, name="tricklers", daemon=True)

    def _connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((self.broker.host, self.broker.port))
        except BlockingIOError:
            pass
        self.connects += 1
        return [s, 0]

    def _run(self):
        socks = []
        try:
            for _ in range(self.n):
                socks.append(self._connect())
            while not self.stop.wait(self.gap):
                for i, (s, pos) in enumerate(socks):
                    try:
                        try:
                            while s.recv(65536):
                                pass  # connection.start: drain it
                            raise ConnectionResetError("EOF")
                        except BlockingIOError:
                            pass
                        if pos < len(self.payload):
                            s.send(self.payload[pos:pos + 1])
                            socks[i][1] = pos + 1
                    except BlockingIOError:
                        pass  # connect still in progress
                    except OSError:
                        self.dropped += 1
                        s.close()
                        socks[i] = self._connect()
        except Exception as e:  # pragma: no cover - reported by the test
            self.errors.append(e)
        finally:
            for s, _ in socks:
                s.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.mark.timeout(60)
def test_slow_and_stalled_clients_do_not_slow_a_normal_client(clients, lb):
    # Authenticated clients stalled mid-frame / mid-message.
    stalled = []
    for i in range(4):
        raw = handshake_raw(clients)
        assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
        stalled.append(raw)
    # a method frame header announcing 8000 bytes, 10 sent
    stalled[0].send(struct.pack(">BHI", R.FRAME_METHOD, 1, 8000) + b"\x00" * 10)
    # a publish whose content header announces 1 MB, then half a body frame
    stalled[1].send(publish_method(1, "", "nowhere") + content_header(1, MAX_MSG)
                    + struct.pack(">BHI", R.FRAME_BODY, 1, FRAME_MAX - 8) + b"b" * 4000)
    # a publish whose content header announces 1 MB, then three full body frames
    stalled[2].send(publish_method(1, "", "nowhere") + content_header(1, MAX_MSG)
                    + R.frame(R.FRAME_BODY, 1, b"b" * (FRAME_MAX - 8)) * 3)
    # half a frame header
    stalled[3].send(b"\x01\x00\x01")

    conn = clients.pika()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    with _Tricklers(lb, 50) as tricklers:
        time.sleep(0.5)  # let them connect and start trickling
        rtts = []
        t_start = time.monotonic()
        while len(rtts) < 100 or time.monotonic() - t_start < 3.0:
            body = b"rt%d" % len(rtts)
            t0 = time.monotonic()
            ch.basic_publish("", q, body)
            method, _props, got = get_one(ch, q, timeout=5)
            rtts.append(time.monotonic() - t0)
            assert got == body
            time.sleep(0.01)
    assert not tricklers.errors, tricklers.errors
    median, worst = statistics.median(rtts), max(rtts)
    print(f"{len(rtts)} round trips: median {median * 1000:.1f} ms, max {worst * 1000:.1f} ms; "
          f"tricklers: {tricklers.connects} connects, {tricklers.dropped} dropped by the server")
    assert median < 0.05, f"median round trip {median * 1000:.1f} ms"
    assert worst < 1.0, f"worst round trip {worst * 1000:.1f} ms"
    # the stalled clients are still connected (authenticated, heartbeat 0: nothing times them out)
    for raw in stalled:
        assert_silent(raw.sock, 0.05)

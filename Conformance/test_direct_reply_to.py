"""Direct reply-to (`amq.rabbitmq.reply-to`): the RPC round trip without a reply queue, the
consume/cancel rules of the pseudo-queue, the errors, what happens to replies that cannot be
delivered, and how the pseudo-queue answers queue.* and basic.get.

RabbitMQ 3.10 facts asserted here:
* basic.consume on `amq.rabbitmq.reply-to` with no-ack=true gives consume-ok; an explicit tag is
  kept, an empty tag becomes `amq.ctag-` + 22 base64url characters (like ordinary consumers).
  The `exclusive` flag is ignored; nowait consume sets the consumer without consume-ok.
* A publish whose reply_to property is exactly `amq.rabbitmq.reply-to` gets it rewritten to
  `amq.rabbitmq.reply-to.<opaque>`: the same name for every publish on that channel while its
  reply consumer lives; other channels (and the same channel after cancel + consume) get another
  name. The rest of the properties are untouched. The rewrite is also what a basic.return of that
  request carries. reply_to `amq.rabbitmq.reply-to.x` or any other case is not touched.
* A reply is a publish to the default exchange with routing key = that name. It is delivered as
  basic.deliver(consumer-tag of the reply consumer, exchange '', routing key = the publish's
  routing key, i.e. the full name, redelivered false) with properties and body unchanged,
  regardless of basic.qos (also with a prefetch-full ordinary consumer on the channel).
* Quirk: the reply's delivery tag is the channel's *next* delivery tag, which is not consumed: three
  replies on a fresh channel all carry tag 1, a following basic.get also gets tag 1. Acking it on a
  channel with nothing unacked is 406 `PRECONDITION_FAILED - unknown delivery tag 1`.
* Errors (channel close, class 60 method 20 for consume, 60/40 for publish):
  no-ack=false: 406 `PRECONDITION_FAILED - reply consumer cannot acknowledge` (checked before
  "already set"); second reply consume on the channel: 406 `PRECONDITION_FAILED - reply consumer
  already set`; publishing with reply_to `amq.rabbitmq.reply-to` on a channel without a reply
  consumer (also: consumer on another channel of the connection, after cancel, in tx mode at publish
  time): 406 `PRECONDITION_FAILED - fast reply consumer does not exist` (a missing exchange's 404
  wins). A reply consume reusing an ordinary consumer's tag: **connection** 530
  `NOT_ALLOWED - attempt to reuse consumer tag 't'`; the reverse (ordinary consume with the reply
  consumer's tag) is accepted.
* basic.cancel of the reply consumer: cancel-ok with its tag; the slot is free again.
* queue.declare of `amq.rabbitmq.reply-to`, passive or not, whatever flags/arguments: declare-ok
  (name, message_count 0, consumer_count 1), on any channel. queue.declare (passive or not) of
  `amq.rabbitmq.reply-to.<name>` of a live reply consumer (asked from another channel): declare-ok
  (name, 0, 1); of a cancelled/closed/garbage one, and of any other name starting with
  `amq.rabbitmq.reply-to` (e.g. `amq.rabbitmq.reply-tox`): 404 `NOT_FOUND - no queue '<name>' in
  vhost '/'` (not the 403 reserved-prefix error, which `amq.rabbitmq.reply` does get).
* basic.get, queue.bind, queue.purge, basic.consume on the pseudo-queue or a full reply name: 404
  `NOT_FOUND - no queue '<name>' in vhost '/'`. queue.delete of either: delete-ok 0, and a live
  reply consumer keeps working.
* A reply for a cancelled/closed reply consumer or a garbage suffix is dropped silently. With
  mandatory=true **every** direct reply is returned 312 `NO_ROUTE` (exchange '', routing key the
  name) -- also when it *was* delivered. In confirm mode replies are acked (after the return).
* Only the default exchange reaches a reply consumer: via amq.direct the reply is unroutable.
* A `CC` header naming a reply name delivers there too, with the publish's own routing key.
* Quirk: a reply published in a tx channel is delivered at publish time; tx.rollback doesn't stop it.

Deliberately not asserted (RabbitMQ 3.10 crashes the connection with 541 `INTERNAL_ERROR`, class 0
method 0): publishing to, or declaring, `amq.rabbitmq.reply-to.A.B` whose A.B does not decode (e.g.
`a.b`, `AAAA.x`; dot-less garbage and `x.` are fine), and a channel declaring its *own* reply name.
"""

import re
import struct
import time

import pika
import pika.exceptions
import pytest

import amqpraw as R
from util import Collector, channel_closed, declare_temp_queue, settle, sync, wait_until

RT = "amq.rabbitmq.reply-to"
PREFIX = RT + "."
BASIC_CANCEL = (60, 30)
BASIC_CANCEL_OK = (60, 31)


def _no_queue(name: str) -> str:
    return f"NOT_FOUND - no queue '{name}' in vhost '/'"


def _requester(conn, **consume_kw):
    """A channel consuming the pseudo-queue (no-ack) -> (channel, collector, consumer tag)."""
    ch = conn.channel()
    col = Collector()
    tag = ch.basic_consume(RT, col, auto_ack=True, **consume_kw)
    return ch, col, tag


def _get(ch, q, timeout: float = 2.0):
    """basic.get (auto-ack) until a message arrives -> (method, props, body)."""
    deadline = time.monotonic() + timeout
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is not None or time.monotonic() > deadline:
            return m, p, b
        time.sleep(0.01)


def _request(req_ch, srv_ch, q, body=b"req", **props):
    """Requester publishes a request with reply_to=amq.rabbitmq.reply-to to q; the server takes it
    -> (props seen by the server, body)."""
    req_ch.basic_publish("", q, body, pika.BasicProperties(reply_to=RT, **props))
    m, p, b = _get(srv_ch, q)
    assert m is not None, "request did not arrive"
    return p, b


def _reply_name(req_ch, srv_ch):
    q = declare_temp_queue(srv_ch)
    return _request(req_ch, srv_ch, q)[0].reply_to


def _returns(ch) -> list:
    out = []
    ch.add_on_return_callback(lambda _c, method, props, body: out.append((method, props, body)))
    return out


def _raw_channel(raw_connect, timeout: float = 3.0):
    raw = raw_connect(timeout=timeout)
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    return raw


def _raw_consume(raw, queue=RT, tag="", no_ack=True, **kw) -> str:
    raw.send_method(1, R.BASIC_CONSUME, R.basic_consume_args(queue, tag, no_ack=no_ack, **kw))
    return raw.expect(R.BASIC_CONSUME_OK, 1).args().shortstr()


def _raw_request_props() -> bytes:
    """Basic property flags + list carrying only reply_to = amq.rabbitmq.reply-to."""
    return struct.pack(">H", 1 << 9) + R.shortstr(RT)


def _raw_deliver(raw):
    """Read a basic.deliver -> (consumer_tag, delivery_tag, redelivered, exchange, routing_key, body)."""
    f = raw.expect(R.BASIC_DELIVER, 1)
    r = f.args()
    out = (r.shortstr(), r.longlong(), bool(r.octet() & 1), r.shortstr(), r.shortstr())
    _props, body = raw.read_content(1)
    return out + (body,)


# ---------------------------------------------------------------- the round trip

def test_reply_to_is_rewritten_to_a_per_channel_name(pika_connect):
    req, srv = pika_connect(), pika_connect().channel()
    a, _col_a, _ = _requester(req)
    b, _col_b, _ = _requester(req)
    q = declare_temp_queue(srv)
    pa, _ = _request(a, srv, q, correlation_id="c1", content_type="application/json")
    pa2, _ = _request(a, srv, q)
    pb, _ = _request(b, srv, q)
    assert pa.reply_to.startswith(PREFIX) and len(pa.reply_to) > len(PREFIX)
    assert pb.reply_to.startswith(PREFIX)
    assert pa2.reply_to == pa.reply_to, "same channel, same consumer: same name"
    assert pb.reply_to != pa.reply_to, "another channel: another name"
    assert (pa.correlation_id, pa.content_type) == ("c1", "application/json")


def test_reply_from_another_connection_is_delivered_to_the_reply_consumer(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, tag = _requester(req)
    q = declare_temp_queue(srv)
    p, body = _request(ch, srv, q, b"ping", correlation_id="abc")
    assert body == b"ping"
    srv.basic_publish("", p.reply_to, b"pong", pika.BasicProperties(correlation_id=p.correlation_id))
    assert wait_until(req, lambda: len(col) == 1)
    m, props, body = col.messages[0]
    assert (m.consumer_tag, m.exchange, m.routing_key, m.redelivered) == (tag, "", p.reply_to, False)
    assert (props.correlation_id, body) == ("abc", b"pong")


def test_several_requests_and_replies_arrive_in_order(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    q = declare_temp_queue(srv)
    for i in range(5):
        ch.basic_publish("", q, b"req%d" % i, pika.BasicProperties(reply_to=RT, correlation_id=str(i)))
    seen = []
    for _ in range(5):
        _m, p, b = _get(srv, q)
        seen.append(b)
        srv.basic_publish("", p.reply_to, b"rep-" + b, pika.BasicProperties(correlation_id=p.correlation_id))
    assert seen == [b"req%d" % i for i in range(5)]
    assert wait_until(req, lambda: len(col) == 5)
    assert col.bodies == [b"rep-req%d" % i for i in range(5)]
    assert [m[1].correlation_id for m in col.messages] == [str(i) for i in range(5)]


def test_reply_from_the_same_connection_and_the_same_channel(pika_conn):
    ch, col, _ = _requester(pika_conn)
    srv = pika_conn.channel()
    name = _reply_name(ch, srv)
    srv.basic_publish("", name, b"from-other-channel")
    ch.basic_publish("", name, b"from-own-channel")
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert col.bodies == [b"from-other-channel", b"from-own-channel"]
    assert all(m.routing_key == name and m.exchange == "" for m, _p, _b in col.messages)


def test_each_channel_gets_only_its_own_replies(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    a, col_a, _ = _requester(req)
    b, col_b, _ = _requester(req)
    na, nb = _reply_name(a, srv), _reply_name(b, srv)
    srv.basic_publish("", nb, b"for-b")
    srv.basic_publish("", na, b"for-a")
    assert wait_until(req, lambda: len(col_a) == 1 and len(col_b) == 1)
    settle(req, 0.2)
    assert (col_a.bodies, col_b.bodies) == ([b"for-a"], [b"for-b"])


def test_reply_properties_and_body_arrive_unchanged(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    props = pika.BasicProperties(
        content_type="text/plain", content_encoding="utf-8", headers={"k": "v", "n": 7},
        delivery_mode=2, priority=3, correlation_id="corr", reply_to="somewhere",
        expiration="60000", message_id="mid", timestamp=1234567890, type="t", user_id="guest",
        app_id="app")
    body = bytes(range(256)) * 1000  # several frames
    srv.basic_publish("", name, body, props)
    assert wait_until(req, lambda: len(col) == 1)
    _m, p, b = col.messages[0]
    assert b == body
    got = {k: getattr(p, k) for k in ("content_type", "content_encoding", "headers", "delivery_mode",
                                      "priority", "correlation_id", "reply_to", "expiration",
                                      "message_id", "timestamp", "type", "user_id", "app_id")}
    assert got == {"content_type": "text/plain", "content_encoding": "utf-8", "headers": {"k": "v", "n": 7},
                   "delivery_mode": 2, "priority": 3, "correlation_id": "corr", "reply_to": "somewhere",
                   "expiration": "60000", "message_id": "mid", "timestamp": 1234567890, "type": "t",
                   "user_id": "guest", "app_id": "app"}


def test_reply_with_raw_frames_deliver_fields(raw_connect, pika_channel):
    raw = _raw_channel(raw_connect)
    tag = _raw_consume(raw)
    q = declare_temp_queue(pika_channel)
    raw.send(R.publish_frames(1, "", q, b"req", props=_raw_request_props()))
    _m, p, _b = _get(pika_channel, q)
    pika_channel.basic_publish("", p.reply_to, b"rep")
    assert _raw_deliver(raw) == (tag, 1, False, "", p.reply_to, b"rep")


def test_only_an_exact_amq_rabbitmq_reply_to_is_rewritten(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    q = declare_temp_queue(srv)
    for value in (PREFIX + "x", "AMQ.rabbitmq.reply-to", "amq.rabbitmq.reply-to ", "other"):
        ch.basic_publish("", q, b"r", pika.BasicProperties(reply_to=value))
        assert _get(srv, q)[1].reply_to == value


def test_reply_to_may_be_set_without_a_consumer_when_not_exactly_the_pseudo_queue(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"r", pika.BasicProperties(reply_to=PREFIX + "abc"))
    pika_channel.basic_publish("", q, b"r", pika.BasicProperties(reply_to="AMQ.rabbitmq.reply-to"))
    sync(pika_channel)
    assert pika_channel.queue_declare(q, passive=True).method.message_count == 2


def test_returned_request_carries_the_rewritten_reply_to(pika_conn, unique_name):
    ch, _col, _ = _requester(pika_conn)
    returned = _returns(ch)
    ch.basic_publish("amq.direct", unique_name, b"req", pika.BasicProperties(reply_to=RT), mandatory=True)
    assert wait_until(pika_conn, lambda: returned)
    method, props, body = returned[0]
    assert (method.reply_code, method.reply_text, method.exchange, method.routing_key) == \
        (312, "NO_ROUTE", "amq.direct", unique_name)
    assert props.reply_to.startswith(PREFIX) and body == b"req"
    srv = pika_conn.channel()
    assert props.reply_to == _reply_name(ch, srv)


# ---------------------------------------------------------------- consume / cancel

def test_consume_keeps_an_explicit_consumer_tag(pika_conn):
    _ch, _col, tag = _requester(pika_conn, consumer_tag="my-reply-tag")
    assert tag == "my-reply-tag"


def test_consume_with_empty_tag_gets_a_server_generated_amq_ctag(raw_connect):
    raw = _raw_channel(raw_connect)
    tag = _raw_consume(raw)
    assert re.fullmatch(r"amq\.ctag-[A-Za-z0-9_-]{22}", tag), tag


def test_consume_exclusive_flag_is_accepted(raw_connect):
    raw = _raw_channel(raw_connect)
    assert _raw_consume(raw, tag="x", exclusive=True) == "x"


def test_consume_nowait_sets_the_consumer_without_consume_ok(raw_connect, pika_channel):
    raw = _raw_channel(raw_connect)
    raw.send_method(1, R.BASIC_CONSUME, R.basic_consume_args(RT, "nw", no_ack=True, nowait=True))
    q = declare_temp_queue(pika_channel)
    raw.send(R.publish_frames(1, "", q, b"req", props=_raw_request_props()))
    _m, p, _b = _get(pika_channel, q)
    assert p.reply_to.startswith(PREFIX)
    pika_channel.basic_publish("", p.reply_to, b"rep")
    # the first frame back is the delivery: there was no consume-ok and no channel.close
    assert _raw_deliver(raw) == ("nw", 1, False, "", p.reply_to, b"rep")


def test_cancel_reply_consumer_gets_cancel_ok(raw_connect):
    raw = _raw_channel(raw_connect)
    tag = _raw_consume(raw)
    raw.send_method(1, BASIC_CANCEL, R.shortstr(tag) + b"\x00")
    assert raw.expect(BASIC_CANCEL_OK, 1).args().shortstr() == tag


def test_cancel_then_consume_again_gives_a_new_name_and_drops_replies_to_the_old(raw_connect, pika_channel):
    raw = _raw_channel(raw_connect)
    q = declare_temp_queue(pika_channel)

    def name():
        raw.send(R.publish_frames(1, "", q, b"req", props=_raw_request_props()))
        return _get(pika_channel, q)[1].reply_to

    t1 = _raw_consume(raw, tag="one")
    n1 = name()
    raw.send_method(1, BASIC_CANCEL, R.shortstr(t1) + b"\x00")
    raw.expect(BASIC_CANCEL_OK, 1)
    _raw_consume(raw, tag="two")
    n2 = name()
    assert n1 != n2 and n2.startswith(PREFIX)
    pika_channel.basic_publish("", n1, b"to-old")
    pika_channel.basic_publish("", n2, b"to-new")
    assert _raw_deliver(raw) == ("two", 1, False, "", n2, b"to-new")


def test_after_cancel_publishing_with_reply_to_is_406(pika_conn):
    ch, _col, tag = _requester(pika_conn)
    ch.basic_cancel(tag)
    with channel_closed(406, "PRECONDITION_FAILED - fast reply consumer does not exist"):
        ch.basic_publish("", "anything", b"x", pika.BasicProperties(reply_to=RT))
        sync(ch)


def test_cancel_of_unknown_tag_after_cancel_is_still_ok(raw_connect):
    raw = _raw_channel(raw_connect)
    _raw_consume(raw, tag="t")
    for _ in range(2):
        raw.send_method(1, BASIC_CANCEL, R.shortstr("t") + b"\x00")
        assert raw.expect(BASIC_CANCEL_OK, 1).args().shortstr() == "t"


# ---------------------------------------------------------------- errors

def test_consume_with_ack_mode_is_406_reply_consumer_cannot_acknowledge(raw_connect):
    raw = _raw_channel(raw_connect)
    raw.send_method(1, R.BASIC_CONSUME, R.basic_consume_args(RT, "", no_ack=False))
    f = raw.expect(R.CHANNEL_CLOSE, 1)
    assert f.close_info() == (406, "PRECONDITION_FAILED - reply consumer cannot acknowledge", 60, 20)


def test_consume_with_ack_mode_pika(pika_channel):
    with channel_closed(406, "PRECONDITION_FAILED - reply consumer cannot acknowledge"):
        pika_channel.basic_consume(RT, lambda *a: None, auto_ack=False)


def test_consume_twice_on_a_channel_is_406_reply_consumer_already_set(raw_connect):
    raw = _raw_channel(raw_connect)
    _raw_consume(raw, tag="t")
    raw.send_method(1, R.BASIC_CONSUME, R.basic_consume_args(RT, "t2", no_ack=True))
    f = raw.expect(R.CHANNEL_CLOSE, 1)
    assert f.close_info() == (406, "PRECONDITION_FAILED - reply consumer already set", 60, 20)


def test_consume_twice_with_ack_mode_reports_cannot_acknowledge_first(pika_channel):
    pika_channel.basic_consume(RT, lambda *a: None, auto_ack=True)
    with channel_closed(406, "PRECONDITION_FAILED - reply consumer cannot acknowledge"):
        pika_channel.basic_consume(RT, lambda *a: None, auto_ack=False)


def test_consume_on_two_channels_of_one_connection_is_fine(pika_conn):
    _a, _ca, ta = _requester(pika_conn)
    _b, _cb, tb = _requester(pika_conn)
    assert ta and tb


def test_publish_with_reply_to_without_reply_consumer_is_406(raw_connect):
    raw = _raw_channel(raw_connect)
    raw.send(R.publish_frames(1, "", "anything", b"req", props=_raw_request_props()))
    f = raw.expect(R.CHANNEL_CLOSE, 1)
    assert f.close_info() == (406, "PRECONDITION_FAILED - fast reply consumer does not exist", 60, 40)


def test_publish_with_reply_to_when_the_consumer_is_on_another_channel_is_406(pika_conn):
    _requester(pika_conn)
    other = pika_conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - fast reply consumer does not exist"):
        other.basic_publish("", "anything", b"x", pika.BasicProperties(reply_to=RT))
        sync(other)


def test_publish_with_reply_to_without_consumer_in_tx_fails_at_publish(pika_channel):
    pika_channel.tx_select()
    with channel_closed(406, "PRECONDITION_FAILED - fast reply consumer does not exist"):
        pika_channel.basic_publish("", "anything", b"x", pika.BasicProperties(reply_to=RT))
        sync(pika_channel)


def test_missing_exchange_404_wins_over_missing_reply_consumer(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no exchange '{unique_name}' in vhost '/'"):
        pika_channel.basic_publish(unique_name, "k", b"x", pika.BasicProperties(reply_to=RT))
        sync(pika_channel)


def test_reply_consume_reusing_an_ordinary_consumer_tag_is_connection_530(raw_connect):
    raw = _raw_channel(raw_connect)
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    q = raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()
    assert _raw_consume(raw, queue=q, tag="t") == "t"
    raw.send_method(1, R.BASIC_CONSUME, R.basic_consume_args(RT, "t", no_ack=True))
    f = raw.expect(R.CONNECTION_CLOSE, 0)
    assert f.close_info() == (530, "NOT_ALLOWED - attempt to reuse consumer tag 't'", 60, 20)


def test_ordinary_consume_may_reuse_the_reply_consumer_tag(raw_connect):
    raw = _raw_channel(raw_connect)
    assert _raw_consume(raw, tag="t") == "t"
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    q = raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()
    assert _raw_consume(raw, queue=q, tag="t") == "t"


def test_channel_error_on_reply_consume_leaves_other_channels_alone(pika_conn):
    ok, col, _ = _requester(pika_conn)
    bad = pika_conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - reply consumer cannot acknowledge"):
        bad.basic_consume(RT, lambda *a: None, auto_ack=False)
    srv = pika_conn.channel()
    name = _reply_name(ok, srv)
    srv.basic_publish("", name, b"still-works")
    assert wait_until(pika_conn, lambda: len(col) == 1)


def test_acking_a_reply_delivery_tag_is_406_unknown_delivery_tag(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    srv.basic_publish("", name, b"rep")
    assert wait_until(req, lambda: len(col) == 1)
    tag = col.messages[0][0].delivery_tag
    assert tag == 1
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 1"):
        ch.basic_ack(tag)
        sync(ch)


# ---------------------------------------------------------------- the pseudo-queue and queue.* / basic.get

def test_passive_declare_of_pseudo_queue_is_declare_ok_0_1_on_any_channel(pika_conn):
    fresh = pika_conn.channel()
    ok = fresh.queue_declare(RT, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (RT, 0, 1)
    ch, _col, _ = _requester(pika_conn)
    ok = ch.queue_declare(RT, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (RT, 0, 1)


@pytest.mark.parametrize("kw", [{}, {"durable": True}, {"exclusive": True, "auto_delete": True},
                                {"arguments": {"x-max-length": 1}}])
def test_non_passive_declare_of_pseudo_queue_is_declare_ok_not_403(pika_channel, kw):
    ok = pika_channel.queue_declare(RT, **kw).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (RT, 0, 1)


def test_declare_nowait_of_pseudo_queue_sends_nothing(raw_connect):
    raw = _raw_channel(raw_connect)
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args(RT, passive=True, nowait=True))
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True))
    f = raw.expect(R.QUEUE_DECLARE_OK, 1)
    assert f.args().shortstr().startswith("amq.gen-")


def test_declare_of_live_reply_name_from_another_channel_is_declare_ok_0_1(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    for passive in (True, False):
        ok = srv.queue_declare(name, passive=passive).method
        assert (ok.queue, ok.message_count, ok.consumer_count) == (name, 0, 1)
    other = req.channel()  # another channel of the requester's own connection
    ok = other.queue_declare(name, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (name, 0, 1)


def test_declare_of_reply_name_after_cancel_is_404(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, tag = _requester(req)
    name = _reply_name(ch, srv)
    ch.basic_cancel(tag)
    with channel_closed(404, _no_queue(name)):
        srv.queue_declare(name, passive=True)


def test_declare_of_reply_name_after_channel_close_is_404(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    ch.close()
    with channel_closed(404, _no_queue(name)):
        srv.queue_declare(name, passive=True)


@pytest.mark.parametrize("name", [PREFIX + "garbage", PREFIX, RT + "x", PREFIX + "x."])
@pytest.mark.parametrize("passive", [True, False])
def test_declare_of_other_reply_to_prefixed_names_is_404_not_403(pika_channel, name, passive):
    with channel_closed(404, _no_queue(name)):
        pika_channel.queue_declare(name, passive=passive)


def test_declare_of_amq_rabbitmq_reply_is_403_reserved_prefix(pika_channel):
    with channel_closed(403, "ACCESS_REFUSED - queue name 'amq.rabbitmq.reply' contains reserved prefix 'amq.*'"):
        pika_channel.queue_declare("amq.rabbitmq.reply")


def test_basic_get_on_pseudo_queue_is_404(pika_channel):
    with channel_closed(404, _no_queue(RT)):
        pika_channel.basic_get(RT)


def test_basic_get_on_live_reply_name_is_404(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    with channel_closed(404, _no_queue(name)):
        srv.basic_get(name)


def test_consume_on_a_full_reply_name_is_404(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    with channel_closed(404, _no_queue(name)):
        srv.basic_consume(name, lambda *a: None, auto_ack=True)


def test_bind_and_purge_of_pseudo_queue_are_404(pika_conn):
    with channel_closed(404, _no_queue(RT)):
        pika_conn.channel().queue_bind(RT, "amq.direct", "k")
    with channel_closed(404, _no_queue(RT)):
        pika_conn.channel().queue_purge(RT)


def test_bind_of_live_reply_name_is_404(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    with channel_closed(404, _no_queue(name)):
        srv.queue_bind(name, "amq.direct", name)


def test_delete_of_pseudo_queue_and_of_live_reply_name_is_delete_ok_and_harmless(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    assert srv.queue_delete(RT).method.message_count == 0
    assert srv.queue_delete(name).method.message_count == 0
    srv.basic_publish("", name, b"after-delete")
    assert wait_until(req, lambda: len(col) == 1)
    assert col.bodies == [b"after-delete"]


# ---------------------------------------------------------------- undeliverable replies, mandatory, confirms

def test_reply_to_closed_requester_channel_is_dropped_silently(pika_connect):
    req = pika_connect()
    srv_conn = pika_connect()
    srv = srv_conn.channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    ch.close()
    returned = _returns(srv)
    srv.basic_publish("", name, b"late")
    settle(srv_conn, 0.3)
    sync(srv)
    assert returned == []


def test_reply_to_closed_channel_does_not_reach_a_new_channel_with_the_same_number(raw_connect, pika_channel):
    raw = _raw_channel(raw_connect)
    _raw_consume(raw, tag="old")
    q = declare_temp_queue(pika_channel)
    raw.send(R.publish_frames(1, "", q, b"req", props=_raw_request_props()))
    old_name = _get(pika_channel, q)[1].reply_to
    raw.send_method(1, R.CHANNEL_CLOSE, struct.pack(">H", 200) + R.shortstr("bye") + struct.pack(">HH", 0, 0))
    raw.expect(R.CHANNEL_CLOSE_OK, 1)
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    _raw_consume(raw, tag="new")
    raw.send(R.publish_frames(1, "", q, b"req", props=_raw_request_props()))
    new_name = _get(pika_channel, q)[1].reply_to
    assert new_name != old_name
    pika_channel.basic_publish("", old_name, b"to-old")
    pika_channel.basic_publish("", new_name, b"to-new")
    assert _raw_deliver(raw) == ("new", 1, False, "", new_name, b"to-new")


def test_reply_to_closed_requester_connection_is_dropped_silently(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    req.close()
    srv.basic_publish("", name, b"late")
    sync(srv)
    assert srv.is_open


@pytest.mark.parametrize("suffix", ["garbage", "", "x."])
def test_reply_to_garbage_name_is_dropped_silently(pika_conn, suffix):
    ch = pika_conn.channel()
    returned = _returns(ch)
    ch.basic_publish("", PREFIX + suffix, b"x")
    settle(pika_conn, 0.2)
    sync(ch)
    assert returned == []


def test_mandatory_reply_to_garbage_name_is_returned_312(pika_conn):
    ch = pika_conn.channel()
    returned = _returns(ch)
    ch.basic_publish("", PREFIX + "garbage", b"x", mandatory=True)
    assert wait_until(pika_conn, lambda: returned)
    m, _p, b = returned[0]
    assert (m.reply_code, m.reply_text, m.exchange, m.routing_key, b) == (312, "NO_ROUTE", "", PREFIX + "garbage", b"x")


def test_mandatory_reply_to_closed_requester_is_returned_312(pika_connect):
    req = pika_connect()
    srv_conn = pika_connect()
    srv = srv_conn.channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    ch.close()
    returned = _returns(srv)
    srv.basic_publish("", name, b"late", mandatory=True)
    assert wait_until(srv_conn, lambda: returned)
    m, _p, b = returned[0]
    assert (m.reply_code, m.reply_text, m.exchange, m.routing_key, b) == (312, "NO_ROUTE", "", name, b"late")


def test_mandatory_reply_to_live_consumer_is_delivered_and_also_returned_312(pika_connect):
    req = pika_connect()
    srv_conn = pika_connect()
    srv = srv_conn.channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    returned = _returns(srv)
    srv.basic_publish("", name, b"both", pika.BasicProperties(correlation_id="c"), mandatory=True)
    assert wait_until(srv_conn, lambda: returned)
    assert wait_until(req, lambda: len(col) == 1)
    m, p, b = returned[0]
    assert (m.reply_code, m.reply_text, m.exchange, m.routing_key) == (312, "NO_ROUTE", "", name)
    assert (p.correlation_id, b) == ("c", b"both")
    assert col.bodies == [b"both"]


def test_mandatory_bare_pseudo_queue_routing_key_is_returned_and_not_delivered(pika_connect):
    req = pika_connect()
    srv_conn = pika_connect()
    srv = srv_conn.channel()
    ch, col, _ = _requester(req)
    _reply_name(ch, srv)
    returned = _returns(srv)
    srv.basic_publish("", RT, b"bare", mandatory=True)
    assert wait_until(srv_conn, lambda: returned)
    m = returned[0][0]
    assert (m.reply_code, m.reply_text, m.exchange, m.routing_key) == (312, "NO_ROUTE", "", RT)
    settle(req, 0.2)
    assert len(col) == 0


def test_confirm_reply_is_acked_and_delivered(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    srv.confirm_delivery()
    srv.basic_publish("", name, b"confirmed")  # raises on nack
    assert wait_until(req, lambda: len(col) == 1)


def test_confirm_reply_to_gone_or_garbage_is_acked(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, _col, _ = _requester(req)
    name = _reply_name(ch, srv)
    ch.close()
    srv.confirm_delivery()
    srv.basic_publish("", name, b"gone")
    srv.basic_publish("", PREFIX + "garbage", b"garbage")


def test_confirm_mandatory_reply_is_returned_then_acked(raw_connect, pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    raw = _raw_channel(raw_connect)
    raw.send_method(1, R.CONFIRM_SELECT, b"\x00")
    raw.expect(R.CONFIRM_SELECT_OK, 1)
    raw.send(R.publish_frames(1, "", name, b"m", mandatory=True))
    f = raw.expect(R.BASIC_RETURN, 1)
    r = f.args()
    assert (r.short(), r.shortstr(), r.shortstr(), r.shortstr()) == (312, "NO_ROUTE", "", name)
    assert raw.read_content(1)[1] == b"m"
    f = raw.expect(R.BASIC_ACK, 1)
    r = f.args()
    assert (r.longlong(), r.octet()) == (1, 0)
    assert wait_until(req, lambda: len(col) == 1)


def test_pika_confirm_mandatory_reply_raises_unroutable_but_is_delivered(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    srv.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        srv.basic_publish("", name, b"m", mandatory=True)
    assert wait_until(req, lambda: len(col) == 1)


# ---------------------------------------------------------------- only the default exchange reaches it

def test_reply_via_amq_direct_is_unroutable(pika_connect):
    req = pika_connect()
    srv_conn = pika_connect()
    srv = srv_conn.channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    returned = _returns(srv)
    srv.basic_publish("amq.direct", name, b"via-direct", mandatory=True)
    assert wait_until(srv_conn, lambda: returned)
    m = returned[0][0]
    assert (m.reply_code, m.reply_text, m.exchange, m.routing_key) == (312, "NO_ROUTE", "amq.direct", name)
    settle(req, 0.2)
    assert len(col) == 0


def test_cc_header_naming_a_reply_name_delivers_with_the_publish_routing_key(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    q = declare_temp_queue(srv)
    srv.basic_publish("", q, b"cc", pika.BasicProperties(headers={"CC": [name]}))
    assert wait_until(req, lambda: len(col) == 1)
    m, p, b = col.messages[0]
    assert (m.exchange, m.routing_key, b) == ("", q, b"cc")
    assert p.headers == {"CC": [name]}
    assert _get(srv, q)[2] == b"cc"


# ---------------------------------------------------------------- qos, confirms and tx around the requester

def test_replies_ignore_prefetch_of_the_requester_channel(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch = req.channel()
    ch.basic_qos(prefetch_count=1)
    # fill the prefetch window with an unacked ordinary delivery
    q = declare_temp_queue(ch)
    ch.basic_publish("", q, b"held")
    held = Collector()
    ch.basic_consume(q, held, auto_ack=False)
    assert wait_until(req, lambda: len(held) == 1)
    col = Collector()
    ch.basic_consume(RT, col, auto_ack=True)
    name = _reply_name(ch, srv)
    for i in range(5):
        srv.basic_publish("", name, b"r%d" % i)
    assert wait_until(req, lambda: len(col) == 5)
    assert col.bodies == [b"r%d" % i for i in range(5)]


def test_replies_ignore_global_qos(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch = req.channel()
    ch.basic_qos(prefetch_count=1, global_qos=True)
    col = Collector()
    ch.basic_consume(RT, col, auto_ack=True)
    name = _reply_name(ch, srv)
    for i in range(3):
        srv.basic_publish("", name, b"r%d" % i)
    assert wait_until(req, lambda: len(col) == 3)


def test_requester_with_publisher_confirms(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    ch.confirm_delivery()
    q = declare_temp_queue(srv)
    ch.basic_publish("", q, b"req", pika.BasicProperties(reply_to=RT))  # acked, or raises
    _m, p, _b = _get(srv, q)
    assert p.reply_to.startswith(PREFIX)
    srv.basic_publish("", p.reply_to, b"rep")
    assert wait_until(req, lambda: len(col) == 1)
    with pytest.raises(pika.exceptions.UnroutableError) as ei:
        ch.basic_publish("amq.direct", "nowhere", b"req2", pika.BasicProperties(reply_to=RT), mandatory=True)
    assert ei.value.messages[0].properties.reply_to == p.reply_to


def test_reply_delivery_tag_is_the_next_tag_and_is_not_consumed(pika_connect):
    req = pika_connect()
    srv = pika_connect().channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    for i in range(3):
        srv.basic_publish("", name, b"r%d" % i)
    assert wait_until(req, lambda: len(col) == 3)
    q = declare_temp_queue(ch)
    ch.basic_publish("", q, b"a")
    ch.basic_publish("", q, b"b")
    m1, _p, _b = ch.basic_get(q)
    srv.basic_publish("", name, b"r3")
    assert wait_until(req, lambda: len(col) == 4)
    m2, _p, _b = ch.basic_get(q)
    assert col.tags == [1, 1, 1, 2]
    assert (m1.delivery_tag, m2.delivery_tag) == (1, 2)
    ch.basic_ack(2, multiple=True)
    sync(ch)


def test_reply_published_in_tx_is_delivered_at_publish_even_if_rolled_back(pika_connect):
    req = pika_connect()
    srv_conn = pika_connect()
    srv = srv_conn.channel()
    ch, col, _ = _requester(req)
    name = _reply_name(ch, srv)
    srv.tx_select()
    srv.basic_publish("", name, b"tx1")
    assert wait_until(req, lambda: len(col) == 1)
    srv.tx_rollback()
    srv.basic_publish("", name, b"tx2")
    srv.tx_commit()
    assert wait_until(req, lambda: len(col) == 2)
    assert col.bodies == [b"tx1", b"tx2"]

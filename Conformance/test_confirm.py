"""confirm.*: publisher confirms (ack/nack with multiple), returns before acks, mode conflicts."""

import struct

import pika
import pika.exceptions
import pytest

import amqpraw as R
from util import channel_closed, declare_temp_queue, sync, wait_message_count


@pytest.fixture
def raw_confirm(raw_connect):
    """A raw connection with channel 1 open and in confirm mode."""
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.CONFIRM_SELECT, b"\x00")
    raw.expect(R.CONFIRM_SELECT_OK, 1)
    return raw


def declare_queue_raw(raw, name, **kw):
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args(name, **kw))
    f = raw.expect(R.QUEUE_DECLARE_OK, 1)
    return f.args().shortstr()


def read_acks(raw, upto, channel=1):
    """Read frames until every delivery tag 1..upto is confirmed. Returns the list of
    (kind, tag, multiple) frames and the list of other frames seen in between."""
    confirmed = set()
    acks, others = [], []
    while len(confirmed) < upto:
        f = raw.read_frame()
        if f.method in (R.BASIC_ACK, R.BASIC_NACK):
            r = f.args()
            tag = r.longlong()
            multiple = bool(r.octet() & 1)
            kind = "ack" if f.method == R.BASIC_ACK else "nack"
            acks.append((kind, tag, multiple))
            if multiple:
                newly = set(range(1, tag + 1)) - confirmed
            else:
                newly = {tag}
            assert newly, f"confirm {kind} {tag} multiple={multiple} confirmed nothing new"
            assert not (newly & confirmed)
            confirmed |= newly
        else:
            others.append(f)
            if f.method == R.BASIC_RETURN:
                others.append(raw.read_content(channel))
    assert confirmed == set(range(1, upto + 1))
    return acks, others


def test_confirm_select_ok(pika_channel):
    pika_channel.confirm_delivery()
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"x")  # in confirm mode pika waits for the ack
    assert wait_message_count(pika_channel, q, 1) == 1


def test_confirm_select_twice_is_ok(raw_confirm):
    raw_confirm.send_method(1, R.CONFIRM_SELECT, b"\x00")
    raw_confirm.expect(R.CONFIRM_SELECT_OK, 1)


def test_confirm_select_nowait_sends_no_select_ok_and_still_acks(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    raw.send_method(1, R.CONFIRM_SELECT, b"\x01")
    q = declare_queue_raw(raw, "", exclusive=True)  # the next frame must be declare-ok, not select-ok
    raw.send(R.publish_frames(1, "", q, b"x"))
    acks, others = read_acks(raw, 1)
    assert acks == [("ack", 1, False)] and others == []


def test_confirm_acks_routed_messages_covering_every_tag(raw_confirm):
    q = declare_queue_raw(raw_confirm, "", exclusive=True)
    n = 200
    raw_confirm.send(b"".join(R.publish_frames(1, "", q, b"m%d" % i) for i in range(n)))
    acks, others = read_acks(raw_confirm, n)
    assert others == []
    assert all(kind == "ack" for kind, _t, _m in acks)
    tags = [t for _k, t, _m in acks]
    assert tags == sorted(tags), "confirms must come in increasing tag order"
    assert tags[-1] == n


def test_confirm_acks_unroutable_non_mandatory_message(raw_confirm, unique_name):
    raw_confirm.send(R.publish_frames(1, "amq.direct", unique_name, b"dropped"))
    acks, others = read_acks(raw_confirm, 1)
    assert acks == [("ack", 1, False)]
    assert others == []


def test_confirm_unroutable_mandatory_gets_basic_return_before_basic_ack(raw_confirm, unique_name):
    raw_confirm.send(R.publish_frames(1, "amq.direct", unique_name, b"bounced", mandatory=True))
    f = raw_confirm.read_frame()
    assert f.method == R.BASIC_RETURN, f
    r = f.args()
    assert (r.short(), r.shortstr(), r.shortstr(), r.shortstr()) == (312, "NO_ROUTE", "amq.direct", unique_name)
    _props, body = raw_confirm.read_content(1)
    assert body == b"bounced"
    acks, others = read_acks(raw_confirm, 1)
    assert acks == [("ack", 1, False)] and others == []


def test_confirm_mixed_routed_and_unroutable_all_acked_in_order(raw_confirm, unique_name):
    q = declare_queue_raw(raw_confirm, "", exclusive=True)
    frames = []
    for i in range(10):
        if i % 3 == 0:
            frames.append(R.publish_frames(1, "amq.direct", unique_name, b"u%d" % i, mandatory=True))
        else:
            frames.append(R.publish_frames(1, "", q, b"r%d" % i, mandatory=True))
    raw_confirm.send(b"".join(frames))
    acks, others = read_acks(raw_confirm, 10)
    assert all(kind == "ack" for kind, _t, _m in acks)
    returned = [o for o in others if isinstance(o, tuple)]
    assert [b for _p, b in returned] == [b"u0", b"u3", b"u6", b"u9"]


def test_confirm_delivery_tags_count_from_one_per_channel(raw_confirm):
    q = declare_queue_raw(raw_confirm, "", exclusive=True)
    raw_confirm.send(R.publish_frames(1, "", q, b"a"))
    assert read_acks(raw_confirm, 1)[0] == [("ack", 1, False)]
    raw_confirm.channel_open(2)
    raw_confirm.send_method(2, R.CONFIRM_SELECT, b"\x00")
    raw_confirm.expect(R.CONFIRM_SELECT_OK, 2)
    raw_confirm.send(R.publish_frames(2, "", q, b"b"))
    f = raw_confirm.expect(R.BASIC_ACK, 2)
    assert f.args().longlong() == 1


def test_confirm_only_counts_publishes_after_select(raw_connect):
    raw = raw_connect()
    raw.handshake()
    raw.channel_open(1)
    q = declare_queue_raw(raw, "", exclusive=True)
    raw.send(R.publish_frames(1, "", q, b"before"))
    raw.send_method(1, R.CONFIRM_SELECT, b"\x00")
    raw.expect(R.CONFIRM_SELECT_OK, 1)
    raw.send(R.publish_frames(1, "", q, b"after"))
    acks, _ = read_acks(raw, 1)
    assert acks == [("ack", 1, False)]


def test_confirm_pika_mandatory_unroutable_raises_unroutable_error(pika_channel, unique_name):
    pika_channel.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError) as ei:
        pika_channel.basic_publish("amq.direct", unique_name, b"x", mandatory=True)
    assert ei.value.messages[0].body == b"x"
    q = declare_temp_queue(pika_channel)
    pika_channel.basic_publish("", q, b"fine", mandatory=True)  # channel still fine


def test_confirm_publish_to_missing_exchange_closes_channel_404(pika_channel, unique_name):
    pika_channel.confirm_delivery()
    with channel_closed(404, f"NOT_FOUND - no exchange '{unique_name}' in vhost '/'"):
        pika_channel.basic_publish(unique_name, "k", b"x")


def test_confirm_select_on_tx_channel_is_406(pika_channel):
    pika_channel.tx_select()
    with channel_closed(406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode"):
        pika_channel.confirm_delivery()


def test_tx_select_on_confirm_channel_is_406(pika_channel):
    pika_channel.confirm_delivery()
    with channel_closed(406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode"):
        pika_channel.tx_select()


def test_confirm_persistent_message_to_durable_queue_is_acked(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, durable=True)
    try:
        pika_channel.confirm_delivery()
        pika_channel.basic_publish("", unique_name, b"persist", pika.BasicProperties(delivery_mode=2))
        assert wait_message_count(pika_channel, unique_name, 1) == 1
    finally:
        pika_channel.queue_delete(unique_name)

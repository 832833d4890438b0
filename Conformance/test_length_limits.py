"""Queue length limits: `x-max-length`, `x-max-length-bytes` and `x-overflow` (drop-head, the default;
reject-publish; reject-publish-dlx), dead-lettering with reason `maxlen`, publisher confirms for
refused messages, requeue over the limit, priority queues, validation and equivalence texts.

RabbitMQ 3.10 facts asserted here:
* Only ready messages count, and x-max-length-bytes counts body bytes only (not properties or
  headers). Unacknowledged messages never count, so a queue can hold limit + unacked.
* drop-head: after enqueueing, heads are dropped until the queue is within both limits: several
  heads for one big message (zero-byte messages included), or the new message itself when it alone
  exceeds x-max-length-bytes. Dropped heads are dead-lettered (reason `maxlen`, one copy each, in
  order) when the queue has a DLX. x-max-length 0: a message for a consumer that can take it is
  delivered, otherwise dropped at once.
* A requeue (nack/reject requeue=true) that takes a drop-head queue over its limit drops the head,
  which is the requeued message itself (requeued messages go back to the front) -> dead-lettered
  maxlen. With reject-publish(-dlx) a requeue may take the queue over its limit; nothing is dropped.
* Priority queue + drop-head: the dropped "head" is the next message to be delivered, i.e. the
  oldest of the highest priority, even if it is the message just published.
* reject-publish: a publish that would take the ready count / bytes over the limit is refused
  BEFORE delivery (even to a waiting consumer: x-max-length 0 refuses everything). With confirms it
  is basic.nack'ed (multiple=false unless coalesced, requeue bit SET - the basic.nack record
  default), pika's BlockingChannel raises NackError (also with mandatory: it was routed, so no
  basic.return and no UnroutableError); without confirms it is silently dropped. It is not
  dead-lettered. Later publishes are confirmed normally (tags keep counting). A message routed to
  two queues of which one refuses it is nack'ed, yet the other queue keeps its copy.
* reject-publish-dlx: the same, and the refused message is dead-lettered (reason maxlen, x-death
  queue = the refusing queue, original-expiration kept) if the DLX exists.
* A consumer that takes messages as fast as they come keeps the ready count at 0: no refusal.
* maxlen dead-lettering goes through cycle detection like expiry: a dropped head or refused publish
  whose DLX routes back into the same queue is not re-enqueued there (other targets get it).
* Dead-lettered copies are subject to the target queue's limits: a reject-publish target silently
  drops them (no confirm involved), a drop-head target drops its head.
* Validation (406 `PRECONDITION_FAILED - invalid arg '<arg>' for queue 'q' in vhost '/': <term>`):
  `{value_negative,-1}`, `"expected integer, got longstr"` (quoted; also decimal) for x-max-length
  and x-max-length-bytes; x-overflow unknown value -> `invalid_overflow` (bare, no value),
  non-string -> `{unacceptable_type,signedint}`. 0 and 2^40 are accepted.
* Equivalence: `inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received '6' but current
  is '5'`; `received none but current is the value 'drop-head' of type 'longstr'` (an explicit
  drop-head is not equivalent to none); `received the value '10' of type 'signedint' but current is
  none`.
"""

import decimal
import struct
import time

import pika
import pika.exceptions
import pytest
from pika.compat import long

import amqpraw as R
from util import (Collector, channel_closed, declare_temp_queue, message_count, settle, sync,
                  wait_message_count, wait_until)


# ---------------------------------------------------------------- helpers

def _dlx(ch, names) -> tuple[str, str]:
    """A fanout DLX and the temp queue it feeds -> (exchange, dead queue)."""
    x = names("dlx")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    dead = declare_temp_queue(ch)
    ch.queue_bind(dead, x)
    return x, dead


def _limited(ch, names=None, **args) -> tuple[str, str]:
    """A temp queue with the given x- arguments, dead-lettering to a fresh fanout DLX when names
    is given -> (queue, dead queue or None)."""
    dead = None
    if names is not None:
        x, dead = _dlx(ch, names)
        args["x-dead-letter-exchange"] = x
    return declare_temp_queue(ch, arguments=args), dead


def _bodies(ch, q) -> list:
    """basic.get (auto-ack) until get-empty -> [body]."""
    return [b for _m, _p, b in _drain(ch, q)]


def _drain(ch, q) -> list:
    out = []
    for _ in range(1000):
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((m, p, b))
    raise AssertionError("queue did not drain")


def _dead(ch, q, n) -> list:
    assert wait_message_count(ch, q, n) == n
    out = _drain(ch, q)
    assert len(out) == n
    return out


def _pub(ch, q, bodies, **props):
    for b in bodies:
        ch.basic_publish("", q, b, pika.BasicProperties(**props) if props else None)


def _confirmed(ch, q, body, **kw) -> str:
    """Publish on a confirm channel -> "ack" or the pika exception class name."""
    try:
        ch.basic_publish("", q, body, **kw)
        return "ack"
    except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as e:
        return type(e).__name__


def _death_summary(props) -> list:
    out = []
    for d in props.headers["x-death"]:
        assert type(d["count"]) is long
        out.append((d["reason"], d["queue"], d["exchange"], d["routing-keys"], int(d["count"]),
                    d.get("original-expiration")))
    return out


# ---------------------------------------------------------------- drop-head (the default)

def test_drop_head_drops_the_oldest_messages(pika_channel):
    q, _ = _limited(pika_channel, **{"x-max-length": 2})
    _pub(pika_channel, q, [b"m0", b"m1", b"m2", b"m3"])
    assert wait_message_count(pika_channel, q, 2) == 2
    assert _bodies(pika_channel, q) == [b"m2", b"m3"]


def test_drop_head_explicit_overflow_value_behaves_the_same(pika_channel):
    q, _ = _limited(pika_channel, **{"x-max-length": 1, "x-overflow": "drop-head"})
    _pub(pika_channel, q, [b"a", b"b"])
    sync(pika_channel)
    assert _bodies(pika_channel, q) == [b"b"]


def test_drop_head_dead_letters_each_dropped_message_with_reason_maxlen(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length": 2})
    _pub(pika_channel, q, [b"m0", b"m1", b"m2", b"m3"], expiration="60000")
    got = _dead(pika_channel, dead, 2)
    assert [b for _m, _p, b in got] == [b"m0", b"m1"]
    for m, p, _b in got:
        assert (m.routing_key, m.redelivered, p.expiration) == (q, False, None)
        assert _death_summary(p) == [("maxlen", q, "", [q], 1, "60000")]
        assert (p.headers["x-first-death-reason"], p.headers["x-first-death-queue"]) == ("maxlen", q)
    assert _bodies(pika_channel, q) == [b"m2", b"m3"]


def test_unacked_messages_do_not_count_towards_the_limit(pika_channel):
    q, _ = _limited(pika_channel, **{"x-max-length": 1})
    _pub(pika_channel, q, [b"a"])
    m, _p, _b = pika_channel.basic_get(q)  # a: unacked
    _pub(pika_channel, q, [b"b", b"c"])
    assert wait_message_count(pika_channel, q, 1) == 1
    pika_channel.basic_ack(m.delivery_tag)
    assert _bodies(pika_channel, q) == [b"c"]


def test_max_length_zero_drops_everything_that_cannot_be_delivered(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length": 0})
    _pub(pika_channel, q, [b"a", b"b"])
    assert [b for _m, _p, b in _dead(pika_channel, dead, 2)] == [b"a", b"b"]
    assert message_count(pika_channel, q) == 0


def test_max_length_zero_drop_head_still_delivers_to_a_waiting_consumer(pika_conn, names):
    ch = pika_conn.channel()
    q, dead = _limited(ch, names, **{"x-max-length": 0})
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    _pub(ch, q, [b"a"])
    assert wait_until(pika_conn, lambda: len(col) == 1)
    assert col.bodies == [b"a"]
    assert message_count(ch, dead) == 0


def test_max_length_bytes_counts_body_bytes_only(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length-bytes": 10})
    big = {"headers": {"big": "x" * 2000}, "message_id": "m" * 200}
    _pub(pika_channel, q, [b"12345", b"1234", b"1"], **big)  # 10 bytes: fits
    sync(pika_channel)
    assert message_count(pika_channel, q) == 3
    _pub(pika_channel, q, [b"12"], **big)  # 12 bytes: drop 12345
    assert [b for _m, _p, b in _dead(pika_channel, dead, 1)] == [b"12345"]
    assert _bodies(pika_channel, q) == [b"1234", b"1", b"12"]


def test_max_length_bytes_message_larger_than_the_limit_drops_itself(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length-bytes": 10})
    _pub(pika_channel, q, [b"ok", b"x" * 11])
    got = _dead(pika_channel, dead, 2)  # the head, then the big one too
    assert [b for _m, _p, b in got] == [b"ok", b"x" * 11]
    assert message_count(pika_channel, q) == 0


def test_max_length_bytes_zero_keeps_empty_bodies_until_a_byte_arrives(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length-bytes": 0})
    _pub(pika_channel, q, [b"", b""])
    sync(pika_channel)
    assert message_count(pika_channel, q) == 2
    _pub(pika_channel, q, [b"a"])
    assert [b for _m, _p, b in _dead(pika_channel, dead, 3)] == [b"", b"", b"a"]
    assert message_count(pika_channel, q) == 0


def test_both_limits_drop_until_within_both(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length": 3, "x-max-length-bytes": 10})
    _pub(pika_channel, q, [b"1", b"2", b"3", b"4"])  # count: drops 1
    _pub(pika_channel, q, [b"123456789"])  # count and then bytes: drops 2 and 3
    assert [b for _m, _p, b in _dead(pika_channel, dead, 3)] == [b"1", b"2", b"3"]
    assert _bodies(pika_channel, q) == [b"4", b"123456789"]


def test_requeue_over_the_limit_drops_the_requeued_message(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length": 2})
    _pub(pika_channel, q, [b"a", b"b"])
    m, _p, _b = pika_channel.basic_get(q)  # a unacked; b ready
    _pub(pika_channel, q, [b"c"])  # b, c ready: at the limit
    sync(pika_channel)
    pika_channel.basic_nack(m.delivery_tag, requeue=True)  # a goes back to the front: 3 > 2
    [(m, p, b)] = _dead(pika_channel, dead, 1)
    assert (b, m.redelivered) == (b"a", False)
    assert _death_summary(p) == [("maxlen", q, "", [q], 1, None)]
    assert [(b, m.redelivered) for m, _p, b in _drain(pika_channel, q)] == [(b"b", False), (b"c", False)]


def test_requeue_over_the_limit_drops_the_requeued_message_even_when_younger(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length": 2})
    _pub(pika_channel, q, [b"a", b"b"])
    pika_channel.basic_get(q, auto_ack=True)  # a gone
    m, _p, _b = pika_channel.basic_get(q)  # b unacked
    _pub(pika_channel, q, [b"c", b"d"])
    sync(pika_channel)
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    assert [b for _m, _p, b in _dead(pika_channel, dead, 1)] == [b"b"]
    assert _bodies(pika_channel, q) == [b"c", b"d"]


def test_priority_queue_drop_head_drops_the_highest_priority_head(pika_channel, names):
    cases = [
        ([(b"l1", 1), (b"h5", 5), (b"l2", 1)], [b"h5"], [b"l1", b"l2"]),
        ([(b"h5", 5), (b"l1", 1), (b"h5b", 5)], [b"h5"], [b"h5b", b"l1"]),
        ([(b"l1", 1), (b"l1b", 1), (b"h5", 5)], [b"h5"], [b"l1", b"l1b"]),  # the new one itself
    ]
    for published, dropped, kept in cases:
        q, dead = _limited(pika_channel, names, **{"x-max-length": 2, "x-max-priority": 5})
        for body, prio in published:
            pika_channel.basic_publish("", q, body, pika.BasicProperties(priority=prio))
        assert [(b, p.priority) for _m, p, b in _dead(pika_channel, dead, len(dropped))] == \
            [(b, dict(published)[b]) for b in dropped]
        assert _bodies(pika_channel, q) == kept


# ---------------------------------------------------------------- reject-publish

def test_reject_publish_nacks_the_new_message_with_confirms(pika_channel, names):
    pika_channel.confirm_delivery()
    q, dead = _limited(pika_channel, names, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    assert [_confirmed(pika_channel, q, b) for b in (b"a", b"b", b"c", b"d")] == \
        ["ack", "ack", "NackError", "NackError"]
    assert _bodies(pika_channel, q) == [b"a", b"b"]
    time.sleep(0.1)
    assert message_count(pika_channel, dead) == 0  # refused messages are not dead-lettered
    assert _confirmed(pika_channel, q, b"e") == "ack"  # room again: confirms go on normally
    assert _bodies(pika_channel, q) == [b"e"]


def test_reject_publish_mandatory_message_is_nacked_not_returned(pika_channel):
    pika_channel.confirm_delivery()
    q, _ = _limited(pika_channel, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    assert _confirmed(pika_channel, q, b"a", mandatory=True) == "NackError"
    assert pika_channel.is_open


def test_reject_publish_without_confirms_drops_silently(pika_channel):
    q, _ = _limited(pika_channel, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    _pub(pika_channel, q, [b"a", b"b", b"c"])
    sync(pika_channel)
    assert pika_channel.is_open
    assert _bodies(pika_channel, q) == [b"a"]


def test_reject_publish_counts_body_bytes(pika_channel):
    pika_channel.confirm_delivery()
    q, _ = _limited(pika_channel, **{"x-max-length-bytes": 5, "x-overflow": "reject-publish"})
    assert [_confirmed(pika_channel, q, b) for b in (b"123", b"456", b"45", b"", b"6")] == \
        ["ack", "NackError", "ack", "ack", "NackError"]
    assert _bodies(pika_channel, q) == [b"123", b"45", b""]


def test_reject_publish_unacked_messages_do_not_count(pika_channel):
    pika_channel.confirm_delivery()
    q, _ = _limited(pika_channel, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    assert _confirmed(pika_channel, q, b"a") == "ack"
    m, _p, _b = pika_channel.basic_get(q)
    assert [_confirmed(pika_channel, q, b) for b in (b"b", b"c")] == ["ack", "NackError"]
    pika_channel.basic_ack(m.delivery_tag)
    assert _bodies(pika_channel, q) == [b"b"]


def test_reject_publish_max_length_zero_refuses_even_with_a_waiting_consumer(pika_conn):
    ch = pika_conn.channel()
    ch.confirm_delivery()
    q, _ = _limited(ch, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    assert _confirmed(ch, q, b"a") == "NackError"
    settle(pika_conn, 0.2)
    assert len(col) == 0


def test_reject_publish_consumer_keeping_up_sees_no_refusals(pika_conn):
    ch = pika_conn.channel()
    ch.confirm_delivery()
    q, _ = _limited(ch, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    col = Collector()
    ch.basic_consume(q, col, auto_ack=True)
    assert [_confirmed(ch, q, b) for b in (b"a", b"b", b"c")] == ["ack"] * 3
    assert wait_until(pika_conn, lambda: len(col) == 3)
    assert col.bodies == [b"a", b"b", b"c"]


def test_reject_publish_in_one_of_two_queues_nacks_but_the_other_keeps_it(pika_channel, names):
    pika_channel.confirm_delivery()
    x = names("fan")
    pika_channel.exchange_declare(x, "fanout", auto_delete=True)
    full, _ = _limited(pika_channel, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    other = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(full, x)
    pika_channel.queue_bind(other, x)
    with pytest.raises(pika.exceptions.NackError):
        pika_channel.basic_publish(x, "", b"m")
    assert (message_count(pika_channel, full), message_count(pika_channel, other)) == (0, 1)


def test_reject_publish_requeue_may_exceed_the_limit(pika_channel, names):
    for overflow in ("reject-publish", "reject-publish-dlx"):
        q, dead = _limited(pika_channel, names, **{"x-max-length": 1, "x-overflow": overflow})
        _pub(pika_channel, q, [b"a"])
        m, _p, _b = pika_channel.basic_get(q)
        _pub(pika_channel, q, [b"b"])
        sync(pika_channel)
        pika_channel.basic_nack(m.delivery_tag, requeue=True)
        assert wait_message_count(pika_channel, q, 2) == 2
        assert [(b, m.redelivered) for m, _p, b in _drain(pika_channel, q)] == [(b"a", True), (b"b", False)]
        assert message_count(pika_channel, dead) == 0


def test_reject_publish_priority_queue_refuses_whatever_the_priority(pika_channel):
    pika_channel.confirm_delivery()
    q, _ = _limited(pika_channel, **{"x-max-length": 2, "x-max-priority": 5, "x-overflow": "reject-publish"})
    got = [_confirmed(pika_channel, q, b, properties=pika.BasicProperties(priority=p))
           for b, p in ((b"l1", 1), (b"l2", 1), (b"h5", 5))]
    assert got == ["ack", "ack", "NackError"]
    assert _bodies(pika_channel, q) == [b"l1", b"l2"]


def _raw_confirm_channel(raw_connect):
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.CONFIRM_SELECT, b"\x00")
    raw.expect(R.CONFIRM_SELECT_OK, 1)
    return raw


def _raw_declare(raw, arguments) -> str:
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args("", exclusive=True, arguments=arguments))
    return raw.expect(R.QUEUE_DECLARE_OK, 1).args().shortstr()


def _raw_confirms(raw, upto, start=1) -> dict:
    """Read basic.ack/nack until tags start..upto are settled -> {tag: (kind, requeue bit)}."""
    out = {}
    while len(out) < upto - start + 1:
        f = raw.read_frame()
        assert f.method in (R.BASIC_ACK, R.BASIC_NACK), f
        r = f.args()
        tag, bits = r.longlong(), r.octet()
        kind = "ack" if f.method == R.BASIC_ACK else "nack"
        requeue = bool(bits & 2) if kind == "nack" else None
        tags = range(start, tag + 1) if bits & 1 else [tag]
        for t in tags:
            if t not in out:
                out[t] = (kind, requeue)
    return out


def test_reject_publish_confirm_sequence_on_the_wire(raw_connect):
    raw = _raw_confirm_channel(raw_connect)
    q = _raw_declare(raw, {"x-max-length": 2, "x-overflow": "reject-publish"})
    raw.send(b"".join(R.publish_frames(1, "", q, f"m{i}".encode()) for i in range(5)))
    got = _raw_confirms(raw, 5)
    assert got == {1: ("ack", None), 2: ("ack", None), 3: ("nack", True), 4: ("nack", True),
                   5: ("nack", True)}
    raw.send_method(1, R.BASIC_GET, struct.pack(">H", 0) + R.shortstr(q) + b"\x01")
    raw.expect(R.BASIC_GET_OK, 1)
    raw.read_content(1)
    raw.send(R.publish_frames(1, "", q, b"x") + R.publish_frames(1, "", q, b"y"))
    assert _raw_confirms(raw, 7, start=6) == {6: ("ack", None), 7: ("nack", True)}


# ---------------------------------------------------------------- reject-publish-dlx

def test_reject_publish_dlx_nacks_and_dead_letters_the_refused_message(pika_channel, names):
    pika_channel.confirm_delivery()
    q, dead = _limited(pika_channel, names, **{"x-max-length": 1, "x-overflow": "reject-publish-dlx"})
    assert _confirmed(pika_channel, q, b"a") == "ack"
    props = pika.BasicProperties(expiration="60000", headers={"h": 1}, message_id="b")
    assert _confirmed(pika_channel, q, b"b", properties=props) == "NackError"
    [(m, p, b)] = _dead(pika_channel, dead, 1)
    assert (b, m.routing_key, m.redelivered, p.expiration, p.message_id, p.headers["h"]) == \
        (b"b", q, False, None, "b", 1)
    assert _death_summary(p) == [("maxlen", q, "", [q], 1, "60000")]
    assert (p.headers["x-first-death-reason"], p.headers["x-first-death-queue"],
            p.headers["x-first-death-exchange"]) == ("maxlen", q, "")
    assert _bodies(pika_channel, q) == [b"a"]


def test_reject_publish_dlx_without_confirms_still_dead_letters(pika_channel, names):
    q, dead = _limited(pika_channel, names, **{"x-max-length": 1, "x-overflow": "reject-publish-dlx"})
    _pub(pika_channel, q, [b"a", b"b", b"c"])
    assert [b for _m, _p, b in _dead(pika_channel, dead, 2)] == [b"b", b"c"]
    assert _bodies(pika_channel, q) == [b"a"]


def test_reject_publish_dlx_with_a_missing_dlx_only_refuses(pika_channel, names):
    pika_channel.confirm_delivery()
    q, _ = _limited(pika_channel, **{"x-max-length": 1, "x-overflow": "reject-publish-dlx",
                                     "x-dead-letter-exchange": names("missing")})
    assert [_confirmed(pika_channel, q, b) for b in (b"a", b"b")] == ["ack", "NackError"]
    assert _bodies(pika_channel, q) == [b"a"]


def test_reject_publish_dlx_without_a_dlx_argument_only_refuses(pika_channel):
    pika_channel.confirm_delivery()
    q, _ = _limited(pika_channel, **{"x-max-length": 1, "x-overflow": "reject-publish-dlx"})
    assert [_confirmed(pika_channel, q, b) for b in (b"a", b"b")] == ["ack", "NackError"]


def test_overflow_without_a_limit_has_no_effect(pika_channel):
    pika_channel.confirm_delivery()
    for overflow in ("reject-publish", "reject-publish-dlx", "drop-head"):
        q, _ = _limited(pika_channel, **{"x-overflow": overflow})
        assert [_confirmed(pika_channel, q, b) for b in (b"a", b"b", b"c")] == ["ack"] * 3
        assert message_count(pika_channel, q) == 3


# ---------------------------------------------------------------- validation

def _invalid(conn, names, args, arg, term):
    q = names("q")
    ch = conn.channel()
    with channel_closed(406, f"PRECONDITION_FAILED - invalid arg '{arg}' for queue '{q}' in vhost '/': {term}"):
        ch.queue_declare(q, exclusive=True, arguments=args)


def test_max_length_negative_is_406(pika_conn, names):
    _invalid(pika_conn, names, {"x-max-length": -1}, "x-max-length", "{value_negative,-1}")
    _invalid(pika_conn, names, {"x-max-length-bytes": -5}, "x-max-length-bytes", "{value_negative,-5}")


def test_max_length_not_an_integer_is_406(pika_conn, names):
    for arg in ("x-max-length", "x-max-length-bytes"):
        _invalid(pika_conn, names, {arg: "5"}, arg, '"expected integer, got longstr"')
        _invalid(pika_conn, names, {arg: decimal.Decimal("1.5")}, arg, '"expected integer, got decimal"')
        _invalid(pika_conn, names, {arg: True}, arg, '"expected integer, got bool"')


def test_overflow_invalid_value_is_406(pika_conn, names):
    _invalid(pika_conn, names, {"x-overflow": "foo"}, "x-overflow", "invalid_overflow")
    _invalid(pika_conn, names, {"x-overflow": "Drop-Head"}, "x-overflow", "invalid_overflow")
    _invalid(pika_conn, names, {"x-overflow": 5}, "x-overflow", "{unacceptable_type,signedint}")


def test_max_length_zero_and_large_values_are_accepted(pika_channel):
    for args in ({"x-max-length": 0}, {"x-max-length-bytes": 0}, {"x-max-length": 2 ** 40},
                 {"x-max-length-bytes": 2 ** 40}):
        assert declare_temp_queue(pika_channel, arguments=args)


def test_redeclare_with_different_length_arguments_is_406(pika_conn, names):
    q = names("q")
    pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-max-length": 5,
                                                                    "x-overflow": "reject-publish"})
    pre = f"PRECONDITION_FAILED - inequivalent arg '%s' for queue '{q}' in vhost '/': "
    cases = [
        ({"x-max-length": 6, "x-overflow": "reject-publish"}, "x-max-length", "received '6' but current is '5'"),
        ({"x-overflow": "reject-publish"}, "x-max-length",
         "received none but current is the value '5' of type 'signedint'"),
        ({"x-max-length": 5, "x-overflow": "drop-head"}, "x-overflow",
         "received 'drop-head' but current is 'reject-publish'"),
        ({"x-max-length": 5, "x-overflow": "reject-publish", "x-max-length-bytes": 10}, "x-max-length-bytes",
         "received the value '10' of type 'signedint' but current is none"),
    ]
    for args, arg, tail in cases:
        ch = pika_conn.channel()
        with channel_closed(406, pre % arg + tail):
            ch.queue_declare(q, exclusive=True, arguments=args)
    ok = pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-max-length": 5,
                                                                         "x-overflow": "reject-publish"})
    assert ok.method.queue == q


def test_explicit_drop_head_is_not_equivalent_to_no_overflow_argument(pika_conn, names):
    q = names("q")
    pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-overflow": "drop-head"})
    ch = pika_conn.channel()
    with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'x-overflow' for queue '{q}' in vhost "
                             "'/': received none but current is the value 'drop-head' of type 'longstr'"):
        ch.queue_declare(q, exclusive=True)


# ---------------------------------------------------------------- dead-lettering and limits together

def test_drop_head_dead_lettering_back_into_the_same_queue_is_a_cycle(pika_channel, names):
    """q's DLX feeds q itself and a monitor: the dropped head reaches the monitor only."""
    x, monitor = _dlx(pika_channel, names)
    q = names("q")
    pika_channel.queue_declare(q, exclusive=True, arguments={"x-max-length": 1, "x-dead-letter-exchange": x})
    pika_channel.queue_bind(q, x)
    _pub(pika_channel, q, [b"a", b"b"])
    [(_m, p, b)] = _dead(pika_channel, monitor, 1)
    assert b == b"a" and _death_summary(p) == [("maxlen", q, "", [q], 1, None)]
    time.sleep(0.2)
    assert message_count(pika_channel, monitor) == 0
    assert _bodies(pika_channel, q) == [b"b"]


def test_reject_publish_dlx_back_into_the_same_queue_is_a_cycle(pika_channel, names):
    x, monitor = _dlx(pika_channel, names)
    q = names("q")
    pika_channel.queue_declare(q, exclusive=True, arguments={
        "x-max-length": 1, "x-overflow": "reject-publish-dlx", "x-dead-letter-exchange": x})
    pika_channel.queue_bind(q, x)
    _pub(pika_channel, q, [b"a", b"b"])
    [(_m, p, b)] = _dead(pika_channel, monitor, 1)
    assert b == b"b" and _death_summary(p) == [("maxlen", q, "", [q], 1, None)]
    time.sleep(0.2)
    assert message_count(pika_channel, monitor) == 0
    assert _bodies(pika_channel, q) == [b"a"]


def test_dead_lettered_messages_are_subject_to_the_target_queues_limits(pika_channel, names):
    x = names("dlx")
    pika_channel.exchange_declare(x, "fanout", auto_delete=True)
    refusing, _ = _limited(pika_channel, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    dropping, _ = _limited(pika_channel, **{"x-max-length": 1})
    pika_channel.queue_bind(refusing, x)
    pika_channel.queue_bind(dropping, x)
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
    _pub(pika_channel, q, [b"a", b"b"])
    for _ in range(2):
        m, _p, _b = pika_channel.basic_get(q)
        pika_channel.basic_reject(m.delivery_tag, requeue=False)
    sync(pika_channel)
    time.sleep(0.2)
    assert _bodies(pika_channel, refusing) == [b"a"]
    assert _bodies(pika_channel, dropping) == [b"b"]
    assert pika_channel.is_open

"""Dead-lettering: the `x-dead-letter-exchange` / `x-dead-letter-routing-key` queue arguments, the
`x-death` and `x-first-death-*` headers, cycle detection, what is not dead-lettered, argument
validation. (Length limits, reason `maxlen`, are in test_length_limits.py.) Plus Warren extensions:
`x-last-death-*` headers and `x-delivery-limit` on classic queues.

RabbitMQ 3.10 facts asserted here:
* basic.reject / basic.nack with requeue=false dead-letter (nack multiple: every covered message, in
  delivery-tag order); requeue=true does not. The copy is published to the DLX with the original
  routing key, or the x-dead-letter-routing-key when set; it arrives with exchange = the DLX name
  (also when an alternate exchange of the DLX routed it), redelivered=false (even if the original
  had been redelivered), body and every property unchanged except `expiration` (removed) and the
  headers below.
* `x-death` is an array of tables, the latest death's entry first: count (long, 'l'), reason (longstr
  "rejected" / "expired" / "maxlen"), queue (longstr), time (timestamp 'T', seconds), exchange
  (longstr, the exchange the message was published to, "" for the default exchange), routing-keys
  (array of longstr: the publish routing key then the CC keys; never the BCC keys), and
  original-expiration (longstr) only when the message had an `expiration` property.
  The first death also sets x-first-death-reason / -queue / -exchange (longstr), never changed
  afterwards. RabbitMQ 3.10 writes no x-last-death-* headers.
* There is one entry per (queue, reason): a second death for the same pair increments its count
  and moves the entry to the front, keeping its original time, exchange, routing-keys and
  original-expiration. The OTHER entries come after it in REVERSED order (x-death becomes
  [latest | reverse(previous minus the matched entry)]), so "most recent first" only holds for two
  entries. A client-supplied x-death is taken as is (and then no x-first-death-* are written).
  On the wire, the very first entry's keys are in the order count, reason, queue, time, exchange,
  routing-keys[, original-expiration]; an entry rewritten or added to an existing x-death has its
  keys sorted; the headers table itself is sorted by key.
* Without x-dead-letter-routing-key the copy is routed with all the original routing keys: the
  publish key, the CC keys and the BCC keys (BCC was stripped at publish, yet a queue bound on the
  DLX with a BCC key gets a copy); the CC header is kept. With it, the CC header is removed and
  only that key routes (x-death routing-keys still lists the CC keys).
* Cycles (checked on the new x-death, per target queue): when the reason is not `rejected`, a
  target queue that appears in x-death is skipped if no entry from the front up to and including
  the first entry naming that queue has reason rejected.
  So an expiry loop drops the message on its way back (other DLX targets still get it), a loop
  with a rejection in it goes round; a rejected message re-entering its queue and then expiring
  there is dropped.
* A DLX that does not exist, or routes nowhere: the message is silently dropped, the channel stays
  open. A DLX routing to several queues gives each a copy; the DLX's alternate exchange is used.
* Not dead-lettered: queue.purge, queue.delete (ready and unacked messages), x-expires deletion,
  requeue by channel close, connection close and basic.recover.
* Validation (406 PRECONDITION_FAILED): x-dead-letter-exchange not a longstr ->
  `invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'`
  (type names bool, array, binary...); x-dead-letter-routing-key without x-dead-letter-exchange ->
  `invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined`
  (also for server-named queues, with the amq.gen name); non-longstr routing key ->
  `... : {unacceptable_type,signedint}`. The DLX need not exist at declare. Equivalence:
  `inequivalent arg 'x-dead-letter-exchange' for queue 'q' in vhost '/': received 'b' but current is
  'a'`, `received none but current is the value 'a' of type 'longstr'`, `received the value 'r' of
  type 'longstr' but current is none`. x-dead-letter-exchange is compared before x-max-length
  whatever the order of the table.
* Priority queues: a dead-lettered message keeps its priority property.
* x-delivery-limit is refused on classic queues: 406 `PRECONDITION_FAILED - invalid arg
  'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue` (any value).
  (Quorum queues, for reference: any value accepted unvalidated; consumer redeliveries carry
  x-delivery-count (long) = number of returns, the first consumer delivery has no such header but
  a first basic.get has 0; nack/reject requeue and channel close count; past the limit the message
  is dead-lettered with reason `delivery_limit`, the copy without x-delivery-count.)
"""

import datetime
import decimal
import time

import pika
import pika.exceptions
import pytest
from pika.compat import long

from util import (Collector, channel_closed, declare_temp_queue, message_count, settle, sync,
                  wait_message_count, wait_until)

FIRST_ENTRY_KEYS = ["count", "reason", "queue", "time", "exchange", "routing-keys"]


# ---------------------------------------------------------------- helpers

def _dlx(ch, names, kind="fanout", bindings=("",), **kw) -> tuple[str, str]:
    """A fresh DLX with one temp queue bound by each of bindings -> (exchange, queue)."""
    x = names("dlx")
    ch.exchange_declare(x, kind, auto_delete=True, **kw)
    q = declare_temp_queue(ch)
    for key in bindings:
        ch.queue_bind(q, x, key)
    return x, q


def _setup(ch, names, **args) -> tuple[str, str, str]:
    """A fanout DLX, the queue it feeds, and a temp queue dead-lettering to it -> (dlx, dead, q)."""
    x, dead = _dlx(ch, names)
    q = declare_temp_queue(ch, arguments={"x-dead-letter-exchange": x, **args})
    return x, dead, q


def _drain(ch, q) -> list:
    """basic.get (auto-ack) until get-empty -> [(method, properties, body)]."""
    out = []
    for _ in range(1000):
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((m, p, b))
    raise AssertionError("queue did not drain")


def _dead(ch, q, n=1) -> list:
    """Wait until q holds n messages (dead-lettering is asynchronous), then drain it."""
    assert wait_message_count(ch, q, n) == n
    out = _drain(ch, q)
    assert len(out) == n
    return out


def _get(ch, q):
    m, p, b = ch.basic_get(q)
    assert m is not None, f"{q} is empty"
    return m, p, b


def _reject(ch, q, requeue=False):
    m, p, b = _get(ch, q)
    ch.basic_reject(m.delivery_tag, requeue=requeue)
    return m, p, b


def _death(entry: dict) -> dict:
    """An x-death entry with its types checked (count 'l', time 'T' = now, strings longstr), minus
    time, with count as plain int, for exact comparison."""
    assert type(entry["count"]) is long, entry  # pika decodes 'l' as pika.compat.long, 'I' as int
    t = entry["time"]
    assert isinstance(t, datetime.datetime), entry  # 'T' timestamp
    assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 10
    for k in ("reason", "queue", "exchange"):
        assert type(entry[k]) is str, entry  # 'S' longstr
    assert isinstance(entry["routing-keys"], list) and all(type(k) is str for k in entry["routing-keys"])
    out = {k: v for k, v in entry.items() if k != "time"}
    out["count"] = int(entry["count"])
    return out


def _deaths(props) -> list:
    return [_death(e) for e in props.headers["x-death"]]


def _first(props) -> tuple:
    h = props.headers
    return h["x-first-death-reason"], h["x-first-death-queue"], h["x-first-death-exchange"]


def _keys(headers) -> set:
    """Header names, leaving out the x-last-death-* that Warren adds as an extension (RabbitMQ 3.10
    writes none; test_x_last_death_headers is a strict xfail there)."""
    return {k for k in headers if not k.startswith("x-last-death-")}


def _entry(count, reason, queue, exchange, keys, **extra) -> dict:
    d = {"count": count, "reason": reason, "queue": queue, "exchange": exchange, "routing-keys": keys}
    d.update({k.replace("_", "-"): v for k, v in extra.items()})
    return d


# ---------------------------------------------------------------- reject / nack

def test_reject_without_requeue_dead_letters_to_the_dlx(pika_channel, names):
    x, dead, q = _setup(pika_channel, names)
    pika_channel.basic_publish("", q, b"body")
    _reject(pika_channel, q)
    [(m, p, b)] = _dead(pika_channel, dead)
    assert (b, m.exchange, m.routing_key, m.redelivered) == (b"body", x, q, False)
    assert message_count(pika_channel, q) == 0


def test_nack_without_requeue_dead_letters_only_that_message(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    for i in range(3):
        pika_channel.basic_publish("", q, f"m{i}".encode())
    tags = [_get(pika_channel, q)[0].delivery_tag for _ in range(3)]
    pika_channel.basic_nack(tags[1], multiple=False, requeue=False)
    assert [b for _m, _p, b in _dead(pika_channel, dead)] == [b"m1"]
    pika_channel.basic_nack(tags[2], requeue=True)
    pika_channel.basic_ack(tags[0])
    assert [(b, m.redelivered) for m, _p, b in _drain(pika_channel, q)] == [(b"m2", True)]


def test_nack_multiple_without_requeue_dead_letters_all_covered_in_order(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    for i in range(4):
        pika_channel.basic_publish("", q, f"m{i}".encode())
    tags = [_get(pika_channel, q)[0].delivery_tag for _ in range(4)]
    pika_channel.basic_nack(tags[2], multiple=True, requeue=False)
    assert [b for _m, _p, b in _dead(pika_channel, dead, 3)] == [b"m0", b"m1", b"m2"]
    pika_channel.basic_nack(0, multiple=True, requeue=False)  # tag 0 + multiple: all outstanding
    assert [b for _m, _p, b in _dead(pika_channel, dead, 1)] == [b"m3"]
    assert message_count(pika_channel, q) == 0


def test_reject_and_nack_with_requeue_do_not_dead_letter(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    pika_channel.basic_publish("", q, b"a")
    pika_channel.basic_publish("", q, b"b")
    m1, _p, _b = _get(pika_channel, q)
    m2, _p, _b = _get(pika_channel, q)
    pika_channel.basic_reject(m1.delivery_tag, requeue=True)
    pika_channel.basic_nack(m2.delivery_tag, multiple=False, requeue=True)
    sync(pika_channel)
    assert [(b, m.redelivered) for m, _p, b in _drain(pika_channel, q)] == [(b"a", True), (b"b", True)]
    assert message_count(pika_channel, dead) == 0


def test_consumer_reject_dead_letters_and_copy_is_not_redelivered(pika_conn, names):
    ch = pika_conn.channel()
    x, dead, q = _setup(ch, names)
    ch.basic_publish("", q, b"job")
    col = Collector()
    ch.basic_consume(q, col)
    assert wait_until(pika_conn, lambda: len(col) == 1)
    ch.basic_reject(col.tags[0], requeue=True)
    assert wait_until(pika_conn, lambda: len(col) == 2)
    assert col.messages[1][0].redelivered is True
    ch.basic_reject(col.tags[1], requeue=False)
    dead_col = Collector()
    ch.basic_consume(dead, dead_col, auto_ack=True)
    assert wait_until(pika_conn, lambda: len(dead_col) == 1)
    m, p, b = dead_col.messages[0]
    assert (b, m.exchange, m.routing_key, m.redelivered) == (b"job", x, q, False)
    assert [(d["reason"], d["count"]) for d in _deaths(p)] == [("rejected", 1)]


def test_dead_lettered_copy_keeps_body_and_properties(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", headers={"h": "v", "n": 7},
        delivery_mode=2, priority=3, correlation_id="corr", reply_to="replies", message_id="mid",
        timestamp=1234567890, type="t", user_id="guest", app_id="app")
    body = bytes(range(256)) * 4
    pika_channel.basic_publish("", q, body, props)
    _reject(pika_channel, q)
    [(_m, p, b)] = _dead(pika_channel, dead)
    assert b == body
    got = {k: getattr(p, k) for k in ("content_type", "content_encoding", "delivery_mode", "priority",
                                       "correlation_id", "reply_to", "expiration", "message_id",
                                       "timestamp", "type", "user_id", "app_id")}
    assert got == {"content_type": "application/json", "content_encoding": "utf-8", "delivery_mode": 2,
                   "priority": 3, "correlation_id": "corr", "reply_to": "replies", "expiration": None,
                   "message_id": "mid", "timestamp": 1234567890, "type": "t", "user_id": "guest",
                   "app_id": "app"}
    assert (p.headers["h"], p.headers["n"]) == ("v", 7)
    assert _keys(p.headers) == {"h", "n", "x-death", "x-first-death-reason", "x-first-death-queue",
                              "x-first-death-exchange"}


def test_dead_letter_routing_key_replaces_the_routing_key(pika_channel, names):
    x, dead = _dlx(pika_channel, names, "direct", bindings=("dl",))
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x,
                                                    "x-dead-letter-routing-key": "dl"})
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q)
    [(m, p, _b)] = _dead(pika_channel, dead)
    assert (m.exchange, m.routing_key) == (x, "dl")
    assert _deaths(p) == [_entry(1, "rejected", q, "", [q])]


def test_default_exchange_as_dlx_with_routing_key_delivers_to_that_queue(pika_channel, names):
    target = names("target")
    pika_channel.queue_declare(target, exclusive=True)
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": "",
                                                    "x-dead-letter-routing-key": target})
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q)
    [(m, p, b)] = _dead(pika_channel, target)
    assert (b, m.exchange, m.routing_key) == (b"m", "", target)
    assert _first(p) == ("rejected", q, "")


# ---------------------------------------------------------------- the x-death header

def test_x_death_header_of_a_rejected_message(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    src = names("src")
    pika_channel.exchange_declare(src, "direct", auto_delete=True)
    pika_channel.queue_bind(q, src, "k")
    pika_channel.basic_publish(src, "k", b"m", pika.BasicProperties(headers={"app": "x"}))
    _reject(pika_channel, q)
    [(_m, p, _b)] = _dead(pika_channel, dead)
    [raw] = p.headers["x-death"]
    assert type(p.headers["x-death"]) is list and type(raw) is dict
    assert _deaths(p) == [_entry(1, "rejected", q, src, ["k"])]
    assert _first(p) == ("rejected", q, src)
    assert all(type(v) is str for v in _first(p))


def test_x_death_table_key_order_on_the_wire(pika_channel, names):
    """First entry: insertion order; entries written into an existing x-death: sorted keys;
    the headers table: sorted (pika keeps wire order in its dicts)."""
    w, d = names("work"), names("delay")
    pika_channel.queue_declare(w, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": d})
    pika_channel.queue_declare(d, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": w})
    pika_channel.basic_publish("", w, b"m", pika.BasicProperties(expiration="60000", headers={"a": 1}))
    _reject(pika_channel, w)
    assert wait_message_count(pika_channel, d, 1) == 1
    _m, p, _b = _reject(pika_channel, d)
    assert [k for k in p.headers if k in _keys(p.headers)] == [
        "a", "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason"]
    assert list(p.headers["x-death"][0]) == FIRST_ENTRY_KEYS + ["original-expiration"]
    assert wait_message_count(pika_channel, w, 1) == 1
    _m, p, _b = _get(pika_channel, w)
    new, old = p.headers["x-death"]
    assert list(new) == ["count", "exchange", "queue", "reason", "routing-keys", "time"]
    assert list(old) == FIRST_ENTRY_KEYS + ["original-expiration"]


def test_x_death_original_expiration_and_the_copy_has_no_expiration(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    pika_channel.basic_publish("", q, b"m", pika.BasicProperties(expiration="60000"))
    _m, p, _b = _reject(pika_channel, q)
    assert p.expiration == "60000"
    [(_m, p, _b)] = _dead(pika_channel, dead)
    assert p.expiration is None
    assert _deaths(p) == [_entry(1, "rejected", q, "", [q], original_expiration="60000")]
    assert type(p.headers["x-death"][0]["original-expiration"]) is str


def test_expired_by_queue_ttl_is_dead_lettered_with_reason_expired(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names, **{"x-message-ttl": 50})
    pika_channel.basic_publish("", q, b"m")
    [(m, p, b)] = _dead(pika_channel, dead)
    assert (b, m.redelivered, p.expiration) == (b"m", False, None)
    assert _deaths(p) == [_entry(1, "expired", q, "", [q])]  # no original-expiration
    assert _first(p) == ("expired", q, "")


def test_expired_by_message_expiration_is_dead_lettered_with_original_expiration(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    pika_channel.basic_publish("", q, b"m", pika.BasicProperties(expiration="50"))
    [(_m, p, _b)] = _dead(pika_channel, dead)
    assert p.expiration is None
    assert _deaths(p) == [_entry(1, "expired", q, "", [q], original_expiration="50")]


def test_expired_by_queue_ttl_keeps_the_longer_message_expiration_as_original(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names, **{"x-message-ttl": 50})
    pika_channel.basic_publish("", q, b"m", pika.BasicProperties(expiration="60000"))
    [(_m, p, _b)] = _dead(pika_channel, dead)
    assert _deaths(p) == [_entry(1, "expired", q, "", [q], original_expiration="60000")]


def test_x_death_routing_keys_list_cc_keys_but_not_bcc_keys(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    src = names("src")
    pika_channel.exchange_declare(src, "direct", auto_delete=True)
    pika_channel.queue_bind(q, src, "k")
    pika_channel.basic_publish(src, "k", b"m", pika.BasicProperties(
        headers={"CC": ["c1", "c2"], "BCC": ["b1"]}))
    _reject(pika_channel, q)
    [(_m, p, _b)] = _dead(pika_channel, dead)
    assert _deaths(p) == [_entry(1, "rejected", q, src, ["k", "c1", "c2"])]
    assert p.headers["CC"] == ["c1", "c2"] and "BCC" not in p.headers


def test_x_death_counts_per_queue_and_reason_in_a_retry_loop(pika_channel, names):
    """work rejects -> "" DLX -> delay queue (TTL) -> expires -> "" DLX -> work, three rounds."""
    w, d = names("work"), names("delay")
    pika_channel.queue_declare(w, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": d})
    pika_channel.queue_declare(d, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": w, "x-message-ttl": 30})
    pika_channel.basic_publish("", w, b"job", pika.BasicProperties(headers={"CC": ["cc"]}, expiration="60000"))
    seen = []
    for _round in range(3):
        assert wait_message_count(pika_channel, w, 1) == 1
        m, p, b = _reject(pika_channel, w)
        seen.append((b, m.exchange, m.routing_key, m.redelivered, p.expiration))
    assert wait_message_count(pika_channel, w, 1) == 1
    m, p, b = _get(pika_channel, w)
    assert seen == [(b"job", "", w, False, "60000")] + [(b"job", "", w, False, None)] * 2
    assert (m.exchange, m.routing_key, m.redelivered) == ("", w, False)
    assert "CC" not in p.headers  # removed by x-dead-letter-routing-key
    assert _deaths(p) == [
        _entry(3, "expired", d, "", [d]),
        _entry(3, "rejected", w, "", [w, "cc"], original_expiration="60000"),
    ]
    assert _first(p) == ("rejected", w, "")


def test_x_death_increment_keeps_the_entrys_first_time_exchange_and_keys(pika_channel, names):
    src = names("src")
    pika_channel.exchange_declare(src, "direct", auto_delete=True)
    w = names("work")
    pika_channel.queue_declare(w, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": w})  # rejects come back to w
    pika_channel.queue_bind(w, src, "k")
    pika_channel.basic_publish(src, "k", b"m", pika.BasicProperties(headers={"CC": ["c"]}))
    _reject(pika_channel, w)
    assert wait_message_count(pika_channel, w, 1) == 1
    m, p, _b = _get(pika_channel, w)
    assert (m.exchange, m.routing_key) == ("", w)
    first_time = p.headers["x-death"][0]["time"]
    # wait into the next second so a rewritten time would differ
    time.sleep(max(0.0, first_time.timestamp() + 1.05 - time.time()))
    pika_channel.basic_reject(m.delivery_tag, requeue=False)
    assert wait_message_count(pika_channel, w, 1) == 1
    _m, p, _b = _get(pika_channel, w)
    assert _deaths(p) == [_entry(2, "rejected", w, src, ["k", "c"])]
    assert p.headers["x-death"][0]["time"] == first_time
    assert _first(p) == ("rejected", w, src)


def test_x_death_separate_entries_per_reason_and_the_older_entries_are_reversed(pika_channel, names):
    """w (TTL) rejects to r, r rejects back to w, it expires in w and goes to r, r rejects it to w.
    Each new death puts its entry first and the remaining entries in REVERSED order (RabbitMQ's
    group_by_queue_and_reason folds them into an accumulator): "most recent first" only holds for
    up to two entries."""
    w, r = names("w"), names("r")
    pika_channel.queue_declare(w, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": r, "x-message-ttl": 300})
    pika_channel.queue_declare(r, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": w})
    pika_channel.basic_publish("", w, b"m")
    _reject(pika_channel, w)
    assert wait_message_count(pika_channel, r, 1) == 1
    _reject(pika_channel, r)
    assert wait_message_count(pika_channel, w, 1) == 1
    assert wait_message_count(pika_channel, r, 1) == 1  # after the TTL
    m, p, _b = _get(pika_channel, r)
    assert _deaths(p) == [  # before: [r rejected, w rejected]
        _entry(1, "expired", w, "", [w]),
        _entry(1, "rejected", w, "", [w]),
        _entry(1, "rejected", r, "", [r]),
    ]
    pika_channel.basic_reject(m.delivery_tag, requeue=False)
    assert wait_message_count(pika_channel, w, 1) == 1
    m, p, _b = _get(pika_channel, w)
    assert _deaths(p) == [
        _entry(2, "rejected", r, "", [r]),
        _entry(1, "rejected", w, "", [w]),
        _entry(1, "expired", w, "", [w]),
    ]
    assert _first(p) == ("rejected", w, "")


def test_x_death_a_new_entry_goes_first_and_the_others_are_reversed(pika_channel, names):
    """A client may republish a message with its x-death: it is taken as is. Four entries
    [d, c, b, a] plus a new death in e give [e, a, b, c, d]; another death in a gives [a(2), d, c, b, e]."""
    a, e = names("a"), names("e")
    pika_channel.queue_declare(e, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": a})
    pika_channel.queue_declare(a, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": e})
    stamp = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)

    def old(q):
        return {"count": 1, "reason": "rejected", "queue": q, "time": stamp, "exchange": "",
                "routing-keys": [q]}
    given = [old("d"), old("c"), old("b"), old(a)]
    pika_channel.basic_publish("", e, b"m", pika.BasicProperties(headers={"x-death": given}))
    _reject(pika_channel, e)
    assert wait_message_count(pika_channel, a, 1) == 1
    m, p, _b = _get(pika_channel, a)
    assert [(x["queue"], int(x["count"])) for x in p.headers["x-death"]] == [
        (e, 1), (a, 1), ("b", 1), ("c", 1), ("d", 1)]
    assert "x-first-death-queue" not in p.headers  # only written when there was no x-death
    pika_channel.basic_reject(m.delivery_tag, requeue=False)
    assert wait_message_count(pika_channel, e, 1) == 1
    m, p, _b = _get(pika_channel, e)
    assert [(x["queue"], int(x["count"])) for x in p.headers["x-death"]] == [
        (a, 2), ("d", 1), ("c", 1), ("b", 1), (e, 1)]


# ---------------------------------------------------------------- routing of the copy

def test_without_dead_letter_routing_key_cc_and_bcc_keys_route_on_the_dlx(pika_channel, names):
    x = names("dlx")
    pika_channel.exchange_declare(x, "direct", auto_delete=True)
    qs = {}
    for key in ("k", "cc", "bcc", "other"):
        qs[key] = declare_temp_queue(pika_channel)
        pika_channel.queue_bind(qs[key], x, key)
    src = names("src")
    pika_channel.exchange_declare(src, "direct", auto_delete=True)
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
    pika_channel.queue_bind(q, src, "k")
    pika_channel.basic_publish(src, "k", b"m", pika.BasicProperties(headers={"CC": ["cc"], "BCC": ["bcc"]}))
    _m, p, _b = _reject(pika_channel, q)
    assert p.headers == {"CC": ["cc"]}  # BCC stripped at publish
    for key in ("k", "cc", "bcc"):
        [(m, p, _b)] = _dead(pika_channel, qs[key])
        assert (m.exchange, m.routing_key) == (x, "k")
        assert p.headers["CC"] == ["cc"] and "BCC" not in p.headers
        assert _deaths(p) == [_entry(1, "rejected", q, src, ["k", "cc"])]
    assert message_count(pika_channel, qs["other"]) == 0


def test_with_dead_letter_routing_key_cc_is_removed_and_only_that_key_routes(pika_channel, names):
    x = names("dlx")
    pika_channel.exchange_declare(x, "direct", auto_delete=True)
    qs = {}
    for key in ("dl", "k", "cc", "bcc"):
        qs[key] = declare_temp_queue(pika_channel)
        pika_channel.queue_bind(qs[key], x, key)
    src = names("src")
    pika_channel.exchange_declare(src, "direct", auto_delete=True)
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x,
                                                    "x-dead-letter-routing-key": "dl"})
    pika_channel.queue_bind(q, src, "k")
    pika_channel.basic_publish(src, "k", b"m", pika.BasicProperties(
        headers={"CC": ["cc"], "BCC": ["bcc"], "keep": "me"}))
    _reject(pika_channel, q)
    [(m, p, _b)] = _dead(pika_channel, qs["dl"])
    assert (m.exchange, m.routing_key) == (x, "dl")
    assert "CC" not in p.headers and "BCC" not in p.headers and p.headers["keep"] == "me"
    assert _deaths(p) == [_entry(1, "rejected", q, src, ["k", "cc"])]
    time.sleep(0.1)
    assert [message_count(pika_channel, qs[k]) for k in ("k", "cc", "bcc")] == [0, 0, 0]


def test_dlx_routing_to_several_queues_gives_each_a_copy(pika_channel, names):
    x = names("dlx")
    pika_channel.exchange_declare(x, "fanout", auto_delete=True)
    dead = [declare_temp_queue(pika_channel) for _ in range(3)]
    for d in dead:
        pika_channel.queue_bind(d, x)
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q)
    for d in dead:
        [(m, p, b)] = _dead(pika_channel, d)
        assert (b, m.exchange) == (b"m", x)
        assert _deaths(p) == [_entry(1, "rejected", q, "", [q])]


def test_dlx_alternate_exchange_routes_what_the_dlx_does_not(pika_channel, names):
    ae, ae_q = _dlx(pika_channel, names)
    x, bound = _dlx(pika_channel, names, "direct", bindings=("elsewhere",),
                    arguments={"alternate-exchange": ae})
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q)
    [(m, p, b)] = _dead(pika_channel, ae_q)
    assert (b, m.exchange, m.routing_key) == (b"m", x, q)  # the DLX's name, not the AE's
    assert _deaths(p) == [_entry(1, "rejected", q, "", [q])]
    assert message_count(pika_channel, bound) == 0


def test_dlx_routing_to_no_queue_drops_the_message(pika_channel, names):
    x = names("dlx")
    pika_channel.exchange_declare(x, "direct", auto_delete=False)
    try:
        q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
        pika_channel.basic_publish("", q, b"m")
        _reject(pika_channel, q)
        sync(pika_channel)
        time.sleep(0.1)
        assert pika_channel.is_open
        assert message_count(pika_channel, q) == 0
    finally:
        pika_channel.exchange_delete(x)


def test_missing_dlx_drops_rejected_message_and_channel_stays_open(pika_channel, names):
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": names("missing")})
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q)
    sync(pika_channel)
    time.sleep(0.1)
    assert pika_channel.is_open
    assert message_count(pika_channel, q) == 0
    m, _p, _b = pika_channel.basic_get(q)
    assert m is None


def test_missing_dlx_drops_expired_message(pika_channel, names):
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": names("missing"),
                                                    "x-message-ttl": 50})
    pika_channel.basic_publish("", q, b"m")
    assert wait_message_count(pika_channel, q, 0) == 0
    pika_channel.basic_publish("", q, b"again")
    assert wait_message_count(pika_channel, q, 0) == 0
    assert pika_channel.is_open


def test_dlx_declared_later_is_used(pika_channel, names):
    x = names("dlx")
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
    pika_channel.basic_publish("", q, b"early")
    pika_channel.basic_publish("", q, b"late")
    _reject(pika_channel, q)  # no DLX yet: dropped
    pika_channel.exchange_declare(x, "fanout", auto_delete=True)
    dead = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(dead, x)
    _reject(pika_channel, q)
    assert [b for _m, _p, b in _dead(pika_channel, dead)] == [b"late"]


# ---------------------------------------------------------------- cycles

def test_expiry_cycle_back_to_the_same_queue_is_dropped(pika_channel, names):
    """q (TTL) dead-letters to a fanout bound to q itself and a monitor: the monitor gets the
    copy once, q's copy is dropped as a cycle."""
    x, monitor = _dlx(pika_channel, names)
    q = names("q")
    pika_channel.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": x,
                                                              "x-message-ttl": 50})
    pika_channel.queue_bind(q, x)
    pika_channel.basic_publish("", q, b"m")
    [(_m, p, _b)] = _dead(pika_channel, monitor)
    assert _deaths(p) == [_entry(1, "expired", q, "", [q])]
    time.sleep(0.3)
    assert (message_count(pika_channel, q), message_count(pika_channel, monitor)) == (0, 0)


def test_expiry_cycle_through_two_queues_is_dropped_on_the_way_back(pika_channel, names):
    a, b = names("a"), names("b")
    x, monitor = _dlx(pika_channel, names)
    pika_channel.queue_declare(a, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": b, "x-message-ttl": 50})
    pika_channel.queue_declare(b, exclusive=True, arguments={
        "x-dead-letter-exchange": x, "x-message-ttl": 50})
    pika_channel.queue_bind(a, x)  # b's DLX feeds a and the monitor
    pika_channel.basic_publish("", a, b"m")
    [(_m, p, _b)] = _dead(pika_channel, monitor)
    assert _deaths(p) == [_entry(1, "expired", b, "", [b]), _entry(1, "expired", a, "", [a])]
    time.sleep(0.3)
    assert [message_count(pika_channel, q) for q in (a, b, monitor)] == [0, 0, 0]


def test_cycle_with_a_rejection_goes_round(pika_channel, names):
    q = names("q")
    pika_channel.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": ""})
    pika_channel.basic_publish("", q, b"m")  # default exchange: dead-lettered back to q by its key
    for n in range(1, 4):
        _reject(pika_channel, q)
        assert wait_message_count(pika_channel, q, 1) == 1
        m, p, _b = _get(pika_channel, q)
        assert (m.exchange, m.routing_key, m.redelivered) == ("", q, False)
        assert _deaths(p) == [_entry(n, "rejected", q, "", [q])]
        pika_channel.basic_nack(m.delivery_tag, requeue=True)


def test_expiry_after_a_rejection_into_the_same_queue_is_a_cycle(pika_channel, names):
    x, monitor = _dlx(pika_channel, names)
    q = names("q")
    pika_channel.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": x,
                                                              "x-message-ttl": 200})
    pika_channel.queue_bind(q, x)
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q)  # rejected: never a cycle, back into q (and the monitor)
    assert wait_message_count(pika_channel, monitor, 1) == 1
    assert message_count(pika_channel, q) == 1
    assert wait_message_count(pika_channel, monitor, 2) == 2  # it expired in q
    [_first_copy, (_m, p, _b)] = _drain(pika_channel, monitor)
    assert _deaths(p) == [_entry(1, "expired", q, x, [q]), _entry(1, "rejected", q, "", [q])]
    time.sleep(0.3)
    assert (message_count(pika_channel, q), message_count(pika_channel, monitor)) == (0, 0)


# ---------------------------------------------------------------- not dead-lettered

def test_purge_does_not_dead_letter(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    for i in range(3):
        pika_channel.basic_publish("", q, f"m{i}".encode())
    assert wait_message_count(pika_channel, q, 3) == 3
    assert pika_channel.queue_purge(q).method.message_count == 3
    time.sleep(0.2)
    assert message_count(pika_channel, dead) == 0


def test_delete_does_not_dead_letter_ready_or_unacked_messages(pika_conn, names):
    ch = pika_conn.channel()
    x, dead = _dlx(ch, names)
    q = names("q")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": x})
    try:
        for i in range(3):
            ch.basic_publish("", q, f"m{i}".encode())
        _get(ch, q)  # one unacked
        assert ch.queue_delete(q).method.message_count == 2
        time.sleep(0.2)
        assert message_count(ch, dead) == 0
    finally:
        ch.queue_delete(q)


def test_queue_expiry_does_not_dead_letter(pika_conn, names):
    ch = pika_conn.channel()
    x, dead = _dlx(ch, names)
    q = names("q")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": x, "x-expires": 100})
    ch.basic_publish("", q, b"m")
    time.sleep(0.5)
    with channel_closed(404):
        pika_conn.channel().queue_declare(q, passive=True)
    assert message_count(ch, dead) == 0


def test_requeue_by_channel_close_does_not_dead_letter(pika_conn, names):
    ch = pika_conn.channel()
    _x, dead, q = _setup(ch, names)
    ch.basic_publish("", q, b"m")
    other = pika_conn.channel()
    assert other.basic_get(q)[2] == b"m"
    other.close()
    assert [(b, m.redelivered) for m, _p, b in _drain(ch, q)] == [(b"m", True)]
    assert message_count(ch, dead) == 0


def test_requeue_by_connection_close_does_not_dead_letter(pika_connect, names):
    ch = pika_connect().channel()
    x, dead = _dlx(ch, names)
    q = names("q")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": x}, auto_delete=False)
    try:
        ch.basic_publish("", q, b"m")
        conn2 = pika_connect()
        assert conn2.channel().basic_get(q)[2] == b"m"
        conn2.close()
        assert wait_message_count(ch, q, 1) == 1
        assert [(b, m.redelivered) for m, _p, b in _drain(ch, q)] == [(b"m", True)]
        assert message_count(ch, dead) == 0
    finally:
        ch.queue_delete(q)


def test_basic_recover_does_not_dead_letter(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names)
    pika_channel.basic_publish("", q, b"m")
    _get(pika_channel, q)
    pika_channel.basic_recover(requeue=True)
    assert [(b, m.redelivered) for m, _p, b in _drain(pika_channel, q)] == [(b"m", True)]
    assert message_count(pika_channel, dead) == 0


# ---------------------------------------------------------------- priority queues

def test_priority_queue_dead_letters_with_priority_intact(pika_channel, names):
    _x, dead, q = _setup(pika_channel, names, **{"x-max-priority": 5})
    for body, prio in ((b"low", 1), (b"high", 5), (b"none", None)):
        pika_channel.basic_publish("", q, body, pika.BasicProperties(priority=prio))
    for _ in range(3):
        _reject(pika_channel, q)
    got = [(b, p.priority) for _m, p, b in _dead(pika_channel, dead, 3)]
    assert got == [(b"high", 5), (b"low", 1), (b"none", None)]


# ---------------------------------------------------------------- argument validation

def _declare_error(conn, name, args, code, text):
    ch = conn.channel()
    with channel_closed(code, text):
        ch.queue_declare(name, exclusive=True, arguments=args)


def test_dlx_of_wrong_type_is_406(pika_conn, names):
    for value, tname in ((5, "signedint"), (True, "bool"), (["a"], "array"), (b"bin", "binary"),
                         (decimal.Decimal("1.5"), "decimal")):
        q = names("q")
        _declare_error(pika_conn, q, {"x-dead-letter-exchange": value}, 406,
                       f"PRECONDITION_FAILED - invalid type '{tname}' for arg 'x-dead-letter-exchange' "
                       f"in queue '{q}' in vhost '/'")


def test_dead_letter_routing_key_without_dlx_is_406(pika_conn, names):
    q = names("q")
    _declare_error(pika_conn, q, {"x-dead-letter-routing-key": "k"}, 406,
                   f"PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue '{q}' in "
                   "vhost '/': routing_key_but_no_dlx_defined")


def test_dead_letter_routing_key_without_dlx_on_server_named_queue_is_406(pika_channel):
    with channel_closed(406) as ei:
        pika_channel.queue_declare("", exclusive=True, arguments={"x-dead-letter-routing-key": "k"})
    text = ei.value.reply_text
    assert text.startswith("PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue 'amq.gen-")
    assert text.endswith("' in vhost '/': routing_key_but_no_dlx_defined")


def test_dead_letter_routing_key_of_wrong_type_is_406(pika_conn, names):
    for value, tname in ((5, "signedint"), (b"bin", "binary")):
        q = names("q")
        _declare_error(pika_conn, q, {"x-dead-letter-exchange": "x", "x-dead-letter-routing-key": value},
                       406, f"PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue '{q}' "
                       f"in vhost '/': {{unacceptable_type,{tname}}}")


def test_dlx_need_not_exist_and_empty_name_is_the_default_exchange(pika_channel, names):
    for args in ({"x-dead-letter-exchange": names("missing")},
                 {"x-dead-letter-exchange": ""},
                 {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": ""}):
        assert declare_temp_queue(pika_channel, arguments=args)


def test_redeclare_with_different_dead_letter_arguments_is_406(pika_conn, names):
    q = names("q")
    pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "a"})
    pre = f"PRECONDITION_FAILED - inequivalent arg '%s' for queue '{q}' in vhost '/': "
    _declare_error(pika_conn, q, {"x-dead-letter-exchange": "b"}, 406,
                   pre % "x-dead-letter-exchange" + "received 'b' but current is 'a'")
    _declare_error(pika_conn, q, {}, 406,
                   pre % "x-dead-letter-exchange" + "received none but current is the value 'a' of type 'longstr'")
    _declare_error(pika_conn, q, {"x-dead-letter-exchange": "a", "x-dead-letter-routing-key": "r"}, 406,
                   pre % "x-dead-letter-routing-key"
                   + "received the value 'r' of type 'longstr' but current is none")
    ok = pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "a"})
    assert ok.method.queue == q
    assert pika_conn.channel().queue_declare(q, passive=True).method.queue == q


def test_inequivalent_dlx_is_reported_before_max_length_whatever_the_table_order(pika_conn, names):
    q = names("q")
    pika_conn.channel().queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "a",
                                                                    "x-max-length": 5})
    text = (f"PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue '{q}' in vhost '/': "
            "received 'b' but current is 'a'")
    _declare_error(pika_conn, q, {"x-max-length": 6, "x-dead-letter-exchange": "b"}, 406, text)
    _declare_error(pika_conn, q, {"x-dead-letter-exchange": "b", "x-max-length": 6}, 406, text)


# ---------------------------------------------------------------- Warren extensions

@pytest.mark.warren_extension("x-last-death-* headers, as RabbitMQ 3.13+ writes them")
def test_x_last_death_headers(pika_channel, names):
    w, d = names("work"), names("delay")
    pika_channel.queue_declare(w, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": d})
    pika_channel.queue_declare(d, exclusive=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": w, "x-message-ttl": 30})
    src = names("src")
    pika_channel.exchange_declare(src, "direct", auto_delete=True)
    pika_channel.queue_bind(w, src, "k")
    pika_channel.basic_publish(src, "k", b"job")
    m, _p, _b = _reject(pika_channel, w)
    assert wait_message_count(pika_channel, w, 1) == 1  # back from the delay queue
    _m, p, _b = _get(pika_channel, w)
    h = p.headers
    assert (h["x-last-death-reason"], h["x-last-death-queue"], h["x-last-death-exchange"]) == ("expired", d, "")
    assert _first(p) == ("rejected", w, src)
    x, dead = _dlx(pika_channel, names)
    q = declare_temp_queue(pika_channel, arguments={"x-dead-letter-exchange": x})
    pika_channel.basic_publish("", q, b"once")
    _reject(pika_channel, q)
    [(_m, p, _b)] = _dead(pika_channel, dead)
    h = p.headers
    assert (h["x-last-death-reason"], h["x-last-death-queue"], h["x-last-death-exchange"]) == ("rejected", q, "")


def _limited(ch, names, limit, dlx=True):
    """A temp queue with x-delivery-limit (and a fanout DLX unless dlx=False) -> (dead queue, q)."""
    args = {"x-delivery-limit": limit}
    dead = None
    if dlx:
        x, dead = _dlx(ch, names)
        args["x-dead-letter-exchange"] = x
    return dead, declare_temp_queue(ch, arguments=args)


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_is_accepted_on_classic_queues(pika_channel, names):
    for limit in (0, 1, 1000):
        assert declare_temp_queue(pika_channel, arguments={"x-delivery-limit": limit})
    q = names("q")
    pika_channel.queue_declare(q, exclusive=True, arguments={"x-delivery-limit": 3})
    assert pika_channel.queue_declare(q, exclusive=True, arguments={"x-delivery-limit": 3}).method.queue == q


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_negative_is_406(pika_conn, names):
    q = names("q")
    _declare_error(pika_conn, q, {"x-delivery-limit": -1}, 406,
                   f"PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue '{q}' in vhost '/': "
                   "{value_negative,-1}")


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_consumer_nack_requeue_then_dead_lettered(pika_conn, names):
    ch = pika_conn.channel()
    dead, q = _limited(ch, names, 2)
    ch.basic_publish("", q, b"m", pika.BasicProperties(headers={"app": 1}))
    col = Collector()
    ch.basic_consume(q, col)
    for n in range(1, 4):
        assert wait_until(pika_conn, lambda: len(col) == n)
        ch.basic_nack(col.tags[-1], requeue=True)
    [(m, p, b)] = _dead(ch, dead)
    settle(pika_conn, 0.1)
    assert len(col) == 3  # the first delivery and two redeliveries
    seen = [(mm.redelivered, (pp.headers or {}).get("x-delivery-count")) for mm, pp, _bb in col.messages]
    assert seen == [(False, None), (True, 1), (True, 2)]
    assert all(type(pp.headers["x-delivery-count"]) is long for _mm, pp, _bb in col.messages[1:])
    assert col.messages[1][1].headers["app"] == 1
    assert (b, m.redelivered) == (b"m", False)
    assert _deaths(p) == [_entry(1, "delivery_limit", q, "", [q])]
    assert _first(p) == ("delivery_limit", q, "")
    assert message_count(ch, q) == 0


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_counts_basic_get_reject_requeue(pika_channel, names):
    dead, q = _limited(pika_channel, names, 1)
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q, requeue=True)
    m, p, _b = _get(pika_channel, q)
    assert (m.redelivered, p.headers["x-delivery-count"]) == (True, 1)
    pika_channel.basic_reject(m.delivery_tag, requeue=True)
    [(_m, p, _b)] = _dead(pika_channel, dead)
    assert [d["reason"] for d in _deaths(p)] == ["delivery_limit"]
    assert message_count(pika_channel, q) == 0


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_counts_requeue_by_channel_close(pika_conn, names):
    ch = pika_conn.channel()
    dead, q = _limited(ch, names, 1)
    ch.basic_publish("", q, b"m")
    counts = []
    for _ in range(2):
        other = pika_conn.channel()
        m, p, b = other.basic_get(q)
        assert b == b"m"
        counts.append((m.redelivered, (p.headers or {}).get("x-delivery-count")))
        other.close()
    assert counts[0][0] is False and counts[1] == (True, 1)
    [(_m, p, _b)] = _dead(ch, dead)
    assert [d["reason"] for d in _deaths(p)] == ["delivery_limit"]
    assert message_count(ch, q) == 0


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_zero_dead_letters_at_the_first_return(pika_channel, names):
    dead, q = _limited(pika_channel, names, 0)
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q, requeue=True)
    [(_m, p, b)] = _dead(pika_channel, dead)
    assert b == b"m"
    assert [d["reason"] for d in _deaths(p)] == ["delivery_limit"]
    assert message_count(pika_channel, q) == 0


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_reject_without_requeue_is_still_reason_rejected(pika_channel, names):
    dead, q = _limited(pika_channel, names, 5)
    pika_channel.basic_publish("", q, b"m")
    _reject(pika_channel, q, requeue=True)
    _reject(pika_channel, q, requeue=False)
    [(_m, p, _b)] = _dead(pika_channel, dead)
    assert [(d["reason"], d["count"]) for d in _deaths(p)] == [("rejected", 1)]


@pytest.mark.warren_extension("x-delivery-limit on classic queues (RabbitMQ 3.10: quorum queues only)")
def test_delivery_limit_without_dlx_drops_the_message(pika_channel, names):
    _dead_q, q = _limited(pika_channel, names, 1, dlx=False)
    pika_channel.basic_publish("", q, b"m")
    pika_channel.basic_publish("", q, b"other")
    for _ in range(2):
        m, _p, b = _get(pika_channel, q)
        assert b == b"m"
        pika_channel.basic_nack(m.delivery_tag, requeue=True)
    sync(pika_channel)
    assert [b for _m, _p, b in _drain(pika_channel, q)] == [b"other"]

"""queue.*: declare (server-named, passive, flags, equivalence), exclusive, auto-delete, purge,
delete, bind/unbind."""

import time

import pika
import pytest

from util import (Collector, channel_closed, declare_temp_queue, message_count, publish_n, settle,
                  wait_message_count, wait_until)


def _gone(ch_factory, name, timeout=5.0):
    """True once passive declare of name fails with 404 (each try on a fresh channel)."""
    deadline = time.monotonic() + timeout
    while True:
        ch = ch_factory()
        try:
            ch.queue_declare(name, passive=True)
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404, e
            return True
        ch.close()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# ---------------------------------------------------------------- declare

def test_queue_declare_server_named_has_amq_gen_prefix(pika_channel):
    ok = pika_channel.queue_declare("", exclusive=True).method
    assert ok.queue.startswith("amq.gen-"), ok.queue
    assert len(ok.queue) > len("amq.gen-")
    assert (ok.message_count, ok.consumer_count) == (0, 0)
    other = pika_channel.queue_declare("", exclusive=True).method.queue
    assert other != ok.queue


def test_queue_declare_client_named_echoes_name(pika_channel, unique_name):
    ok = pika_channel.queue_declare(unique_name, exclusive=True).method
    assert ok.queue == unique_name


def test_queue_declare_ok_reports_message_and_consumer_counts(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, exclusive=True)
    publish_n(ch, unique_name, 3)
    assert wait_message_count(ch, unique_name, 3) == 3
    cch = pika_conn.channel()
    cch.basic_qos(prefetch_count=1)
    cch.basic_consume(unique_name, lambda *a: None)
    cch.basic_consume(unique_name, lambda *a: None)
    settle(pika_conn, 0.2)
    ok = ch.queue_declare(unique_name, exclusive=True).method
    # message_count counts ready messages only (two went to the consumers, unacked).
    assert (ok.queue, ok.message_count, ok.consumer_count) == (unique_name, 1, 2)


def test_queue_declare_passive_existing_reports_counts(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True)
    publish_n(pika_channel, unique_name, 2)
    assert wait_message_count(pika_channel, unique_name, 2) == 2
    ok = pika_channel.queue_declare(unique_name, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (unique_name, 2, 0)


def test_queue_declare_passive_missing_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'"):
        pika_channel.queue_declare(unique_name, passive=True)


def test_queue_declare_passive_ignores_other_flags(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True)
    ok = pika_channel.queue_declare(unique_name, passive=True, durable=True, auto_delete=True).method
    assert ok.queue == unique_name


def test_queue_declare_amq_prefix_is_403(pika_channel):
    with channel_closed(403, "ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'"):
        pika_channel.queue_declare("amq.foo")


def test_queue_declare_redeclare_equivalent_is_ok(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, durable=True, arguments={"x-max-length": 10})
    try:
        ok = pika_channel.queue_declare(unique_name, durable=True, arguments={"x-max-length": 10}).method
        assert ok.queue == unique_name
    finally:
        pika_channel.queue_delete(unique_name)


def test_queue_declare_inequivalent_durable_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name, durable=False)
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'durable' for queue '{unique_name}' "
                                 "in vhost '/': received 'true' but current is 'false'"):
            ch.queue_declare(unique_name, durable=True)
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_declare_inequivalent_durable_false_on_durable_queue_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name, durable=True)
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'durable' for queue '{unique_name}' "
                                 "in vhost '/': received 'false' but current is 'true'"):
            ch.queue_declare(unique_name, durable=False)
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_declare_inequivalent_auto_delete_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name)
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '{unique_name}' "
                                 "in vhost '/': received 'true' but current is 'false'"):
            ch.queue_declare(unique_name, auto_delete=True)
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_declare_inequivalent_argument_value_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name, arguments={"x-max-length": 10})
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '{unique_name}' "
                                 "in vhost '/': received '11' but current is '10'"):
            ch.queue_declare(unique_name, arguments={"x-max-length": 11})
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_declare_inequivalent_argument_added_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name)
    try:
        with channel_closed(406, f"PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '{unique_name}' "
                                 "in vhost '/': received the value '10' of type 'signedint' but current is none"):
            ch.queue_declare(unique_name, arguments={"x-max-length": 10})
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_declare_exclusive_mismatch_on_own_connection_is_405(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name, exclusive=True)
    with channel_closed(405, startswith=f"RESOURCE_LOCKED - cannot obtain exclusive access to locked queue "
                                        f"'{unique_name}' in vhost '/'"):
        pika_channel.queue_declare(unique_name, exclusive=False)


def test_queue_durable_declare_is_visible_to_other_connections(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name, durable=True)
    try:
        ok = pika_connect().channel().queue_declare(unique_name, durable=True).method
        assert ok.queue == unique_name
    finally:
        ch.queue_delete(unique_name)


# ---------------------------------------------------------------- exclusive / auto-delete

RESOURCE_LOCKED = ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{q}' in vhost '/'. "
                   "It could be originally declared on another connection or the exclusive property value "
                   "does not match that of the original declaration.")


@pytest.mark.parametrize("op", ["passive_declare", "declare", "consume", "get", "purge", "delete", "bind"])
def test_queue_exclusive_used_from_another_connection_is_405(pika_connect, unique_name, op):
    owner = pika_connect().channel()
    owner.queue_declare(unique_name, exclusive=True)
    other = pika_connect().channel()
    actions = {
        "passive_declare": lambda: other.queue_declare(unique_name, passive=True),
        "declare": lambda: other.queue_declare(unique_name, exclusive=True),
        "consume": lambda: other.basic_consume(unique_name, lambda *a: None),
        "get": lambda: other.basic_get(unique_name),
        "purge": lambda: other.queue_purge(unique_name),
        "delete": lambda: other.queue_delete(unique_name),
        "bind": lambda: other.queue_bind(unique_name, "amq.direct", "k"),
    }
    with channel_closed(405, RESOURCE_LOCKED.format(q=unique_name)):
        actions[op]()
    # still there for its owner
    assert owner.queue_declare(unique_name, passive=True).method.queue == unique_name


def test_queue_exclusive_server_named_used_from_another_connection_is_405(pika_connect):
    owner = pika_connect().channel()
    q = declare_temp_queue(owner)
    other = pika_connect().channel()
    with channel_closed(405, RESOURCE_LOCKED.format(q=q)):
        other.basic_get(q)


def test_queue_exclusive_is_usable_from_other_channels_of_same_connection(pika_conn, unique_name):
    ch1, ch2 = pika_conn.channel(), pika_conn.channel()
    ch1.queue_declare(unique_name, exclusive=True)
    ch2.basic_publish("", unique_name, b"x")
    assert wait_message_count(ch2, unique_name, 1) == 1
    assert ch2.basic_get(unique_name, auto_ack=True)[2] == b"x"


def test_queue_exclusive_deleted_when_connection_closes(pika_connect, unique_name):
    c1 = pika_connect()
    c1.channel().queue_declare(unique_name, exclusive=True)
    observer = pika_connect()
    with channel_closed(405):  # exists, and locked to c1
        observer.channel().queue_declare(unique_name, passive=True)
    c1.close()
    assert _gone(observer.channel, unique_name)


def test_queue_exclusive_deleted_when_connection_drops_abruptly(pika_connect, raw_connect, unique_name):
    import amqpraw as R
    raw = raw_connect()
    raw.handshake()
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK
    raw.send_method(1, R.QUEUE_DECLARE, R.queue_declare_args(unique_name, exclusive=True))
    raw.expect(R.QUEUE_DECLARE_OK, 1)
    observer = pika_connect()
    with channel_closed(405):
        observer.channel().queue_declare(unique_name, passive=True)
    raw.close()  # TCP close without connection.close
    assert _gone(observer.channel, unique_name)


def test_queue_auto_delete_deleted_after_last_consumer_cancels(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, auto_delete=True)
    t1 = ch.basic_consume(unique_name, lambda *a: None)
    t2 = ch.basic_consume(unique_name, lambda *a: None)
    ch.basic_cancel(t1)
    ok = pika_conn.channel().queue_declare(unique_name, passive=True).method
    assert ok.consumer_count == 1
    ch.basic_cancel(t2)
    assert _gone(pika_conn.channel, unique_name)


def test_queue_auto_delete_deleted_when_consumer_channel_closes(pika_conn, unique_name):
    ch = pika_conn.channel()
    ch.queue_declare(unique_name, auto_delete=True)
    ch.basic_consume(unique_name, lambda *a: None)
    ch.close()
    assert _gone(pika_conn.channel, unique_name)


def test_queue_auto_delete_never_consumed_is_not_deleted(pika_connect, unique_name):
    c1 = pika_connect()
    c1.channel().queue_declare(unique_name, auto_delete=True)
    c1.close()
    ch = pika_connect().channel()
    try:
        assert ch.queue_declare(unique_name, passive=True).method.queue == unique_name
    finally:
        ch.queue_delete(unique_name)


# ---------------------------------------------------------------- purge / delete

def test_queue_purge_returns_count_and_empties(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 7)
    assert wait_message_count(pika_channel, q, 7) == 7
    assert pika_channel.queue_purge(q).method.message_count == 7
    assert message_count(pika_channel, q) == 0
    assert pika_channel.queue_purge(q).method.message_count == 0


def test_queue_purge_leaves_unacked_messages(pika_channel):
    q = declare_temp_queue(pika_channel)
    publish_n(pika_channel, q, 3)
    assert wait_message_count(pika_channel, q, 3) == 3
    m, _p, _b = pika_channel.basic_get(q)
    assert pika_channel.queue_purge(q).method.message_count == 2
    pika_channel.basic_nack(m.delivery_tag, requeue=True)
    assert wait_message_count(pika_channel, q, 1) == 1


def test_queue_purge_missing_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'"):
        pika_channel.queue_purge(unique_name)


def test_queue_delete_returns_message_count(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name)
    publish_n(pika_channel, unique_name, 4)
    assert wait_message_count(pika_channel, unique_name, 4) == 4
    assert pika_channel.queue_delete(unique_name).method.message_count == 4
    with channel_closed(404):
        pika_channel.queue_declare(unique_name, passive=True)


def test_queue_delete_missing_is_ok_with_zero(pika_channel, unique_name):
    assert pika_channel.queue_delete(unique_name).method.message_count == 0


def test_queue_delete_if_empty_on_nonempty_is_406(pika_connect, unique_name):
    ch = pika_connect().channel()
    ch.queue_declare(unique_name)
    try:
        ch.basic_publish("", unique_name, b"x")
        assert wait_message_count(ch, unique_name, 1) == 1
        with channel_closed(406, f"PRECONDITION_FAILED - queue '{unique_name}' in vhost '/' not empty"):
            ch.queue_delete(unique_name, if_empty=True)
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_delete_if_empty_on_empty_succeeds(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name)
    assert pika_channel.queue_delete(unique_name, if_empty=True).method.message_count == 0


def test_queue_delete_if_unused_with_consumer_is_406(pika_connect, unique_name):
    conn = pika_connect()
    ch = conn.channel()
    ch.queue_declare(unique_name)
    try:
        ch.basic_consume(unique_name, lambda *a: None)
        with channel_closed(406, f"PRECONDITION_FAILED - queue '{unique_name}' in vhost '/' in use"):
            conn.channel().queue_delete(unique_name, if_unused=True)
    finally:
        pika_connect().channel().queue_delete(unique_name)


def test_queue_delete_if_unused_without_consumers_succeeds(pika_channel, unique_name):
    pika_channel.queue_declare(unique_name)
    pika_channel.basic_publish("", unique_name, b"x")
    assert wait_message_count(pika_channel, unique_name, 1) == 1
    assert pika_channel.queue_delete(unique_name, if_unused=True).method.message_count == 1


def test_queue_empty_name_refers_to_last_declared_queue_on_channel(pika_channel):
    q = declare_temp_queue(pika_channel)
    pika_channel.queue_bind("", "amq.direct", "lastq-key")
    pika_channel.basic_publish("amq.direct", "lastq-key", b"x")
    assert wait_message_count(pika_channel, q, 1) == 1
    m, _p, body = pika_channel.basic_get("")
    assert (m.routing_key, body) == ("lastq-key", b"x")
    assert pika_channel.queue_purge("").method.message_count == 0


def test_queue_empty_name_without_previous_declare_is_404(pika_channel):
    with channel_closed(404, "NOT_FOUND - no previously declared queue"):
        pika_channel.basic_get("")


# ---------------------------------------------------------------- bind / unbind

def test_queue_bind_and_unbind_direct(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(q, "amq.direct", unique_name)
    pika_channel.basic_publish("amq.direct", unique_name, b"bound")
    assert wait_message_count(pika_channel, q, 1) == 1
    pika_channel.queue_unbind(q, "amq.direct", unique_name)
    pika_channel.basic_publish("amq.direct", unique_name, b"unbound")
    pika_channel.basic_publish("", q, b"marker")
    assert wait_message_count(pika_channel, q, 2) == 2
    bodies = [pika_channel.basic_get(q, auto_ack=True)[2] for _ in range(2)]
    assert bodies == [b"bound", b"marker"]


def test_queue_bind_is_idempotent(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    pika_channel.queue_bind(q, "amq.direct", unique_name)
    pika_channel.queue_bind(q, "amq.direct", unique_name)
    pika_channel.basic_publish("amq.direct", unique_name, b"once")
    pika_channel.basic_publish("", q, b"marker")
    assert wait_message_count(pika_channel, q, 2) == 2


def test_queue_bind_missing_exchange_is_404(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    with channel_closed(404, f"NOT_FOUND - no exchange '{unique_name}' in vhost '/'"):
        pika_channel.queue_bind(q, unique_name, "k")


def test_queue_bind_missing_queue_is_404(pika_channel, unique_name):
    with channel_closed(404, f"NOT_FOUND - no queue '{unique_name}' in vhost '/'"):
        pika_channel.queue_bind(unique_name, "amq.direct", "k")


def test_queue_bind_to_default_exchange_is_403(pika_channel):
    q = declare_temp_queue(pika_channel)
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        pika_channel.queue_bind(q, "", "k")


def test_queue_unbind_missing_binding_is_ok(pika_channel, unique_name):
    q = declare_temp_queue(pika_channel)
    pika_channel.queue_unbind(q, "amq.direct", unique_name)
    pika_channel.queue_declare(q, passive=True)


def test_queue_delete_removes_its_bindings(pika_channel, unique_name, names):
    ex = names("x")
    pika_channel.exchange_declare(ex, "fanout", auto_delete=False)
    try:
        pika_channel.queue_declare(unique_name)
        pika_channel.queue_bind(unique_name, ex)
        pika_channel.queue_delete(unique_name)
        # exchange no longer in use: if-unused delete succeeds
        pika_channel.exchange_delete(ex, if_unused=True)
    finally:
        pika_channel.exchange_delete(ex)

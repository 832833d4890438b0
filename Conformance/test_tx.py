"""tx.*: transactional publishes and acks."""

import pika

from util import (channel_closed, declare_temp_queue, message_count, publish_n, settle, sync,
                  wait_message_count, wait_until)


def test_tx_select_ok(pika_channel):
    pika_channel.tx_select()
    pika_channel.tx_commit()  # committing an empty transaction is fine


def test_tx_publishes_held_until_commit(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    observer = pika_conn.channel()
    ch.tx_select()
    publish_n(ch, q, 3)
    sync(ch)
    settle(pika_conn, 0.2)
    assert message_count(observer, q) == 0
    assert observer.basic_get(q) == (None, None, None)
    ch.tx_commit()
    assert message_count(observer, q) == 3  # commit-ok means they are enqueued
    assert [observer.basic_get(q, auto_ack=True)[2] for _ in range(3)] == [b"m0", b"m1", b"m2"]


def test_tx_publishes_discarded_on_rollback(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    ch.tx_select()
    publish_n(ch, q, 3, prefix="rolled")
    ch.tx_rollback()
    ch.basic_publish("", q, b"kept")
    ch.tx_commit()
    assert message_count(ch, q) == 1
    assert ch.basic_get(q, auto_ack=True)[2] == b"kept"


def test_tx_channel_stays_transactional_after_commit(pika_conn):
    ch = pika_conn.channel()
    q = declare_temp_queue(ch)
    ch.tx_select()
    ch.basic_publish("", q, b"first")
    ch.tx_commit()
    ch.basic_publish("", q, b"second")
    sync(ch)
    settle(pika_conn, 0.1)
    assert message_count(ch, q) == 1
    ch.tx_commit()
    assert message_count(ch, q) == 2


def test_tx_acks_held_until_commit(pika_conn):
    setup = pika_conn.channel()
    q = declare_temp_queue(setup)
    publish_n(setup, q, 2)
    assert wait_message_count(setup, q, 2) == 2
    ch = pika_conn.channel()
    ch.tx_select()
    m1, _, _ = ch.basic_get(q)
    m2, _, _ = ch.basic_get(q)
    ch.basic_ack(m1.delivery_tag)
    ch.tx_commit()
    ch.basic_ack(m2.delivery_tag)  # not committed
    ch.close()  # uncommitted ack is discarded: m2 is requeued, m1 stays acked
    assert wait_message_count(setup, q, 1) == 1
    m, _p, body = setup.basic_get(q, auto_ack=True)
    assert (body, m.redelivered) == (b"m1", True)


def test_tx_ack_rollback_leaves_message_unacked(pika_conn):
    setup = pika_conn.channel()
    q = declare_temp_queue(setup)
    setup.basic_publish("", q, b"x")
    assert wait_message_count(setup, q, 1) == 1
    ch = pika_conn.channel()
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    ch.tx_rollback()
    assert message_count(setup, q) == 0  # still unacked, not requeued by the rollback
    ch.basic_ack(m.delivery_tag)  # the tag is still valid
    ch.tx_commit()
    ch.close()
    settle(pika_conn, 0.2)
    assert message_count(setup, q) == 0


def test_tx_nack_requeue_held_until_commit(pika_conn):
    setup = pika_conn.channel()
    q = declare_temp_queue(setup)
    setup.basic_publish("", q, b"x")
    assert wait_message_count(setup, q, 1) == 1
    ch = pika_conn.channel()
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=True)
    sync(ch)
    settle(pika_conn, 0.2)
    assert message_count(setup, q) == 0
    ch.tx_commit()
    assert wait_message_count(setup, q, 1) == 1


def test_tx_mandatory_unroutable_returned_at_commit(pika_conn, unique_name):
    ch = pika_conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, b)))
    ch.tx_select()
    ch.basic_publish("amq.direct", unique_name, b"bounce", mandatory=True)
    sync(ch)
    settle(pika_conn, 0.2)
    assert returned == []
    ch.tx_commit()
    assert wait_until(pika_conn, lambda: returned)
    assert returned == [(312, b"bounce")]


def test_tx_commit_without_select_is_406(pika_channel):
    with channel_closed(406, "PRECONDITION_FAILED - channel is not transactional"):
        pika_channel.tx_commit()


def test_tx_rollback_without_select_is_406(pika_channel):
    with channel_closed(406, "PRECONDITION_FAILED - channel is not transactional"):
        pika_channel.tx_rollback()


def test_tx_select_twice_is_ok(pika_channel):
    pika_channel.tx_select()
    pika_channel.tx_select()
    pika_channel.tx_commit()

"""What survives a restart of warren-server on the same data directory: durable exchanges, queues
(server-named ones too), the bindings between them and their persistent messages; not transient
queues, exclusive queues or transient messages."""
import signal
import subprocess
import time

import pika
import pika.exceptions
import pytest

from conftest import launch




@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_durable_definitions_and_persistent_messages_survive_a_restart(binary, tmp_path, stop):
    data_dir = tmp_path / "data"
    server = launch(binary, data_dir)
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare("keep.x", "topic", durable=True)
    ch.exchange_declare("gone.x", "topic", durable=False)
    ch.queue_declare("keep.q", durable=True, arguments={"x-max-priority": 5})
    named = ch.queue_declare("", durable=True).method.queue
    ch.queue_declare("gone.q", durable=False)
    exclusive = ch.queue_declare("", durable=True, exclusive=True).method.queue
    ch.queue_bind("keep.q", "keep.x", "orders.#")
    ch.basic_publish("keep.x", "orders.new", b"persistent", pika.BasicProperties(delivery_mode=2, priority=1))
    ch.basic_publish("keep.x", "orders.new", b"urgent", pika.BasicProperties(delivery_mode=2, priority=5))
    ch.basic_publish("keep.x", "orders.new", b"transient")
    ch.basic_publish("", named, b"named", pika.BasicProperties(delivery_mode=2))
    ch.basic_publish("", exclusive, b"exclusive", pika.BasicProperties(delivery_mode=2))
    if stop == "SIGTERM":
        conn.close()
    server.proc.send_signal(getattr(signal, stop))
    server.proc.wait(10)

    server = launch(binary, data_dir)
    try:
        conn = pika.BlockingConnection(pika.URLParameters(server.url))
        ch = conn.channel()
        assert ch.queue_declare("keep.q", durable=True, arguments={"x-max-priority": 5}).method.message_count == 2
        bodies = [ch.basic_get("keep.q", auto_ack=True)[2] for _ in range(2)]
        assert bodies == [b"urgent", b"persistent"]
        assert ch.queue_declare(named, passive=True).method.message_count == 1
        ch.basic_publish("keep.x", "orders.again", b"routed")
        assert ch.basic_get("keep.q", auto_ack=True)[2] == b"routed"
        for gone in ["gone.q", exclusive]:
            with pytest.raises(pika.exceptions.ChannelClosedByBroker) as error:
                ch.queue_declare(gone, passive=True)
            assert error.value.reply_code == 404
            ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            ch.exchange_declare("gone.x", passive=True)
        conn.close()
    finally:
        server.stop()


def test_sync_delay_holds_the_confirm_of_a_persistent_message_until_the_fsync(binary, tmp_path):
    config = tmp_path / "delay.conf"
    config.write_text("message_store.sync_delay = 300\n")
    server = launch(binary, tmp_path / "d", "--config", str(config))
    try:
        conn = pika.BlockingConnection(pika.URLParameters(server.url))
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("d", durable=True)
        started = time.monotonic()
        ch.basic_publish("", "d", b"persistent", pika.BasicProperties(delivery_mode=2))
        persistent = time.monotonic() - started
        assert persistent >= 0.25
        conn.close()
    finally:
        server.stop()


def test_a_second_broker_on_the_same_data_directory_refuses_to_start(binary, tmp_path):
    server = launch(binary, tmp_path / "shared")
    try:
        second = subprocess.run([binary, "--port", "0", "--bind", "127.0.0.1", "--data-dir", str(tmp_path / "shared")],
                                capture_output=True, text=True, timeout=20)
        assert second.returncode == 75
        assert "is in use by another broker" in second.stderr
        assert server.proc.poll() is None
    finally:
        server.stop()

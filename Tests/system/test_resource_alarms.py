"""Memory and disk alarms on a real warren-server: a threshold set so low that the alarm goes off
within the first second blocks publishers (connection.blocked, then no more reads from them)
while consumers keep working. Clearing is covered by the unit tests (Tests/WarrenServerTests)."""
import time

import pika
import pytest


def _server(start_server, tmp_path, line: str):
    config = tmp_path / "alarm.conf"
    config.write_text(line + "\n")
    return start_server("--config", str(config))


@pytest.mark.parametrize("line,reason", [
    ("vm_memory_high_watermark.absolute = 1", "low on memory"),
    ("disk_free_limit.absolute = 1000TB", "low on disk"),
])
def test_alarm_blocks_publishers_and_not_consumers(start_server, tmp_path, line, reason):
    server = _server(start_server, tmp_path, line)
    consumer_conn = pika.BlockingConnection(pika.URLParameters(server.url))
    consumer = consumer_conn.channel()
    q = consumer.queue_declare("alarmed").method.queue
    time.sleep(1.5)  # the first alarm check runs one second after start

    publisher_conn = pika.BlockingConnection(pika.URLParameters(server.url))
    blocked = []
    publisher_conn.add_on_connection_blocked_callback(lambda _c, frame: blocked.append(frame.method.reason))
    publisher = publisher_conn.channel()
    publisher.basic_publish("", q, b"first")
    deadline = time.monotonic() + 5
    while not blocked and time.monotonic() < deadline:
        publisher_conn.process_data_events(time_limit=0.05)
    assert blocked == [reason]

    # Frames read before the block are processed; nothing after it is read.
    publisher.basic_publish("", q, b"second")
    publisher_conn.process_data_events(time_limit=0.5)
    assert consumer.queue_declare(q, passive=True).method.message_count == 1
    method, _props, body = consumer.basic_get(q, auto_ack=True)
    assert body == b"first"
    consumer_conn.close()

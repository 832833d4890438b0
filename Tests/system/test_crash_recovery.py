"""Crash safety for real: publishers with confirms and a consumer run against warren-server, the
broker is killed with SIGKILL at a random moment, restarted on the same data directory, and every
message is accounted for.

Checked after each restart: every confirmed message that was not acknowledged is there exactly
once; nothing appears that was never published; a message that was acknowledged may only come
back marked redelivered (its acknowledgement had not reached the log); each publisher's messages
are in publish order; and once everything is consumed the log shrinks back to at most two segment
files. CRASH_CYCLES sets the number of kill/restart cycles (20 here; `make soak` runs more).
"""
import os
import random
import signal
import threading
import time

import pika
import pika.exceptions
import pytest

from conftest import launch

CYCLES = int(os.environ.get("CRASH_CYCLES", "20"))
QUEUE = "crash.q"
PUBLISHERS = 3




class Load:
    """Publishers (confirm mode, persistent) and one consumer acking what it receives."""

    def __init__(self, url: str, cycle: int):
        self.url = url
        self.cycle = cycle
        self.lock = threading.Lock()
        self.confirmed: set[str] = set()
        self.attempted: set[str] = set()
        self.acked: set[str] = set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._publish, args=(p,), daemon=True) for p in range(PUBLISHERS)]
        self.threads.append(threading.Thread(target=self._consume, daemon=True))

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(10)

    def _publish(self, publisher: int):
        try:
            conn = pika.BlockingConnection(pika.URLParameters(self.url))
            ch = conn.channel()
            ch.confirm_delivery()
            seq = 0
            while not self.stop.is_set():
                body = f"{self.cycle}:{publisher}:{seq}"
                with self.lock:
                    self.attempted.add(body)
                ch.basic_publish("", QUEUE, body.encode(), pika.BasicProperties(delivery_mode=2))
                with self.lock:
                    self.confirmed.add(body)
                seq += 1
        except Exception:
            pass  # the broker was killed

    def _consume(self):
        try:
            conn = pika.BlockingConnection(pika.URLParameters(self.url))
            ch = conn.channel()
            ch.basic_qos(prefetch_count=20)
            for method, _props, body in ch.consume(QUEUE, inactivity_timeout=0.05):
                if self.stop.is_set():
                    break
                if method is None:
                    continue
                # Acknowledge about half, leaving the rest delivered but unacknowledged.
                if random.random() < 0.5:
                    ch.basic_ack(method.delivery_tag)
                    with self.lock:
                        self.acked.add(body.decode())
        except Exception:
            pass


def _drain(url: str) -> list[tuple[str, bool]]:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(QUEUE, durable=True)
    drained = []
    while True:
        method, _props, body = ch.basic_get(QUEUE, auto_ack=True)
        if method is None:
            break
        drained.append((body.decode(), method.redelivered))
    conn.close()
    return drained


def _check(drained, load: Load | None):
    bodies = [body for body, _ in drained]
    assert len(bodies) == len(set(bodies)), "a message came back twice"
    if load is None:
        assert bodies == []
        return
    present = set(bodies)
    missing = (load.confirmed - load.acked) - present
    assert not missing, f"{len(missing)} confirmed messages lost, e.g. {sorted(missing)[:5]}"
    unknown = present - load.attempted
    assert not unknown, f"messages never published: {sorted(unknown)[:5]}"
    for body, redelivered in drained:
        if body in load.acked:
            assert redelivered, f"{body} was acknowledged yet came back not marked redelivered"
    last: dict[str, int] = {}
    for body in bodies:
        _cycle, publisher, seq = body.split(":")
        assert int(seq) > last.get(publisher, -1), f"publisher {publisher} out of order at {body}"
        last[publisher] = int(seq)


@pytest.mark.timeout(300 + 15 * CYCLES)
def test_kill_9_under_load_loses_no_confirmed_message(binary, tmp_path):
    data_dir = tmp_path / "data"
    rng = random.Random(1234)
    load = None
    for cycle in range(CYCLES):
        server = launch(binary, data_dir)
        try:
            _check(_drain(server.url), load)
            load = Load(server.url, cycle)
            load.start()
            time.sleep(rng.uniform(0.3, 1.0))
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait(10)
            load.join()
        finally:
            server.stop()
        assert load.confirmed, "no publish was confirmed before the kill"
    server = launch(binary, data_dir)
    try:
        _check(_drain(server.url), load)
        time.sleep(0.2)
    finally:
        server.stop()
    segments = [name for name in os.listdir(data_dir / "messages") if name.endswith(".wlog")]
    assert len(segments) <= 2, f"the log did not shrink after everything was consumed: {segments}"

#!/usr/bin/env python3
"""Priority work queue (x-max-priority).

A queue declared with x-max-priority=MAX_PRIORITY keeps one sub-queue per
priority and always delivers from the highest non-empty one. A producer puts a
backlog of TASKS tasks with mixed priorities on it (with publisher confirms,
so all are enqueued before anyone consumes): priorities 0..MAX_PRIORITY, some
tasks without a priority property (treated as 0) and some above the maximum
(treated as MAX_PRIORITY, but delivered with their property unchanged). Then a
single worker consumes it with basic.qos prefetch_count=1 and manual acks, so
it holds one task at a time and each next task is picked from what is left.

Checks: tasks are processed highest priority first and, within a priority, in
publish order (FIFO); each exactly once, none redelivered, queue empty after.
"""
import argparse
import random
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
MAX_PRIORITY = 10
TASKS = 60
DEADLINE = 8.0


def effective_priority(priority):
    """The priority the queue files a message under."""
    return min(priority or 0, MAX_PRIORITY)


def worker(url, queue, ready, stop, processed, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=1)

            def on_task(ch, method, props, body):
                processed.append((body.decode(), props.priority, method.redelivered))
                ch.basic_ack(delivery_tag=method.delivery_tag)

            ch.basic_consume(queue=queue, on_message_callback=on_task, auto_ack=False)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"worker: {type(e).__name__}: {e}")
        ready.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    queue = f"warren.example.priority_queue.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable=True, arguments={"x-max-priority": MAX_PRIORITY})

    processed, errors = [], []
    stop, ready = threading.Event(), threading.Event()
    t = threading.Thread(target=worker, daemon=True,
                         args=(args.url, queue, ready, stop, processed, errors))
    ok = False
    try:
        # The backlog: a fixed pseudo-random mix, so every run checks the same
        # order. None = no priority property; above MAX_PRIORITY = capped.
        rng = random.Random(42)
        choices = [None] + list(range(MAX_PRIORITY + 1)) + [MAX_PRIORITY + 5, 255]
        tasks = [(f"task-{i:02}", rng.choice(choices)) for i in range(TASKS)]
        ch.confirm_delivery()
        for body, priority in tasks:
            ch.basic_publish(exchange="", routing_key=queue, body=body,
                             properties=pika.BasicProperties(delivery_mode=2, priority=priority),
                             mandatory=True)
        backlog = ch.queue_declare(queue=queue, passive=True).method.message_count
        assert backlog == TASKS, f"backlog has {backlog} tasks, expected {TASKS}"

        # Only now start the worker: it sees the whole backlog at once.
        t.start()
        ready.wait(5)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not errors and len(processed) < TASKS:
            time.sleep(0.02)
        time.sleep(0.1)  # let any (wrong) duplicate show up
        stop.set()
        t.join(5)

        if errors:
            raise RuntimeError("; ".join(errors))
        # Highest effective priority first; sorted() is stable, so publish
        # order is kept within a priority.
        expected = sorted(tasks, key=lambda task: -effective_priority(task[1]))
        got = [(body, priority) for body, priority, _ in processed]
        assert len(got) == TASKS, f"processed {len(got)} tasks, expected {TASKS}"
        if got != expected:
            i = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
            raise AssertionError(f"wrong order at position {i}: got {got[i]} "
                                 f"(body, priority), expected {expected[i]}; "
                                 f"processed {got[max(0, i - 2):i + 3]}...")
        redelivered = [b for b, _, r in processed if r]
        assert not redelivered, f"tasks redelivered: {redelivered}"
        left = ch.queue_declare(queue=queue, passive=True).method.message_count
        assert left == 0, f"{left} tasks left in the queue"
        ok = True
        levels = len({effective_priority(p) for _, p in tasks})
        return (f"{TASKS} tasks over {levels} priority levels processed highest first, "
                f"FIFO within a priority")
    finally:
        stop.set()
        if t.is_alive():
            t.join(5)
        try:
            ch.queue_delete(queue=queue)
            conn.close()
        except Exception:
            if ok:  # a failing cleanup only matters if nothing else failed
                raise


if __name__ == "__main__":
    try:
        print(f"PASS priority_work_queue: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL priority_work_queue: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

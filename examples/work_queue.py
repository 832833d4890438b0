#!/usr/bin/env python3
"""Work queue with fair dispatch.

A producer puts TASKS tasks on a shared queue. Two workers consume it with
basic.qos prefetch_count=1 and manual acks: the broker hands each worker one
unacknowledged task at a time, so a fast worker that acks quickly is given
more work than a slow one (instead of strict round-robin).

Checks: every task is processed exactly once, nothing is redelivered, and the
fast worker processed more tasks than the slow one.
"""
import argparse
import collections
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
TASKS = 40
WORKERS = {"fast": 0.005, "slow": 0.08}  # name -> seconds of "work" per task
DEADLINE = 8.0


def worker(url, queue, name, delay, ready, stop, processed, lock, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=1)

            def on_task(ch, method, props, body):
                time.sleep(delay)  # simulate work
                with lock:
                    processed.append((name, body.decode(), method.redelivered))
                ch.basic_ack(delivery_tag=method.delivery_tag)

            ch.basic_consume(queue=queue, on_message_callback=on_task, auto_ack=False)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"{name}: {e!r}")
        ready.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    queue = f"warren.example.work_queue.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable=True)

    processed, lock, errors = [], threading.Lock(), []
    stop = threading.Event()
    threads = []
    ok = False
    try:
        for name, delay in WORKERS.items():
            ready = threading.Event()
            t = threading.Thread(target=worker, daemon=True,
                                 args=(args.url, queue, name, delay, ready, stop,
                                       processed, lock, errors))
            t.start()
            ready.wait(5)
            threads.append(t)
        if errors:
            raise RuntimeError("; ".join(errors))

        ch.confirm_delivery()
        tasks = [f"task-{i}" for i in range(TASKS)]
        for body in tasks:
            ch.basic_publish(exchange="", routing_key=queue, body=body,
                             properties=pika.BasicProperties(delivery_mode=2),
                             mandatory=True)

        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not errors:
            with lock:
                if len(processed) >= TASKS:
                    break
            time.sleep(0.02)
        time.sleep(0.1)  # let any (wrong) duplicate show up
        stop.set()
        for t in threads:
            t.join(5)

        if errors:
            raise RuntimeError("; ".join(errors))
        seen = collections.Counter(body for _, body, _ in processed)
        per_worker = collections.Counter(name for name, _, _ in processed)
        missing = set(tasks) - set(seen)
        dupes = sorted(b for b, n in seen.items() if n > 1)
        redelivered = [b for _, b, r in processed if r]
        assert not missing, f"tasks never processed: {sorted(missing)}"
        assert not dupes, f"tasks processed more than once: {dupes}"
        assert not redelivered, f"tasks redelivered: {redelivered}"
        assert set(seen) == set(tasks), f"unexpected tasks: {set(seen) - set(tasks)}"
        assert per_worker["fast"] > per_worker["slow"], (
            f"fair dispatch failed: fast={per_worker['fast']} slow={per_worker['slow']}")
        left = ch.queue_declare(queue=queue, passive=True).method.message_count
        assert left == 0, f"{left} tasks left in the queue"
        ok = True
        return (f"{TASKS} tasks processed exactly once "
                f"(fast={per_worker['fast']}, slow={per_worker['slow']})")
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        try:
            ch.queue_delete(queue=queue)
            conn.close()
        except Exception:
            if ok:  # a failing cleanup only matters if nothing else failed
                raise


if __name__ == "__main__":
    try:
        print(f"PASS work_queue: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL work_queue: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

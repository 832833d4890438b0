#!/usr/bin/env python3
"""Scatter/gather: one request fanned out to N workers, replies aggregated.

WORKERS workers each bind an exclusive server-named queue to a fanout
exchange. The requester publishes ONE request to that exchange, carrying a
list of numbers, reply_to=<its exclusive reply queue> and a correlation_id.
Every worker gets a copy, sums the squares of its own shard (numbers[k::N]),
and replies. The requester gathers replies until it has all N or a deadline
passes, then combines the partial sums.

Checks: all N distinct workers reply before the deadline, every reply carries
the request's correlation_id, and the aggregate equals sum(x*x).
"""
import argparse
import json
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
WORKERS = 4
GATHER_DEADLINE = 5.0  # seconds from publishing the request


def worker(url, exchange, idx, ready, stop, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            q = ch.queue_declare(queue="", exclusive=True).method.queue
            ch.queue_bind(queue=q, exchange=exchange)

            def on_request(ch, method, props, body):
                req = json.loads(body)
                shard = req["numbers"][idx::req["workers"]]
                reply = {"worker": idx, "count": len(shard), "partial": sum(x * x for x in shard)}
                ch.basic_publish(exchange="", routing_key=props.reply_to,
                                 properties=pika.BasicProperties(
                                     correlation_id=props.correlation_id,
                                     content_type="application/json"),
                                 body=json.dumps(reply).encode())
                ch.basic_ack(delivery_tag=method.delivery_tag)

            ch.basic_consume(queue=q, on_message_callback=on_request)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"worker {idx}: {type(e).__name__}: {e}")
        ready.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    exchange = f"warren.example.scatter.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.exchange_declare(exchange=exchange, exchange_type="fanout")
    reply_queue = ch.queue_declare(queue="", exclusive=True).method.queue

    errors, threads = [], []
    stop = threading.Event()
    ok = False
    try:
        for i in range(WORKERS):
            ready = threading.Event()
            t = threading.Thread(target=worker, daemon=True,
                                 args=(args.url, exchange, i, ready, stop, errors))
            t.start()
            ready.wait(5)
            threads.append(t)
        if errors:
            raise RuntimeError("; ".join(errors))

        numbers = list(range(1, 1001))
        corr_id = str(uuid.uuid4())
        replies, foreign = {}, []

        def on_reply(ch, method, props, body):
            if props.correlation_id != corr_id:
                foreign.append(props.correlation_id)
                return
            r = json.loads(body)
            assert r["worker"] not in replies, f"worker {r['worker']} replied twice"
            replies[r["worker"]] = r

        ch.basic_consume(queue=reply_queue, on_message_callback=on_reply, auto_ack=True)
        started = time.monotonic()
        ch.basic_publish(exchange=exchange, routing_key="",
                         properties=pika.BasicProperties(reply_to=reply_queue,
                                                         correlation_id=corr_id,
                                                         content_type="application/json"),
                         body=json.dumps({"numbers": numbers, "workers": WORKERS}).encode())
        deadline = started + GATHER_DEADLINE
        while len(replies) < WORKERS and time.monotonic() < deadline and not errors:
            conn.process_data_events(time_limit=0.05)
        elapsed = time.monotonic() - started
        conn.process_data_events(time_limit=0.1)  # let any (wrong) extra reply show up

        if errors:
            raise RuntimeError("; ".join(errors))
        assert len(replies) == WORKERS, (
            f"only {len(replies)}/{WORKERS} replies before the {GATHER_DEADLINE}s deadline "
            f"(from workers {sorted(replies)})")
        assert sorted(replies) == list(range(WORKERS)), f"replies from {sorted(replies)}"
        assert not foreign, f"replies with unknown correlation ids: {foreign}"
        assert sum(r["count"] for r in replies.values()) == len(numbers), "shards do not cover input"
        total = sum(r["partial"] for r in replies.values())
        want = sum(x * x for x in numbers)
        assert total == want, f"aggregate {total} != {want}"
        ok = True
        return (f"{WORKERS}/{WORKERS} replies gathered in {elapsed * 1000:.0f} ms "
                f"(deadline {GATHER_DEADLINE:.0f} s), sum of squares = {total}")
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        try:
            ch.exchange_delete(exchange=exchange)
            conn.close()
        except Exception:
            if ok:  # a failing cleanup only matters if nothing else failed
                raise


if __name__ == "__main__":
    try:
        print(f"PASS scatter_gather: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL scatter_gather: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

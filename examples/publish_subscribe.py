#!/usr/bin/env python3
"""Publish/subscribe through a fanout exchange.

SUBSCRIBERS subscribers each declare an exclusive, server-named queue
(queue_declare with an empty name) and bind it to one fanout exchange. A
publisher sends MESSAGES messages to the exchange; the fanout exchange copies
every message to every bound queue, ignoring the routing key.

Checks: every subscriber receives every message, once, in publish order.
"""
import argparse
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
SUBSCRIBERS = 3
MESSAGES = 25
DEADLINE = 8.0


def subscriber(url, exchange, idx, ready, stop, received, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            # Empty name: the broker picks one (amq.gen-...). Exclusive: the
            # queue belongs to this connection and disappears with it.
            q = ch.queue_declare(queue="", exclusive=True).method.queue
            assert q.startswith("amq.gen-"), f"unexpected server-named queue {q!r}"
            ch.queue_bind(queue=q, exchange=exchange)

            def on_message(ch, method, props, body):
                received[idx].append(body.decode())

            ch.basic_consume(queue=q, on_message_callback=on_message, auto_ack=True)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"subscriber {idx}: {type(e).__name__}: {e}")
        ready.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    exchange = f"warren.example.logs.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.exchange_declare(exchange=exchange, exchange_type="fanout")

    received = [[] for _ in range(SUBSCRIBERS)]
    errors, threads = [], []
    stop = threading.Event()
    ok = False
    try:
        for i in range(SUBSCRIBERS):
            ready = threading.Event()
            t = threading.Thread(target=subscriber, daemon=True,
                                 args=(args.url, exchange, i, ready, stop, received, errors))
            t.start()
            ready.wait(5)
            threads.append(t)
        if errors:
            raise RuntimeError("; ".join(errors))

        ch.confirm_delivery()
        messages = [f"log line {i}" for i in range(MESSAGES)]
        for body in messages:
            # The routing key is ignored by a fanout exchange.
            ch.basic_publish(exchange=exchange, routing_key="ignored", body=body)

        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not errors:
            if all(len(r) >= MESSAGES for r in received):
                break
            time.sleep(0.02)
        time.sleep(0.1)  # let any (wrong) extra delivery show up
        stop.set()
        for t in threads:
            t.join(5)

        if errors:
            raise RuntimeError("; ".join(errors))
        for i, got in enumerate(received):
            assert got == messages, (
                f"subscriber {i} got {len(got)} messages, expected {MESSAGES} in order: {got[:5]}...")
        ok = True
        return f"{SUBSCRIBERS} subscribers each received all {MESSAGES} messages in order"
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
        print(f"PASS publish_subscribe: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL publish_subscribe: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

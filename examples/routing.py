#!/usr/bin/env python3
"""Routing with a direct exchange: log severities.

Each consumer binds its own exclusive server-named queue to a direct exchange
once per severity it cares about. A message is delivered to a queue when its
routing key equals one of that queue's binding keys, and a queue bound with
several matching keys still gets one copy.

  errors_only  binds: error
  everything   binds: info, warning, error
  (nobody binds "debug": published as mandatory, those come back unroutable)

Checks: each consumer receives exactly the messages for its keys, no more.
"""
import argparse
import collections
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
CONSUMERS = {
    "errors_only": ["error"],
    "everything": ["info", "warning", "error"],
}
SEVERITIES = ["info", "warning", "error", "debug"]
PER_SEVERITY = 5
DEADLINE = 8.0


def consumer(url, exchange, name, keys, ready, stop, received, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            q = ch.queue_declare(queue="", exclusive=True).method.queue
            for key in keys:
                ch.queue_bind(queue=q, exchange=exchange, routing_key=key)

            def on_message(ch, method, props, body):
                received[name].append((method.routing_key, body.decode()))

            ch.basic_consume(queue=q, on_message_callback=on_message, auto_ack=True)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"{name}: {type(e).__name__}: {e}")
        ready.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    exchange = f"warren.example.direct_logs.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.exchange_declare(exchange=exchange, exchange_type="direct")

    received = {name: [] for name in CONSUMERS}
    errors, threads = [], []
    stop = threading.Event()
    ok = False
    try:
        for name, keys in CONSUMERS.items():
            ready = threading.Event()
            t = threading.Thread(target=consumer, daemon=True,
                                 args=(args.url, exchange, name, keys, ready, stop,
                                       received, errors))
            t.start()
            ready.wait(5)
            threads.append(t)
        if errors:
            raise RuntimeError("; ".join(errors))

        ch.confirm_delivery()
        sent, returned = [], 0
        for i in range(PER_SEVERITY):
            for sev in SEVERITIES:
                body = f"{sev} message {i}"
                # mandatory: a message no queue is bound for comes back
                # (basic.return), which pika reports as UnroutableError.
                try:
                    ch.basic_publish(exchange=exchange, routing_key=sev, body=body,
                                     mandatory=True)
                except pika.exceptions.UnroutableError:
                    returned += 1
                    assert sev == "debug", f"{sev!r} message returned as unroutable"
                    continue
                assert sev != "debug", "debug message was routed although nobody binds it"
                sent.append((sev, body))

        expected = {name: [(k, b) for k, b in sent if k in keys]
                    for name, keys in CONSUMERS.items()}
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not errors:
            if all(len(received[n]) >= len(expected[n]) for n in CONSUMERS):
                break
            time.sleep(0.02)
        time.sleep(0.2)  # let any (wrong) extra delivery show up
        stop.set()
        for t in threads:
            t.join(5)

        if errors:
            raise RuntimeError("; ".join(errors))
        for name in CONSUMERS:
            got, want = received[name], expected[name]
            if got != want:
                extra = collections.Counter(got) - collections.Counter(want)
                missing = collections.Counter(want) - collections.Counter(got)
                raise AssertionError(
                    f"{name} (keys {CONSUMERS[name]}): missing {sorted(missing.elements())[:5]}, "
                    f"unexpected {sorted(extra.elements())[:5]}"
                    + ("" if extra or missing else ", wrong order"))
        ok = True
        return ", ".join(f"{n} got {len(received[n])} ({'/'.join(CONSUMERS[n])})"
                         for n in CONSUMERS) + f", {returned} debug returned unroutable"
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
        print(f"PASS routing: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL routing: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

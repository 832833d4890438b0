#!/usr/bin/env python3
"""Topic exchange: routing on dotted keys with `*` and `#` wildcards.

Routing keys are "<speed>.<colour>.<species>" words separated by dots. In a
binding key, `*` matches exactly one word and `#` matches zero or more words.

  orange     binds: *.orange.*
  rabbits    binds: *.*.rabbit, lazy.#    (one copy even when both match)
  all        binds: #                     (everything, even the empty key)
  quick_any  binds: quick.#
  exact      binds: quick.brown.fox       (no wildcard: plain equality)

Checks: each consumer receives exactly the expected set of routing keys.
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
    "orange": ["*.orange.*"],
    "rabbits": ["*.*.rabbit", "lazy.#"],
    "all": ["#"],
    "quick_any": ["quick.#"],
    "exact": ["quick.brown.fox"],
}
# routing key -> consumers that must get it (besides "all", which gets everything)
EXPECTED = {
    "quick.orange.rabbit": {"orange", "rabbits", "quick_any"},
    "lazy.orange.elephant": {"orange", "rabbits"},
    "quick.orange.fox": {"orange", "quick_any"},
    "lazy.brown.fox": {"rabbits"},
    "lazy.pink.rabbit": {"rabbits"},           # matches both bindings: delivered once
    "quick.brown.fox": {"quick_any", "exact"},
    "orange": set(),                            # one word: *.orange.* needs three
    "quick.orange.new.rabbit": {"quick_any"},   # four words: neither * pattern fits
    "lazy.orange.new.rabbit": {"rabbits"},      # lazy.# takes any number of words
    "lazy": {"rabbits"},                        # lazy.# matches "lazy" (# = zero words)
    "quick": {"quick_any"},
    "quickly.orange.fox": {"orange"},           # "quick.#" is word-wise, not a prefix
    "a..rabbit": {"rabbits"},                   # empty middle word is still one word
    "": set(),                                  # only "#" matches the empty key
}
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
                received[name].append(method.routing_key)
                assert body.decode() == f"payload for {method.routing_key!r}"

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

    exchange = f"warren.example.topic_logs.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.exchange_declare(exchange=exchange, exchange_type="topic")

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
        for key in EXPECTED:
            ch.basic_publish(exchange=exchange, routing_key=key, body=f"payload for {key!r}")

        expected = {name: sorted(k for k, who in EXPECTED.items() if name in who or name == "all")
                    for name in CONSUMERS}
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
        problems = []
        for name in CONSUMERS:
            got = collections.Counter(received[name])
            want = collections.Counter(expected[name])
            if got != want:
                problems.append(
                    f"{name} {CONSUMERS[name]}: missing {sorted((want - got).elements())}, "
                    f"unexpected {sorted((got - want).elements())}")
        assert not problems, "; ".join(problems)
        ok = True
        return ", ".join(f"{n}={len(received[n])}" for n in CONSUMERS) + \
            f" of {len(EXPECTED)} keys, exact sets matched"
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
        print(f"PASS topics: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL topics: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

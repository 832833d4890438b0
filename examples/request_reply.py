#!/usr/bin/env python3
"""Request/reply (RPC) with reply_to and correlation_id.

An RPC server consumes a named request queue (prefetch 1, manual ack) and
answers fib(n). The client declares an exclusive, server-named callback queue,
sends each request with reply_to=<callback queue> and a fresh correlation_id,
and matches replies by correlation_id. Replies it does not recognise (a stray
message is injected into the callback queue on purpose) are ignored.

Checks: every request gets the right answer, the stray reply is ignored, and
several requests can be in flight at once.
"""
import argparse
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
REQUESTS = [0, 1, 2, 10, 20, 30, 50, 90]
DEADLINE = 8.0


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def rpc_server(url, queue, ready, stop, served, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=1)

            def on_request(ch, method, props, body):
                n = int(body)
                served.append(n)
                ch.basic_publish(exchange="", routing_key=props.reply_to,
                                 properties=pika.BasicProperties(
                                     correlation_id=props.correlation_id),
                                 body=str(fib(n)).encode())
                ch.basic_ack(delivery_tag=method.delivery_tag)

            ch.basic_consume(queue=queue, on_message_callback=on_request)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"rpc server: {type(e).__name__}: {e}")
        ready.set()


class FibClient:
    def __init__(self, url, queue):
        self.queue = queue
        self.conn = pika.BlockingConnection(pika.URLParameters(url))
        self.ch = self.conn.channel()
        self.callback_queue = self.ch.queue_declare(queue="", exclusive=True).method.queue
        self.ch.basic_consume(queue=self.callback_queue, on_message_callback=self.on_reply,
                              auto_ack=True)
        self.pending = {}    # correlation_id -> n
        self.answers = {}    # correlation_id -> int
        self.ignored = []

    def on_reply(self, ch, method, props, body):
        if props.correlation_id not in self.pending:
            self.ignored.append(props.correlation_id)  # not ours / already answered
            return
        self.answers[props.correlation_id] = int(body)
        del self.pending[props.correlation_id]

    def send(self, n):
        corr_id = str(uuid.uuid4())
        self.pending[corr_id] = n
        self.ch.basic_publish(exchange="", routing_key=self.queue,
                              properties=pika.BasicProperties(reply_to=self.callback_queue,
                                                              correlation_id=corr_id),
                              body=str(n).encode())
        return corr_id

    def wait(self, deadline):
        while self.pending and time.monotonic() < deadline:
            self.conn.process_data_events(time_limit=0.05)

    def call(self, n, deadline):
        corr_id = self.send(n)
        self.wait(deadline)
        if corr_id not in self.answers:
            raise TimeoutError(f"no reply for fib({n})")
        return self.answers[corr_id]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    queue = f"warren.example.rpc_queue.{uuid.uuid4().hex[:8]}"
    admin = pika.BlockingConnection(pika.URLParameters(args.url))
    ach = admin.channel()
    ach.queue_declare(queue=queue)

    served, errors = [], []
    stop, ready = threading.Event(), threading.Event()
    server = threading.Thread(target=rpc_server, daemon=True,
                              args=(args.url, queue, ready, stop, served, errors))
    client = None
    ok = False
    try:
        server.start()
        ready.wait(5)
        if errors:
            raise RuntimeError("; ".join(errors))
        client = FibClient(args.url, queue)
        deadline = time.monotonic() + DEADLINE

        # A stray reply with a correlation id nobody asked for: must be ignored.
        # (Confirmed, so it is in the callback queue before any real reply.)
        ach.confirm_delivery()
        ach.basic_publish(exchange="", routing_key=client.callback_queue,
                          properties=pika.BasicProperties(correlation_id="not-a-request"),
                          body=b"-1")

        # One at a time ...
        for n in REQUESTS[:4]:
            got = client.call(n, deadline)
            assert got == fib(n), f"fib({n}) = {got}, expected {fib(n)}"
        # ... and several in flight at once.
        ids = {client.send(n): n for n in REQUESTS[4:]}
        client.wait(deadline)
        if errors:
            raise RuntimeError("; ".join(errors))
        for corr_id, n in ids.items():
            assert corr_id in client.answers, f"no reply for fib({n}) before the deadline"
            assert client.answers[corr_id] == fib(n), \
                f"fib({n}) = {client.answers[corr_id]}, expected {fib(n)}"
        assert client.ignored == ["not-a-request"], f"ignored replies: {client.ignored}"
        assert sorted(served) == sorted(REQUESTS), f"server handled {served}"
        ok = True
        return (f"{len(REQUESTS)} RPC calls answered correctly "
                f"(fib({REQUESTS[-1]})={fib(REQUESTS[-1])}), 1 unknown correlation id ignored")
    finally:
        stop.set()
        server.join(5)
        try:
            if client is not None:
                client.conn.close()
            ach.queue_delete(queue=queue)
            admin.close()
        except Exception:
            if ok:  # a failing cleanup only matters if nothing else failed
                raise


if __name__ == "__main__":
    try:
        print(f"PASS request_reply: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL request_reply: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

#!/usr/bin/env python3
"""RPC with direct reply-to (amq.rabbitmq.reply-to), no callback queue.

Instead of declaring a callback queue, an RPC client consumes from the
pseudo-queue `amq.rabbitmq.reply-to` with no_ack (auto_ack=True), then
publishes requests ON THE SAME CHANNEL with reply_to='amq.rabbitmq.reply-to'
and a fresh correlation_id. The broker rewrites reply_to to a per-channel
address `amq.rabbitmq.reply-to.<opaque>`; the server (its own connection, in
a thread) publishes its reply to the default exchange with that routing key,
and the broker hands it straight to the client's consumer.

Two clients (separate connections) call the server, first one call at a time,
then with many calls from both in flight at once. Publishing with
reply_to='amq.rabbitmq.reply-to' on a channel that is not consuming from it is
a channel error (406 PRECONDITION_FAILED); that is shown too.

Checks: every reply arrives at the client that asked, carries its request's
correlation_id and the right result; the server saw rewritten reply_to
addresses, different for the two clients; the request queue is empty after.
"""
import argparse
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
REPLY_TO = "amq.rabbitmq.reply-to"
SEQUENTIAL = [0, 1, 2, 3]
CONCURRENT = list(range(10, 30))
DEADLINE = 8.0


def square(n):
    return n * n


def rpc_server(url, queue, ready, stop, seen_reply_to, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=1)

            def on_request(ch, method, props, body):
                n = int(body)
                seen_reply_to.append((props.correlation_id, props.reply_to))
                # props.reply_to is the rewritten amq.rabbitmq.reply-to.<...>
                # address: reply to it like to any queue name.
                ch.basic_publish(exchange="", routing_key=props.reply_to,
                                 properties=pika.BasicProperties(
                                     correlation_id=props.correlation_id),
                                 body=str(square(n)).encode())
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


class DirectReplyClient:
    def __init__(self, url, queue, name):
        self.queue, self.name = queue, name
        self.conn = pika.BlockingConnection(pika.URLParameters(url))
        self.ch = self.conn.channel()
        # Consume first (no_ack is required), then publish on this channel.
        self.ch.basic_consume(queue=REPLY_TO, on_message_callback=self.on_reply, auto_ack=True)
        self.pending = {}    # correlation_id -> n
        self.answers = {}    # correlation_id -> (n, int)
        self.foreign = []    # replies that were not for one of our pending requests

    def on_reply(self, ch, method, props, body):
        n = self.pending.pop(props.correlation_id, None)
        if n is None:
            self.foreign.append((props.correlation_id, body))
            return
        self.answers[props.correlation_id] = (n, int(body))

    def send(self, n):
        corr_id = f"{self.name}-{uuid.uuid4()}"
        self.pending[corr_id] = n
        self.ch.basic_publish(exchange="", routing_key=self.queue,
                              properties=pika.BasicProperties(reply_to=REPLY_TO,
                                                              correlation_id=corr_id),
                              body=str(n).encode())
        return corr_id

    def pump(self):
        self.conn.process_data_events(time_limit=0.02)

    def call(self, n, deadline):
        corr_id = self.send(n)
        while corr_id in self.pending and time.monotonic() < deadline:
            self.pump()
        if corr_id not in self.answers:
            raise TimeoutError(f"{self.name}: no reply for square({n})")
        return self.answers[corr_id][1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    queue = f"warren.example.rpc_direct.{uuid.uuid4().hex[:8]}"
    admin = pika.BlockingConnection(pika.URLParameters(args.url))
    ach = admin.channel()
    ach.queue_declare(queue=queue)

    seen_reply_to, errors = [], []
    stop, ready = threading.Event(), threading.Event()
    server = threading.Thread(target=rpc_server, daemon=True,
                              args=(args.url, queue, ready, stop, seen_reply_to, errors))
    clients = []
    ok = False
    try:
        server.start()
        ready.wait(5)
        if errors:
            raise RuntimeError("; ".join(errors))

        # The rule: only a channel consuming from amq.rabbitmq.reply-to may
        # publish with reply_to=amq.rabbitmq.reply-to. (The request never
        # reaches the queue; the broker closes the channel instead.)
        probe = admin.channel()
        probe.confirm_delivery()
        try:
            probe.basic_publish(exchange="", routing_key=queue, body=b"0",
                                properties=pika.BasicProperties(reply_to=REPLY_TO,
                                                                correlation_id="probe"))
            raise AssertionError("publishing with reply_to=amq.rabbitmq.reply-to without "
                                 "consuming from it was accepted")
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 406, f"expected 406 PRECONDITION_FAILED, got {e!r}"

        a = DirectReplyClient(args.url, queue, "a")
        clients.append(a)
        b = DirectReplyClient(args.url, queue, "b")
        clients.append(b)
        deadline = time.monotonic() + DEADLINE

        # One call at a time ...
        for n in SEQUENTIAL:
            got = a.call(n, deadline)
            assert got == square(n), f"square({n}) = {got}, expected {square(n)}"
        # ... then both clients with all their calls in flight at once.
        sent = {a: [a.send(n) for n in CONCURRENT],
                b: [b.send(n) for n in reversed(CONCURRENT)]}
        while (a.pending or b.pending) and time.monotonic() < deadline and not errors:
            a.pump()
            b.pump()
        for c in clients:  # let any (wrong) extra reply show up
            c.conn.process_data_events(time_limit=0.1)

        if errors:
            raise RuntimeError("; ".join(errors))
        for c in clients:
            assert not c.pending, \
                f"client {c.name}: no reply before the deadline for {sorted(c.pending.values())}"
            assert not c.foreign, f"client {c.name} got replies it did not ask for: {c.foreign}"
            for corr_id in sent[c]:
                n, got = c.answers[corr_id]
                assert got == square(n), f"client {c.name}: square({n}) = {got}"
        assert len(a.answers) == len(SEQUENTIAL) + len(CONCURRENT), f"a: {len(a.answers)} replies"
        assert len(b.answers) == len(CONCURRENT), f"b: {len(b.answers)} replies"

        # The server never saw the bare pseudo-queue name, only per-channel
        # addresses; the two clients' addresses differ.
        calls = len(SEQUENTIAL) + 2 * len(CONCURRENT)
        assert len(seen_reply_to) == calls, f"server handled {len(seen_reply_to)}, expected {calls}"
        bad = {r for _, r in seen_reply_to if not (r or "").startswith(REPLY_TO + ".")}
        assert not bad, f"server saw reply_to {sorted(bad)}, expected {REPLY_TO}.<...>"
        addresses = {c.name: {r for corr_id, r in seen_reply_to if corr_id.startswith(c.name + "-")}
                     for c in clients}
        assert not addresses["a"] & addresses["b"], \
            f"both clients were given the same reply_to address: {addresses['a'] & addresses['b']}"
        left = ach.queue_declare(queue=queue, passive=True).method.message_count
        assert left == 0, f"{left} requests left in the queue"
        ok = True
        return (f"{calls} RPC calls from 2 clients answered via {REPLY_TO} "
                f"({len(SEQUENTIAL)} sequential, {2 * len(CONCURRENT)} concurrent), "
                f"all correlation ids matched; reply_to without consuming refused (406)")
    finally:
        stop.set()
        server.join(5)
        try:
            for c in clients:
                c.conn.close()
            ach.queue_delete(queue=queue)
            admin.close()
        except Exception:
            if ok:  # a failing cleanup only matters if nothing else failed
                raise


if __name__ == "__main__":
    try:
        print(f"PASS rpc_direct_reply_to: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL rpc_direct_reply_to: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)

"""Small helpers shared by the conformance tests."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager

import pika
import pika.exceptions
import pytest

import brokers


def wait_until(conn, pred, timeout: float = 5.0, step: float = 0.05) -> bool:
    """Pump a pika BlockingConnection until pred() is true; returns pred()."""
    deadline = time.monotonic() + timeout
    while not pred() and time.monotonic() < deadline:
        conn.process_data_events(time_limit=step)
    return pred()


def settle(conn, seconds: float = 0.2) -> None:
    """Pump events for a short while (to let anything that shouldn't arrive, arrive)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.process_data_events(time_limit=max(0.0, min(0.05, deadline - time.monotonic())))


def sync(ch) -> None:
    """A harmless synchronous round trip, to surface an asynchronous channel close."""
    ch.exchange_declare("amq.direct", passive=True)


def reply_text(text: str) -> str:
    """reply-text is a shortstr: RabbitMQ cuts texts over 255 bytes to 252 bytes + '...'."""
    b = text.encode()
    if len(b) <= 255:
        return text
    return b[:252].decode("utf-8", "ignore") + "..."


@contextmanager
def channel_closed(code: int, text: str | None = None, startswith: str | None = None):
    """Expect the broker to close the pika channel with code (and exact text)."""
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        yield ei
    assert ei.value.reply_code == code, ei.value
    if text is not None:
        assert ei.value.reply_text == reply_text(text)
    if startswith is not None:
        assert ei.value.reply_text.startswith(startswith), ei.value.reply_text


@contextmanager
def connection_closed(code: int, text: str | None = None, startswith: str | None = None):
    """Expect the broker to close the pika connection with code (and exact text)."""
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        yield ei
    assert ei.value.reply_code == code, ei.value
    if text is not None:
        assert ei.value.reply_text == reply_text(text)
    if startswith is not None:
        assert ei.value.reply_text.startswith(startswith), ei.value.reply_text


def declare_temp_queue(ch, **kw) -> str:
    """Server-named exclusive queue on a pika channel."""
    return ch.queue_declare("", exclusive=True, **kw).method.queue


def publish_n(ch, queue: str, n: int, prefix: str = "m", exchange: str = "", **kw) -> list[bytes]:
    bodies = [f"{prefix}{i}".encode() for i in range(n)]
    for b in bodies:
        ch.basic_publish(exchange, queue, b, **kw)
    return bodies


def message_count(ch, queue: str) -> int:
    return ch.queue_declare(queue, passive=True).method.message_count


def wait_message_count(ch, queue: str, n: int, timeout: float = 5.0) -> int:
    """Poll passive declare until the queue holds n messages (publishes are async)."""
    deadline = time.monotonic() + timeout
    while True:
        c = message_count(ch, queue)
        if c == n or time.monotonic() > deadline:
            return c
        time.sleep(0.02)


class Collector:
    """A pika on_message_callback that records deliveries."""

    def __init__(self, auto_ack: bool = True):
        self.messages: list[tuple] = []  # (method, properties, body)

    def __call__(self, ch, method, props, body):
        self.messages.append((method, props, body))

    @property
    def bodies(self) -> list[bytes]:
        return [m[2] for m in self.messages]

    @property
    def tags(self) -> list[int]:
        return [m[0].delivery_tag for m in self.messages]

    def __len__(self) -> int:
        return len(self.messages)


# ---------------------------------------------------------------- brokers of a module's own

def require_broker(kind: str) -> None:
    """Skip unless the broker of this kind can be started here."""
    if kind == "warren" and brokers.warren_binary() is None:
        pytest.skip("warren-server binary not found (build it, or set WARREN_SERVER)")
    if kind == "rabbitmq" and not os.path.exists(os.path.join(brokers.RABBITMQ_SBIN, "rabbitmq-server")):
        pytest.skip("rabbitmq-server not installed (apt-get install rabbitmq-server)")


def module_workdir(tmp_path_factory, label: str) -> str:
    """A fresh directory under CONFORMANCE_WORKDIR if set, else under pytest's tmp dir."""
    base = os.environ.get("CONFORMANCE_WORKDIR")
    if base:
        os.makedirs(base, exist_ok=True)
        return tempfile.mkdtemp(prefix=f"{label}-", dir=base)
    return str(tmp_path_factory.mktemp(label))


def start_own_broker(kind: str, tmp_path_factory, tag: str, **kw) -> "brokers.Broker":
    """A broker of `kind` with its own settings (brokers.start_* keyword arguments), for a
    module whose tests need definitions or configuration the shared broker does not have."""
    require_broker(kind)
    workdir = module_workdir(tmp_path_factory, f"{kind}-{tag}")
    start = brokers.start_rabbitmq if kind == "rabbitmq" else brokers.start_warren
    return start(workdir, **kw)


def management_config(kind: str) -> list[str]:
    """Config lines for a broker whose management statistics tests read: a 500 ms statistics
    interval, and for RabbitMQ also 1 s sample retention, since its management agent's collectors
    tick at the smallest sample interval (5 s by default) whatever collect_statistics_interval
    says."""
    lines = ["collect_statistics_interval = 500"]
    if kind == "rabbitmq":
        lines += ["management.sample_retention_policies.global.minute = 1",
                  "management.sample_retention_policies.global.hour = 60",
                  "management.sample_retention_policies.basic.minute = 1",
                  "management.sample_retention_policies.basic.hour = 60",
                  "management.sample_retention_policies.detailed.10 = 1"]
    return lines


def watched(broker, what: str):
    """A per-test fixture body: fails the test if the module's broker is dead before it or dies
    during it, with the log tail. Use as `yield from watched(broker, "name")`."""
    if not broker.alive():
        pytest.fail(f"{broker.name} ({what}) died; log tail:\n{broker.log_tail()}")
    yield broker
    if not broker.alive():
        pytest.fail(f"{broker.name} ({what}) died during this test; log tail:\n{broker.log_tail()}")

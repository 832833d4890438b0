"""Thousands of random and mutated byte streams against a live warren-server: afterwards it must
still be running and serve a normal client. Complements the in-process fuzzer (`make fuzz`) with
the real socket path: framing across reads, closes, half-open connections."""
import os
import random
import socket
import struct
import sys
import threading

import pika

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "Conformance"))
from amqpraw import method_frame, publish_frames, shortstr, table, longstr  # noqa: E402

STREAMS = 3000
HEADER = b"AMQP\x00\x00\x09\x01"


def _valid_session() -> bytes:
    start_ok = method_frame(0, (10, 11), table({}) + shortstr("PLAIN") + longstr(b"\x00guest\x00guest")
                            + shortstr("en_US"))
    tune_ok = method_frame(0, (10, 31), struct.pack(">HIH", 2047, 131072, 0))
    open_ = method_frame(0, (10, 40), shortstr("/") + shortstr("") + b"\x00")
    channel = method_frame(1, (20, 10), shortstr(""))
    return HEADER + start_ok + tune_ok + open_ + channel + publish_frames(1, "", "garbage.q", b"x" * 64)


def _stream(rng: random.Random, valid: bytes) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 600))
    if kind == 1:
        return HEADER + rng.randbytes(rng.randrange(1, 600))
    # A valid session cut short, with a few bytes after the protocol header changed.
    data = bytearray(valid[:rng.randrange(len(HEADER) + 1, len(valid) + 1)])
    for _ in range(rng.randrange(1, 8)):
        data[rng.randrange(len(HEADER), len(data))] = rng.randrange(256)
    if kind == 3:
        data += rng.randbytes(rng.randrange(0, 200))
    return bytes(data)


def _send(port: int, payload: bytes) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(0.3)
            s.sendall(payload)
            try:
                s.recv(4096)
            except OSError:
                pass
    except OSError:
        pass


def test_server_survives_garbage_and_serves_a_normal_client(start_server):
    server = start_server()
    valid = _valid_session()
    rng = random.Random(20261125)
    payloads = [_stream(rng, valid) for _ in range(STREAMS)]

    def worker(chunk):
        for payload in chunk:
            _send(server.port, payload)

    threads = [threading.Thread(target=worker, args=(payloads[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert server.proc.poll() is None, "warren-server died"
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"still serving")
    assert ch.basic_get(q, auto_ack=True)[2] == b"still serving"
    conn.close()

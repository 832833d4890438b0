#!/usr/bin/env python3
"""Writes the seed corpus for `warren-fuzz` (Fuzz/corpus/<target>/): well-formed inputs that
take each decoder, and a whole client session, down its main paths, so the fuzzer mutates
from there. Run it again after changing it; the output is committed."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Conformance"))

from amqpraw import (Typed, basic_consume_args, content_frames, headers_props, longstr,  # noqa: E402
                     method_frame, publish_frames, queue_declare_args, shortstr, table)


def start_ok() -> bytes:
    response = b"\x00guest\x00guest"
    args = table({"product": "seed", "capabilities": {"publisher_confirms": True}}) + shortstr("PLAIN") \
        + longstr(response) + shortstr("en_US")
    return method_frame(0, (10, 11), args)


def session() -> bytes:
    frames = start_ok()
    frames += method_frame(0, (10, 31), struct.pack(">HIH", 2047, 131072, 60))
    frames += method_frame(0, (10, 40), shortstr("/") + shortstr("") + b"\x00")
    frames += method_frame(1, (20, 10), shortstr(""))
    frames += method_frame(1, (85, 10), b"\x00")
    frames += method_frame(1, (40, 10), struct.pack(">H", 0) + shortstr("dlx") + shortstr("fanout") + b"\x02"
                           + table({}))
    frames += method_frame(1, (50, 10), queue_declare_args("q", durable=True, arguments={
        "x-max-length": 3, "x-dead-letter-exchange": "dlx", "x-message-ttl": 1000, "x-max-priority": 5}))
    frames += method_frame(1, (50, 20), struct.pack(">H", 0) + shortstr("q") + shortstr("dlx") + shortstr("")
                           + b"\x00" + table({}))
    frames += publish_frames(1, "", "q", b"hello")
    frames += publish_frames(1, "", "q", b"with headers", props=headers_props({"CC": ["q"], "x-delay": 5}))
    frames += method_frame(1, (60, 20), basic_consume_args("q", tag="c1"))
    frames += method_frame(1, (60, 80), struct.pack(">QB", 1, 0))
    frames += method_frame(1, (60, 120), struct.pack(">QB", 0, 0b11))
    frames += method_frame(1, (60, 30), shortstr("c1") + b"\x00")
    frames += method_frame(1, (60, 70), struct.pack(">H", 0) + shortstr("q") + b"\x00")
    frames += method_frame(1, (20, 40), struct.pack(">H", 200) + shortstr("bye") + struct.pack(">HH", 0, 0))
    frames += method_frame(0, (10, 50), struct.pack(">H", 200) + shortstr("bye") + struct.pack(">HH", 0, 0))
    return frames


def payload_of(frame: bytes) -> bytes:
    size = struct.unpack(">I", frame[3:7])[0]
    return frame[7:7 + size]


def main() -> None:
    seeds = {
        "frames": {
            "session": session(),
            "publish": publish_frames(1, "amq.topic", "a.b.c", b"x" * 300),
            "heartbeat": b"\x08\x00\x00\x00\x00\x00\x00\xce",
        },
        "method": {
            "queue-declare": payload_of(method_frame(1, (50, 10), queue_declare_args("q", arguments={"a": 1}))),
            "start-ok": payload_of(start_ok()),
            "consume": payload_of(method_frame(1, (60, 20), basic_consume_args("q", tag="t", no_ack=True))),
        },
        "field-table": {
            "mixed": table({"s": "text", "i": 7, "b": True, "l": Typed("l", 1 << 40), "t": {"nested": [1, "a"]},
                            "d": Typed("d", 1.5), "x": Typed("x", b"\x00\x01"), "v": None}),
            "x-death": table({"x-death": [{"count": Typed("l", 2), "reason": "expired", "queue": "q",
                                           "time": Typed("T", 1700000000), "routing-keys": ["k"]}]}),
        },
        "properties": {
            "all": headers_props({"CC": ["a"], "n": 1}),
            "empty": b"\x00\x00",
        },
        "connection": {
            "session": session(),
        },
    }
    for target, inputs in seeds.items():
        directory = os.path.join(HERE, "corpus", target)
        os.makedirs(directory, exist_ok=True)
        for name, data in inputs.items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()

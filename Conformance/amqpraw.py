"""A tiny raw AMQP 0-9-1 client for tests that real client libraries refuse to express
(bad headers, garbage frames, channel misuse, exact tune values, never-reading consumers).

Only what the tests need: frame codec, field tables, and a handful of method encoders/decoders.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any, Optional

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE

# (class, method) ids
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
BASIC_QOS = (60, 10)
BASIC_QOS_OK = (60, 11)
BASIC_CONSUME = (60, 20)
BASIC_CONSUME_OK = (60, 21)
BASIC_PUBLISH = (60, 40)
BASIC_DELIVER = (60, 60)
BASIC_RETURN = (60, 50)
BASIC_GET = (60, 70)
BASIC_GET_OK = (60, 71)
BASIC_GET_EMPTY = (60, 72)
BASIC_ACK = (60, 80)
BASIC_NACK = (60, 120)
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)
TX_SELECT = (90, 10)
TX_SELECT_OK = (90, 11)
TX_COMMIT = (90, 20)
TX_COMMIT_OK = (90, 21)


# ---------------------------------------------------------------- encoding

def shortstr(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    assert len(b) < 256
    return struct.pack(">B", len(b)) + b


def longstr(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


class Typed:
    """A field value with an explicit AMQP/RabbitMQ type code, e.g. Typed('I', 1), Typed('s', 1)."""

    _FMT = {"b": ">b", "B": ">B", "s": ">h", "u": ">H", "I": ">i", "i": ">I", "l": ">q",
            "f": ">f", "d": ">d", "T": ">Q"}

    def __init__(self, code: str, value: Any):
        self.code, self.value = code, value

    def encode(self) -> bytes:
        if self.code in self._FMT:
            return self.code.encode() + struct.pack(self._FMT[self.code], self.value)
        if self.code in ("S", "x"):
            return self.code.encode() + longstr(self.value)
        if self.code == "t":
            return b"t" + bytes([1 if self.value else 0])
        if self.code == "D":
            scale, unscaled = self.value
            return b"D" + struct.pack(">Bi", scale, unscaled)
        raise ValueError(self.code)


def _value(v: Any) -> bytes:
    if isinstance(v, Typed):
        return v.encode()
    if isinstance(v, bool):
        return b"t" + struct.pack(">B", int(v))
    if isinstance(v, int):
        return b"l" + struct.pack(">q", v)
    if isinstance(v, (str, bytes)):
        return b"S" + longstr(v)
    if isinstance(v, dict):
        return b"F" + table(v)
    if isinstance(v, (list, tuple)):
        body = b"".join(_value(x) for x in v)
        return b"A" + struct.pack(">I", len(body)) + body
    if v is None:
        return b"V"
    raise TypeError(v)


def table(d: dict) -> bytes:
    body = b"".join(shortstr(k) + _value(v) for k, v in d.items())
    return struct.pack(">I", len(body)) + body


def frame(ftype: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + bytes([FRAME_END])


def method_frame(channel: int, cm: tuple[int, int], args: bytes = b"") -> bytes:
    return frame(FRAME_METHOD, channel, struct.pack(">HH", *cm) + args)


def content_frames(channel: int, body: bytes, frame_max: int = 131072, props: bytes = b"\x00\x00") -> bytes:
    """Content header (class basic, given property flags+list; default none) and body frames."""
    out = [frame(FRAME_HEADER, channel, struct.pack(">HHQ", 60, 0, len(body)) + props)]
    step = frame_max - 8
    for i in range(0, len(body), step):
        out.append(frame(FRAME_BODY, channel, body[i:i + step]))
    return b"".join(out)


def headers_props(headers: dict) -> bytes:
    """Basic property flags + list carrying only the headers table (values may be Typed)."""
    return struct.pack(">H", 0x2000) + table(headers)


def publish_frames(channel: int, exchange: str, routing_key: str, body: bytes,
                   mandatory: bool = False, frame_max: int = 131072, props: bytes = b"\x00\x00") -> bytes:
    args = struct.pack(">H", 0) + shortstr(exchange) + shortstr(routing_key) + bytes([1 if mandatory else 0])
    return method_frame(channel, BASIC_PUBLISH, args) + content_frames(channel, body, frame_max, props)


def queue_declare_args(name: str, passive=False, durable=False, exclusive=False, auto_delete=False,
                       nowait=False, arguments: Optional[dict] = None) -> bytes:
    bits = passive | durable << 1 | exclusive << 2 | auto_delete << 3 | nowait << 4
    return struct.pack(">H", 0) + shortstr(name) + bytes([bits]) + table(arguments or {})


def basic_consume_args(queue: str, tag: str = "", no_local=False, no_ack=False, exclusive=False,
                       nowait=False) -> bytes:
    bits = no_local | no_ack << 1 | exclusive << 2 | nowait << 3
    return struct.pack(">H", 0) + shortstr(queue) + shortstr(tag) + bytes([bits]) + table({})


# ---------------------------------------------------------------- decoding

class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        b = self.data[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("short read")
        self.pos += n
        return b

    def octet(self) -> int:
        return self.take(1)[0]

    def short(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def long(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def longlong(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def shortstr(self) -> str:
        return self.take(self.octet()).decode("utf-8", "replace")

    def longstr(self) -> bytes:
        return self.take(self.long())

    def table(self) -> dict:
        r = Reader(self.longstr())
        out = {}
        while r.pos < len(r.data):
            k = r.shortstr()
            out[k] = r.value()
        return out

    def value(self) -> Any:
        t = chr(self.octet())
        if t == "t":
            return bool(self.octet())
        if t == "b":
            return struct.unpack(">b", self.take(1))[0]
        if t == "B":
            return self.octet()
        if t == "s":
            return struct.unpack(">h", self.take(2))[0]
        if t == "u":
            return self.short()
        if t == "I":
            return struct.unpack(">i", self.take(4))[0]
        if t == "i":
            return self.long()
        if t == "l":
            return struct.unpack(">q", self.take(8))[0]
        if t == "f":
            return struct.unpack(">f", self.take(4))[0]
        if t == "d":
            return struct.unpack(">d", self.take(8))[0]
        if t == "D":
            scale = self.octet()
            return (scale, struct.unpack(">i", self.take(4))[0])
        if t == "S":
            return self.longstr()
        if t == "x":
            return self.longstr()
        if t == "T":
            return self.longlong()
        if t == "F":
            return self.table()
        if t == "A":
            r = Reader(self.longstr())
            items = []
            while r.pos < len(r.data):
                items.append(r.value())
            return items
        if t == "V":
            return None
        raise ValueError(f"unknown field type {t!r}")


@dataclass
class Frame:
    type: int
    channel: int
    payload: bytes

    @property
    def method(self) -> Optional[tuple[int, int]]:
        if self.type != FRAME_METHOD:
            return None
        return struct.unpack(">HH", self.payload[:4])

    def args(self) -> Reader:
        return Reader(self.payload[4:])

    def close_info(self) -> tuple[int, str, int, int]:
        """(reply_code, reply_text, class_id, method_id) of a connection.close / channel.close."""
        r = self.args()
        return r.short(), r.shortstr(), r.short(), r.short()

    def __repr__(self) -> str:
        if self.type == FRAME_METHOD:
            return f"<Frame method {self.method} ch={self.channel} {self.payload[4:40]!r}>"
        return f"<Frame type={self.type} ch={self.channel} len={len(self.payload)}>"


class ConnectionClosed(Exception):
    pass


class RawConnection:
    """A socket speaking raw AMQP frames."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, rcvbuf: Optional[int] = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""
        self.server_properties: dict = {}
        self.mechanisms: bytes = b""
        self.tune: tuple[int, int, int] = (0, 0, 0)
        self.frame_max = 131072

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionClosed(f"EOF after {len(self.buf)} of {n} bytes")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, skip_heartbeats: bool = True) -> Frame:
        while True:
            hdr = self.recv_exact(7)
            ftype, channel, size = struct.unpack(">BHI", hdr)
            payload = self.recv_exact(size)
            end = self.recv_exact(1)
            if end[0] != FRAME_END:
                raise ValueError(f"bad frame end {end!r}")
            if ftype == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            return Frame(ftype, channel, payload)

    def expect(self, cm: tuple[int, int], channel: Optional[int] = None) -> Frame:
        f = self.read_frame()
        assert f.method == cm, f"expected {cm}, got {f!r}" + (
            f" close={f.close_info()}" if f.method in (CONNECTION_CLOSE, CHANNEL_CLOSE) else "")
        if channel is not None:
            assert f.channel == channel, f
        return f

    def read_content(self, channel: int) -> tuple[bytes, bytes]:
        """After a content-bearing method: read its header and body frames -> (props_bytes, body)."""
        h = self.read_frame()
        assert h.type == FRAME_HEADER and h.channel == channel, h
        size = struct.unpack(">Q", h.payload[4:12])[0]
        props = h.payload[12:]
        body = b""
        while len(body) < size:
            f = self.read_frame()
            assert f.type == FRAME_BODY and f.channel == channel, f
            body += f.payload
        return props, body

    def send_method(self, channel: int, cm: tuple[int, int], args: bytes = b"") -> None:
        self.send(method_frame(channel, cm, args))

    def read_until_closed(self, limit: int = 1 << 20) -> bytes:
        """Read and return everything until the peer closes (raises socket.timeout if it doesn't)."""
        data = self.buf
        self.buf = b""
        while len(data) < limit:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        return data

    # -- handshake steps

    def start(self) -> Frame:
        self.send(PROTOCOL_HEADER)
        f = self.expect(CONNECTION_START, 0)
        r = f.args()
        self.version = (r.octet(), r.octet())
        self.server_properties = r.table()
        self.mechanisms = r.longstr()
        self.locales = r.longstr()
        return f

    def start_ok(self, user: str = "guest", password: str = "guest", mechanism: str = "PLAIN",
                 capabilities: Optional[dict] = None, response: Optional[bytes] = None) -> None:
        caps = {"authentication_failure_close": True} if capabilities is None else capabilities
        props = table({"product": "conformance-raw", "capabilities": caps})
        resp = response if response is not None else b"\x00" + user.encode() + b"\x00" + password.encode()
        self.send_method(0, CONNECTION_START_OK, props + shortstr(mechanism) + longstr(resp) + shortstr("en_US"))

    def read_tune(self) -> tuple[int, int, int]:
        f = self.expect(CONNECTION_TUNE, 0)
        r = f.args()
        self.tune = (r.short(), r.long(), r.short())
        return self.tune

    def tune_ok(self, channel_max: int, frame_max: int, heartbeat: int) -> None:
        self.frame_max = frame_max
        self.send_method(0, CONNECTION_TUNE_OK, struct.pack(">HIH", channel_max, frame_max, heartbeat))

    def open(self, vhost: str = "/") -> Frame:
        self.send_method(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + b"\x00")
        return self.read_frame()

    def handshake(self, user="guest", password="guest", vhost="/", channel_max: Optional[int] = None,
                  frame_max: Optional[int] = None, heartbeat: int = 0) -> "RawConnection":
        self.start()
        self.start_ok(user, password)
        cmax, fmax, _hb = self.read_tune()
        self.tune_ok(cmax if channel_max is None else channel_max,
                     fmax if frame_max is None else frame_max, heartbeat)
        f = self.open(vhost)
        assert f.method == CONNECTION_OPEN_OK, f"connection.open failed: {f!r}"
        return self

    def channel_open(self, channel: int) -> Frame:
        self.send_method(channel, CHANNEL_OPEN, shortstr(""))
        return self.read_frame()

    def connection_close(self, code: int = 200, text: str = "bye") -> None:
        self.send_method(0, CONNECTION_CLOSE, struct.pack(">H", code) + shortstr(text) + struct.pack(">HH", 0, 0))

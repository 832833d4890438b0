import AMQPWire
import NIOCore

/// The readable bytes of a buffer, for byte-for-byte comparisons with hand-computed frames.
func bytes(of buffer: ByteBuffer) -> [UInt8] {
    Array(buffer.readableBytesView)
}

/// The bytes of `text`, for spelling out short and long strings in golden byte arrays.
func ascii(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// Encodes a method as a bare payload (class id, method id, arguments).
func encodedPayload(_ method: AMQPMethod) throws -> ByteBuffer {
    var buffer = ByteBuffer()
    try method.encode(into: &buffer)
    return buffer
}

/// Encodes a single field value, without a table around it.
func encodedValue(_ value: FieldValue) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try buffer.writeFieldValue(value)
    return bytes(of: buffer)
}

/// Decodes every frame in `buffer`, as the broker would read them from a socket.
func decodeAllFrames(_ buffer: ByteBuffer, maxFrameSize: UInt32 = 131_072) throws -> [Frame] {
    var buffer = buffer
    var frames: [Frame] = []
    while let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: maxFrameSize) {
        frames.append(frame)
    }
    return frames
}

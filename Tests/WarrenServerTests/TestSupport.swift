import AMQPWire
import NIOCore

@testable import WarrenServer

/// A SASL PLAIN response: authzid NUL authcid NUL password, with an empty authzid.
func plainResponse(_ user: String, _ password: String) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt8(0))
    buffer.writeString(user)
    buffer.writeInteger(UInt8(0))
    buffer.writeString(password)
    return buffer
}

/// An AMQPLAIN response: a field table holding LOGIN and PASSWORD, without its length prefix.
func amqplainResponse(_ user: String, _ password: String) throws -> ByteBuffer {
    var buffer = ByteBuffer()
    try buffer.writeFieldTable(["LOGIN": .string(user), "PASSWORD": .string(password)])
    buffer.moveReaderIndex(forwardBy: 4)
    return buffer
}

/// The address of a buffer's first readable byte, to tell a slice from a copy.
func baseAddress(of buffer: ByteBuffer) -> UInt {
    buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
}

/// Stands in for the socket: collects what the connection writes, and remembers closes.
final class FakeTransport: ConnectionTransport {
    private(set) var written = ByteBuffer()
    private(set) var writeCount = 0
    private(set) var isClosed = false
    private(set) var heartbeatSeconds: UInt16?
    private(set) var maxFrameSize: UInt32?
    var isWritable = true

    func write(_ bytes: ByteBuffer) {
        precondition(!isClosed, "write after close")
        writeCount += 1
        written.writeImmutableBuffer(bytes)
    }

    func writeAndClose(_ bytes: ByteBuffer) {
        if !isClosed {
            writeCount += bytes.readableBytes > 0 ? 1 : 0
            written.writeImmutableBuffer(bytes)
        }
        isClosed = true
    }

    func close() {
        isClosed = true
    }

    func startHeartbeats(seconds: UInt16) {
        heartbeatSeconds = seconds
    }

    private(set) var closeDeadline: Double?

    func closeAfter(seconds: Double) {
        closeDeadline = seconds
    }

    func setMaxFrameSize(_ size: UInt32) {
        maxFrameSize = size
    }

    private(set) var isReading = true

    func setReading(_ reading: Bool) {
        isReading = reading
    }

    /// Takes the bytes written so far.
    func takeWritten() -> ByteBuffer {
        defer { written.clear() }
        return written
    }
}

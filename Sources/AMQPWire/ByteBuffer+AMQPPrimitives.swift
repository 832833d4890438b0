import NIOCore

/// Readers and writers for the AMQP 0-9-1 primitive domains (octet, short, long, longlong,
/// shortstr, longstr, timestamp). Integers are big-endian, as the spec says.
extension ByteBuffer {
    @inlinable
    public mutating func readAMQPInteger<T: FixedWidthInteger>(as: T.Type = T.self, _ what: StaticString) throws -> T {
        guard let value = self.readInteger(endianness: .big, as: T.self) else {
            throw AMQPWireError.truncated(what: "\(what)")
        }
        return value
    }

    /// Reads a `shortstr`: one length octet, then that many UTF-8 bytes.
    ///
    /// Invalid UTF-8 is an error rather than being repaired with U+FFFD, because a repaired
    /// routing key, queue name or consumer tag would silently name something else.
    @inlinable
    public mutating func readShortString() throws -> String {
        let length: UInt8 = try self.readAMQPInteger("short string length")
        guard let bytes = self.viewBytes(at: self.readerIndex, length: Int(length)) else {
            throw AMQPWireError.truncated(what: "short string")
        }
        let string = String(decoding: bytes, as: UTF8.self)
        guard string.utf8.elementsEqual(bytes) else {
            throw AMQPWireError.invalidUTF8(what: "short string")
        }
        self.moveReaderIndex(forwardBy: Int(length))
        return string
    }

    /// Writes a `shortstr`; longer than 255 bytes is a caller error reported as a throw, not a trap.
    @inlinable
    public mutating func writeShortString(_ string: String) throws {
        let length = string.utf8.count
        guard length <= 255 else { throw AMQPWireError.shortStringTooLong(length: length) }
        self.writeInteger(UInt8(length))
        self.writeString(string)
    }

    /// Reads a `longstr` as raw bytes: a 32-bit length, then that many bytes (a slice, no copy).
    @inlinable
    public mutating func readLongString() throws -> ByteBuffer {
        let length: UInt32 = try self.readAMQPInteger("long string length")
        guard let bytes = self.readSlice(length: Int(length)) else {
            throw AMQPWireError.truncated(what: "long string")
        }
        return bytes
    }

    @inlinable
    public mutating func writeLongString(_ bytes: ByteBuffer) {
        self.writeInteger(UInt32(bytes.readableBytes))
        self.writeImmutableBuffer(bytes)
    }

    @inlinable
    public mutating func writeLongString(_ string: String) {
        self.writeInteger(UInt32(string.utf8.count))
        self.writeString(string)
    }
}

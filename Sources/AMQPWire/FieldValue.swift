import NIOCore

/// A value in an AMQP field table or field array, with every type RabbitMQ reads and writes.
///
/// RabbitMQ's table types differ from the 0-9-1 spec's errata list (`s` is a signed 16-bit
/// integer, `u` unsigned, `x` a byte array); clients are written against RabbitMQ, so Warren
/// follows RabbitMQ. Long strings keep their raw bytes, because `S` is binary on the wire and a
/// header that round-trips through the broker must come back byte for byte.
public enum FieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case decimal(AMQPDecimal)
    case longString(ByteBuffer)
    case bytes(ByteBuffer)
    case array([FieldValue])
    case timestamp(UInt64)
    case table(FieldTable)
    case void

    /// A long string (`S`) holding UTF-8 text.
    public static func string(_ text: String) -> FieldValue {
        .longString(ByteBuffer(string: text))
    }

    /// The text of a long string, if this is one and it is valid UTF-8.
    public var stringValue: String? {
        guard case .longString(let bytes) = self else { return nil }
        return bytes.getString(at: bytes.readerIndex, length: bytes.readableBytes)
    }

    /// The value as a signed integer, whichever integer type it was sent as.
    ///
    /// RabbitMQ accepts any integer type for numeric arguments (`x-max-length` may arrive as
    /// `b`, `s`, `I` or `l` depending on the client library), so argument validation reads
    /// through this.
    public var integerValue: Int64? {
        switch self {
        case .int8(let v): Int64(v)
        case .uint8(let v): Int64(v)
        case .int16(let v): Int64(v)
        case .uint16(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .uint32(let v): Int64(v)
        case .int64(let v): v
        default: nil
        }
    }

    /// The type octet that introduces this value on the wire.
    public var typeOctet: UInt8 {
        switch self {
        case .bool: UInt8(ascii: "t")
        case .int8: UInt8(ascii: "b")
        case .uint8: UInt8(ascii: "B")
        case .int16: UInt8(ascii: "s")
        case .uint16: UInt8(ascii: "u")
        case .int32: UInt8(ascii: "I")
        case .uint32: UInt8(ascii: "i")
        case .int64: UInt8(ascii: "l")
        case .float: UInt8(ascii: "f")
        case .double: UInt8(ascii: "d")
        case .decimal: UInt8(ascii: "D")
        case .longString: UInt8(ascii: "S")
        case .bytes: UInt8(ascii: "x")
        case .array: UInt8(ascii: "A")
        case .timestamp: UInt8(ascii: "T")
        case .table: UInt8(ascii: "F")
        case .void: UInt8(ascii: "V")
        }
    }
}

/// An AMQP decimal: `value × 10^-scale`.
public struct AMQPDecimal: Sendable, Hashable {
    public var scale: UInt8
    public var value: UInt32

    public init(scale: UInt8, value: UInt32) {
        self.scale = scale
        self.value = value
    }
}

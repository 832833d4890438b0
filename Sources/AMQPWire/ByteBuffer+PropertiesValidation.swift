import NIOCore

/// Structural checks of encoded properties that build nothing.
///
/// Every publish's content header is checked before the broker accepts it, but most are relayed
/// without ever being looked into; walking lengths and type octets instead of decoding keeps
/// that check free of allocations. Like RabbitMQ, string contents are treated as bytes here.
extension ByteBuffer {
    mutating func skipShortString() throws {
        let length: UInt8 = try readAMQPInteger("short string length")
        try skip(Int(length), "short string")
    }

    private mutating func skip(_ count: Int, _ what: StaticString) throws {
        guard readableBytes >= count else { throw AMQPWireError.truncated(what: "\(what)") }
        moveReaderIndex(forwardBy: count)
    }

    mutating func skipFieldTable(depth: Int) throws {
        let length: UInt32 = try readAMQPInteger("field table length")
        guard var body = readSlice(length: Int(length)) else { throw AMQPWireError.truncated(what: "field table") }
        while body.readableBytes > 0 {
            try body.skipShortString()
            try body.skipFieldValue(depth: depth)
        }
    }

    private mutating func skipFieldArray(depth: Int) throws {
        let length: UInt32 = try readAMQPInteger("field array length")
        guard var body = readSlice(length: Int(length)) else { throw AMQPWireError.truncated(what: "field array") }
        while body.readableBytes > 0 {
            try body.skipFieldValue(depth: depth)
        }
    }

    private mutating func skipFieldValue(depth: Int) throws {
        let type: UInt8 = try readAMQPInteger("field type")
        switch type {
        case UInt8(ascii: "t"), UInt8(ascii: "b"), UInt8(ascii: "B"): try skip(1, "field value")
        case UInt8(ascii: "s"), UInt8(ascii: "u"): try skip(2, "field value")
        case UInt8(ascii: "I"), UInt8(ascii: "i"), UInt8(ascii: "f"): try skip(4, "field value")
        case UInt8(ascii: "l"), UInt8(ascii: "d"), UInt8(ascii: "T"): try skip(8, "field value")
        case UInt8(ascii: "D"): try skip(5, "decimal")
        case UInt8(ascii: "S"), UInt8(ascii: "x"):
            let length: UInt32 = try readAMQPInteger("long string length")
            try skip(Int(length), "long string")
        case UInt8(ascii: "A"), UInt8(ascii: "F"):
            guard depth < maxFieldNesting else {
                throw AMQPWireError.truncated(what: "field table: nested more than \(maxFieldNesting) levels deep")
            }
            if type == UInt8(ascii: "A") {
                try skipFieldArray(depth: depth + 1)
            } else {
                try skipFieldTable(depth: depth + 1)
            }
        case UInt8(ascii: "V"): break
        default: throw AMQPWireError.unknownFieldType(type)
        }
    }
}

extension BasicProperties {
    /// Checks that `buffer` holds a well-formed property-flags word and property list, and
    /// nothing after it, without decoding it.
    public static func validate(_ buffer: ByteBuffer) throws {
        var bytes = buffer
        let flags: UInt16 = try bytes.readAMQPInteger("property flags")
        guard flags & 0b11 == 0 else { throw AMQPWireError.invalidPropertyFlags(flags) }
        // Wire order: content-type, content-encoding, headers, delivery-mode, priority, then the rest.
        for bit in stride(from: 15, through: 2, by: -1) {
            let flag = UInt16(1) << UInt16(bit)
            guard flags & flag != 0 else { continue }
            switch flag {
            case headersFlag: try bytes.skipFieldTable(depth: 0)
            case deliveryModeFlag, priorityFlag: let _: UInt8 = try bytes.readAMQPInteger("octet property")
            case timestampFlag: let _: UInt64 = try bytes.readAMQPInteger("timestamp")
            default: try bytes.skipShortString()
            }
        }
        guard bytes.readableBytes == 0 else {
            throw AMQPWireError.trailingBytes(classID: 60, methodID: 0, count: bytes.readableBytes)
        }
    }
}

extension BasicProperties {
    /// The `priority` property read straight from a content header's encoded properties
    /// (priority queues need only this one field for every message they take).
    public static func priority(in header: ContentHeader) -> UInt8? {
        guard var bytes = field(priorityFlag, in: header) else { return nil }
        return try? bytes.readAMQPInteger("priority")
    }

    /// Whether the encoded properties say `delivery_mode` 2 (persistent): read on every
    /// publish to a durable queue.
    public static func isPersistent(_ header: ContentHeader) -> Bool {
        guard var bytes = field(deliveryModeFlag, in: header) else { return false }
        return (try? bytes.readAMQPInteger(as: UInt8.self, "delivery mode")) == 2
    }

    /// The encoded properties positioned at the fixed-size field `flag` (delivery mode or
    /// priority), skipping only the fields before it; nil when the field is absent.
    private static func field(_ flag: UInt16, in header: ContentHeader) -> ByteBuffer? {
        var bytes = header.encodedProperties
        guard let flags: UInt16 = try? bytes.readAMQPInteger("property flags"), flags & flag != 0 else {
            return nil
        }
        do {
            if flags & contentTypeFlag != 0 { try bytes.skipShortString() }
            if flags & contentEncodingFlag != 0 { try bytes.skipShortString() }
            if flags & headersFlag != 0 { try bytes.skipFieldTable(depth: 0) }
            if flag == priorityFlag && flags & deliveryModeFlag != 0 {
                let _: UInt8 = try bytes.readAMQPInteger("delivery mode")
            }
            return bytes
        } catch {
            return nil
        }
    }
}

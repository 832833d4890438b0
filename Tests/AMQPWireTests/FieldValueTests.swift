import AMQPWire
import NIOCore
import Testing

/// Every RabbitMQ field type, checked against hand-computed bytes and round-tripped.
@Suite("Field values and tables")
struct FieldValueTests {
    /// (value, its encoding with the type octet), computed by hand from RabbitMQ's field table
    /// grammar (rabbit_binary_generator): big-endian, signed `s`/`I`/`l`, `x` as byte array.
    static let golden: [(FieldValue, [UInt8])] = [
        (.bool(true), [0x74, 0x01]),
        (.bool(false), [0x74, 0x00]),
        (.int8(-2), [0x62, 0xFE]),
        (.uint8(200), [0x42, 0xC8]),
        (.int16(-2), [0x73, 0xFF, 0xFE]),
        (.uint16(0xBEEF), [0x75, 0xBE, 0xEF]),
        (.int32(-2), [0x49, 0xFF, 0xFF, 0xFF, 0xFE]),
        (.uint32(0xDEAD_BEEF), [0x69, 0xDE, 0xAD, 0xBE, 0xEF]),
        (.int64(-2), [0x6C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]),
        (.float(1.0), [0x66, 0x3F, 0x80, 0x00, 0x00]),
        (.double(-2.5), [0x64, 0xC0, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
        (.decimal(AMQPDecimal(scale: 2, value: 12345)), [0x44, 0x02, 0x00, 0x00, 0x30, 0x39]),
        (.string("hi"), [0x53, 0x00, 0x00, 0x00, 0x02, 0x68, 0x69]),
        (.longString(ByteBuffer(bytes: [0x00, 0xFF])), [0x53, 0x00, 0x00, 0x00, 0x02, 0x00, 0xFF]),
        (.bytes(ByteBuffer(bytes: [0x01, 0x02])), [0x78, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02]),
        (.array([.int8(1), .void]), [0x41, 0x00, 0x00, 0x00, 0x03, 0x62, 0x01, 0x56]),
        (.array([]), [0x41, 0x00, 0x00, 0x00, 0x00]),
        (.timestamp(1_700_000_000), [0x54, 0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xF1, 0x00]),
        (.table(["k": .void]), [0x46, 0x00, 0x00, 0x00, 0x03, 0x01, 0x6B, 0x56]),
        (.table([:]), [0x46, 0x00, 0x00, 0x00, 0x00]),
        (.void, [0x56]),
    ]

    @Test("each type encodes to the hand-computed bytes", arguments: golden)
    func goldenBytes(_ value: FieldValue, _ expected: [UInt8]) throws {
        #expect(try encodedValue(value) == expected)
        #expect(expected.first == value.typeOctet)
    }

    @Test("each type decodes from the hand-computed bytes", arguments: golden)
    func goldenDecode(_ value: FieldValue, _ expected: [UInt8]) throws {
        var buffer = ByteBuffer(bytes: expected)
        #expect(try buffer.readFieldValue() == value)
        #expect(buffer.readableBytes == 0)
    }

    @Test("all seventeen type octets are covered")
    func coverage() {
        let octets = Set(Self.golden.map(\.0.typeOctet))
        #expect(octets == Set("tbBsuIilfdDSxATFV".utf8))
    }

    @Test("a table of every type round-trips in order")
    func everyTypeTable() throws {
        var table = FieldTable()
        for (index, (value, _)) in Self.golden.enumerated() {
            table["key-\(index)"] = value
        }
        var buffer = ByteBuffer()
        try buffer.writeFieldTable(table)
        let decoded = try buffer.readFieldTable()
        #expect(decoded == table)
        #expect(decoded.keys == table.keys)
        #expect(buffer.readableBytes == 0)
    }

    @Test("nested tables and arrays round-trip")
    func nested() throws {
        let table: FieldTable = [
            "x-death": .array([
                .table([
                    "count": .int64(3),
                    "reason": .string("expired"),
                    "queue": .string("q"),
                    "time": .timestamp(1_700_000_000),
                    "routing-keys": .array([.string("a"), .string("b")]),
                ]),
                .table(["nested": .table(["deeper": .array([.array([.decimal(AMQPDecimal(scale: 0, value: 0))])])])]),
            ]),
            "empty": .table(FieldTable()),
        ]
        var buffer = ByteBuffer()
        try buffer.writeFieldTable(table)
        #expect(try buffer.readFieldTable() == table)
        #expect(buffer.readableBytes == 0)
    }

    @Test("a table's length prefix counts exactly its entries")
    func tableLength() throws {
        let table: FieldTable = ["a": .bool(true), "bc": .int32(7)]
        var buffer = ByteBuffer()
        try buffer.writeFieldTable(table)
        // 4-byte length, then: 01 'a' 't' 01 | 02 'b' 'c' 'I' 00 00 00 07
        #expect(
            bytes(of: buffer) == [0, 0, 0, 12, 1, 0x61, 0x74, 1, 2, 0x62, 0x63, 0x49, 0, 0, 0, 7]
        )
    }

    @Test("decimals keep scale and value")
    func decimals() throws {
        for decimal in [
            AMQPDecimal(scale: 0, value: 0), AMQPDecimal(scale: 255, value: .max), AMQPDecimal(scale: 3, value: 1),
        ] {
            var buffer = ByteBuffer()
            try buffer.writeFieldValue(.decimal(decimal))
            #expect(try buffer.readFieldValue() == .decimal(decimal))
        }
    }

    @Test("timestamps are 64-bit seconds, unsigned")
    func timestamps() throws {
        for seconds: UInt64 in [0, 1, 1_700_000_000, .max] {
            var buffer = ByteBuffer()
            try buffer.writeFieldValue(.timestamp(seconds))
            #expect(buffer.readableBytes == 9)
            #expect(try buffer.readFieldValue() == .timestamp(seconds))
        }
    }

    @Test("duplicate keys are kept on the wire; lookups see the last")
    func duplicateKeys() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(8))
        buffer.writeBytes([1, 0x6B, 0x62, 1])  // "k" = int8 1
        buffer.writeBytes([1, 0x6B, 0x62, 2])  // "k" = int8 2
        let table = try buffer.readFieldTable()
        #expect(table.count == 2)
        #expect(table["k"] == .int8(2))
    }

    @Test("integer values read through integerValue whatever their width")
    func integerValue() {
        #expect(FieldValue.int8(-1).integerValue == -1)
        #expect(FieldValue.uint32(.max).integerValue == Int64(UInt32.max))
        #expect(FieldValue.int64(.min).integerValue == .min)
        #expect(FieldValue.string("1").integerValue == nil)
        #expect(FieldValue.string("héllo").stringValue == "héllo")
    }
}

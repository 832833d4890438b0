import NIOCore

/// How deeply tables and arrays may nest when decoding.
///
/// Decoding recurses once per level, and one 128 KiB frame holds some 26,000 nested arrays (five
/// bytes each), enough to overflow a thread's stack and crash the broker. Real headers (even
/// `x-death`) nest three or four levels deep.
let maxFieldNesting = 64

extension ByteBuffer {
    /// Reads a field table: a 32-bit byte length, then name/value pairs filling exactly that length.
    public mutating func readFieldTable() throws -> FieldTable {
        try self.readFieldTable(depth: 0)
    }

    mutating func readFieldTable(depth: Int) throws -> FieldTable {
        let length: UInt32 = try self.readAMQPInteger("field table length")
        guard var body = self.readSlice(length: Int(length)) else {
            throw AMQPWireError.truncated(what: "field table")
        }
        var entries: [FieldTable.Entry] = []
        while body.readableBytes > 0 {
            let key = try body.readShortString()
            let value = try body.readFieldValue(depth: depth)
            entries.append(FieldTable.Entry(key: key, value: value))
        }
        return FieldTable(entries)
    }

    /// Writes a field table, back-patching its length so the entries are encoded only once.
    public mutating func writeFieldTable(_ table: FieldTable) throws {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0))
        for entry in table.entries {
            try self.writeShortString(entry.key)
            try self.writeFieldValue(entry.value)
        }
        self.setInteger(UInt32(self.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    /// Reads a field array: a 32-bit byte length, then values filling exactly that length.
    public mutating func readFieldArray() throws -> [FieldValue] {
        try self.readFieldArray(depth: 0)
    }

    mutating func readFieldArray(depth: Int) throws -> [FieldValue] {
        let length: UInt32 = try self.readAMQPInteger("field array length")
        guard var body = self.readSlice(length: Int(length)) else {
            throw AMQPWireError.truncated(what: "field array")
        }
        var values: [FieldValue] = []
        while body.readableBytes > 0 {
            values.append(try body.readFieldValue(depth: depth))
        }
        return values
    }

    public mutating func writeFieldArray(_ values: [FieldValue]) throws {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0))
        for value in values {
            try self.writeFieldValue(value)
        }
        self.setInteger(UInt32(self.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    /// Reads one type octet and the value it introduces.
    public mutating func readFieldValue() throws -> FieldValue {
        try self.readFieldValue(depth: 0)
    }

    /// `depth` counts the tables and arrays around this value.
    mutating func readFieldValue(depth: Int) throws -> FieldValue {
        let type: UInt8 = try self.readAMQPInteger("field type")
        if type == UInt8(ascii: "A") || type == UInt8(ascii: "F"), depth >= maxFieldNesting {
            // Reported as a syntax error like any other malformed table.
            throw AMQPWireError.truncated(what: "field table: nested more than \(maxFieldNesting) levels deep")
        }
        switch type {
        case UInt8(ascii: "t"): return .bool(try self.readAMQPInteger(as: UInt8.self, "boolean") != 0)
        case UInt8(ascii: "b"): return .int8(try self.readAMQPInteger("int8"))
        case UInt8(ascii: "B"): return .uint8(try self.readAMQPInteger("uint8"))
        case UInt8(ascii: "s"): return .int16(try self.readAMQPInteger("int16"))
        case UInt8(ascii: "u"): return .uint16(try self.readAMQPInteger("uint16"))
        case UInt8(ascii: "I"): return .int32(try self.readAMQPInteger("int32"))
        case UInt8(ascii: "i"): return .uint32(try self.readAMQPInteger("uint32"))
        case UInt8(ascii: "l"): return .int64(try self.readAMQPInteger("int64"))
        case UInt8(ascii: "f"): return .float(Float(bitPattern: try self.readAMQPInteger("float")))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try self.readAMQPInteger("double")))
        case UInt8(ascii: "D"):
            let scale: UInt8 = try self.readAMQPInteger("decimal scale")
            let value: UInt32 = try self.readAMQPInteger("decimal value")
            return .decimal(AMQPDecimal(scale: scale, value: value))
        case UInt8(ascii: "S"): return .longString(try self.readLongString())
        case UInt8(ascii: "x"): return .bytes(try self.readLongString())
        case UInt8(ascii: "A"): return .array(try self.readFieldArray(depth: depth + 1))
        case UInt8(ascii: "T"): return .timestamp(try self.readAMQPInteger("timestamp"))
        case UInt8(ascii: "F"): return .table(try self.readFieldTable(depth: depth + 1))
        case UInt8(ascii: "V"): return .void
        default: throw AMQPWireError.unknownFieldType(type)
        }
    }

    public mutating func writeFieldValue(_ value: FieldValue) throws {
        self.writeInteger(value.typeOctet)
        switch value {
        case .bool(let v): self.writeInteger(UInt8(v ? 1 : 0))
        case .int8(let v): self.writeInteger(v)
        case .uint8(let v): self.writeInteger(v)
        case .int16(let v): self.writeInteger(v)
        case .uint16(let v): self.writeInteger(v)
        case .int32(let v): self.writeInteger(v)
        case .uint32(let v): self.writeInteger(v)
        case .int64(let v): self.writeInteger(v)
        case .float(let v): self.writeInteger(v.bitPattern)
        case .double(let v): self.writeInteger(v.bitPattern)
        case .decimal(let v):
            self.writeInteger(v.scale)
            self.writeInteger(v.value)
        case .longString(let bytes), .bytes(let bytes): self.writeLongString(bytes)
        case .array(let values): try self.writeFieldArray(values)
        case .timestamp(let v): self.writeInteger(v)
        case .table(let table): try self.writeFieldTable(table)
        case .void: break
        }
    }
}

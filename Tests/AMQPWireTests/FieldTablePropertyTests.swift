import AMQPWire
import NIOCore
import Testing

/// Random field tables from a seeded generator encode and decode to themselves.
///
/// The generator is a fixed xorshift so that a failure reproduces from its seed on any
/// machine, unlike SystemRandomNumberGenerator.
@Suite("Field table properties")
struct FieldTablePropertyTests {
    @Test("random tables round-trip", arguments: 0..<64)
    func randomTables(_ seed: Int) throws {
        var rng = Xorshift64(seed: UInt64(seed) &+ 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<8 {
            let table = randomTable(&rng, depth: 0)
            var buffer = ByteBuffer()
            try buffer.writeFieldTable(table)
            let encodedLength = buffer.readableBytes
            let decoded = try buffer.readFieldTable()
            #expect(decoded == table, "seed \(seed)")
            #expect(buffer.readableBytes == 0)

            // Encoding is deterministic and re-encoding the decoded table gives the same bytes.
            var again = ByteBuffer()
            try again.writeFieldTable(decoded)
            #expect(again.readableBytes == encodedLength)
        }
    }

    @Test("random tables survive as message headers in a content header frame", arguments: 0..<16)
    func randomHeaders(_ seed: Int) throws {
        var rng = Xorshift64(seed: UInt64(seed) &* 0x2545_F491_4F6C_DD1D &+ 1)
        let properties = BasicProperties(
            headers: randomTable(&rng, depth: 0), priority: UInt8.random(in: 0...9, using: &rng))
        let header = try ContentHeader(bodySize: rng.next(), properties: properties)
        var buffer = ByteBuffer()
        buffer.writeHeaderFrame(channel: 1, header)
        let frames = try decodeAllFrames(buffer, maxFrameSize: UInt32.max)
        guard case .header(_, let decoded)? = frames.first else {
            Issue.record("expected a header frame")
            return
        }
        #expect(try decoded.properties() == properties)
    }
}

/// xorshift64* (Vigna): tiny, fast, and the same sequence everywhere.
struct Xorshift64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed == 0 ? 0xDEAD_BEEF : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

private func randomTable(_ rng: inout Xorshift64, depth: Int) -> FieldTable {
    var entries: [FieldTable.Entry] = []
    for _ in 0..<Int.random(in: 0...6, using: &rng) {
        entries.append(FieldTable.Entry(key: randomKey(&rng), value: randomValue(&rng, depth: depth)))
    }
    return FieldTable(entries)
}

private func randomKey(_ rng: inout Xorshift64) -> String {
    // Mostly ASCII, sometimes multi-byte UTF-8, up to the 255-byte short-string limit.
    let alphabet: [Character] = Array("abcxyz-_.09ABé漢🐇")
    let count = Int.random(in: 0...40, using: &rng)
    return String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
}

private func randomBytes(_ rng: inout Xorshift64) -> ByteBuffer {
    ByteBuffer(bytes: (0..<Int.random(in: 0...32, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

private func randomValue(_ rng: inout Xorshift64, depth: Int) -> FieldValue {
    // Containers only near the top, so tables stay small.
    let kinds = depth < 3 ? 17 : 15
    switch Int.random(in: 0..<kinds, using: &rng) {
    case 0: return .bool(Bool.random(using: &rng))
    case 1: return .int8(Int8.random(in: .min ... .max, using: &rng))
    case 2: return .uint8(UInt8.random(in: .min ... .max, using: &rng))
    case 3: return .int16(Int16.random(in: .min ... .max, using: &rng))
    case 4: return .uint16(UInt16.random(in: .min ... .max, using: &rng))
    case 5: return .int32(Int32.random(in: .min ... .max, using: &rng))
    case 6: return .uint32(UInt32.random(in: .min ... .max, using: &rng))
    case 7: return .int64(Int64.random(in: .min ... .max, using: &rng))
    // Floats from integers, so no NaN (which is never equal to itself).
    case 8: return .float(Float(Int32.random(in: -1_000_000...1_000_000, using: &rng)) / 64)
    case 9: return .double(Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng)) / 1024)
    case 10:
        return .decimal(
            AMQPDecimal(
                scale: UInt8.random(in: 0...10, using: &rng), value: UInt32.random(in: .min ... .max, using: &rng)))
    case 11: return .longString(randomBytes(&rng))
    case 12: return .bytes(randomBytes(&rng))
    case 13: return .timestamp(rng.next())
    case 14: return .void
    case 15: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default: return .table(randomTable(&rng, depth: depth + 1))
    }
}

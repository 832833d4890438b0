import AMQPWire
import NIOCore
import Testing

@testable import WarrenServer

@Suite("ServerFrameReader")
struct ServerFrameReaderTests {
    /// The protocol header, then a publish with a 300-byte body and a heartbeat.
    func stream() throws -> ByteBuffer {
        var bytes = ByteBuffer(bytes: ProtocolHeader.amqp0091)
        try bytes.writeMethodFrame(channel: 1, .basicPublish(.init(exchange: "x", routingKey: "k")))
        bytes.writeHeaderFrame(
            channel: 1, try ContentHeader(bodySize: 300, properties: BasicProperties(deliveryMode: 2)))
        bytes.writeBodyFrames(channel: 1, ByteBuffer(repeating: 7, count: 300), maxFrameSize: 131_072)
        bytes.writeHeartbeatFrame()
        return bytes
    }

    func read(_ pieces: [ByteBuffer], limit: UInt32 = 131_072) throws -> [String] {
        let box = MaxFrameSizeBox()
        box.value = limit
        var reader = ServerFrameReader(limit: box)
        var units: [String] = []
        for piece in pieces {
            try reader.process(piece) { unit in units.append("\(unit)") }
        }
        return units
    }

    @Test("a stream split at every byte boundary yields the same units as one read")
    func everySplit() throws {
        let whole = try stream()
        let expected = try read([whole])
        #expect(expected.count == 5)
        for split in 1..<whole.readableBytes {
            let first = whole.getSlice(at: 0, length: split) ?? ByteBuffer()
            let second = whole.getSlice(at: split, length: whole.readableBytes - split) ?? ByteBuffer()
            #expect(try read([first, second]) == expected, "split at \(split)")
        }
        let bytes = (0..<whole.readableBytes).map { whole.getSlice(at: $0, length: 1) ?? ByteBuffer() }
        #expect(try read(bytes) == expected)
    }

    @Test("a body frame inside one read is a slice of that read, not a copy")
    func zeroCopyBody() throws {
        let whole = try stream()
        let box = MaxFrameSizeBox()
        box.value = 131_072
        var reader = ServerFrameReader(limit: box)
        var body: ByteBuffer?
        try reader.process(whole) { unit in
            if case .frame(.body(_, let payload)) = unit { body = payload }
        }
        let payload = try #require(body)
        let readBase = whole.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let bodyBase = payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bodyBase > readBase && bodyBase < readBase + UInt(whole.readableBytes))
    }

    @Test("a frame over the limit is refused once its header is complete, even split across reads")
    func oversizeSplit() throws {
        var bytes = ByteBuffer(bytes: ProtocolHeader.amqp0091)
        bytes.writeBodyFrames(channel: 1, ByteBuffer(repeating: 1, count: 5000), maxFrameSize: 131_072)
        let first = bytes.getSlice(at: 0, length: 12) ?? ByteBuffer()
        let second = bytes.getSlice(at: 12, length: bytes.readableBytes - 12) ?? ByteBuffer()
        #expect(throws: AMQPWireError.frameTooLarge(type: 3, size: 5000, frameMax: 4096)) {
            try read([first, second], limit: 4096)
        }
    }
}

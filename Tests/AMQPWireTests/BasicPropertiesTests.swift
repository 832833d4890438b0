import AMQPWire
import NIOCore
import Testing

/// The 14 basic properties, present and absent, and the flag word that announces them.
@Suite("Basic properties")
struct BasicPropertiesTests {
    static let all = BasicProperties(
        contentType: "application/json",
        contentEncoding: "gzip",
        headers: ["x-retries": .int32(3), "nested": .table(["a": .array([.bool(true)])])],
        deliveryMode: 2,
        priority: 9,
        correlationID: "corr-1",
        replyTo: "amq.rabbitmq.reply-to",
        expiration: "60000",
        messageID: "msg-1",
        timestamp: 1_700_000_000,
        type: "order.created",
        userID: "guest",
        appID: "warren-tests",
        clusterID: "cluster-a"
    )

    @Test("all 14 properties round-trip and set every defined flag")
    func allProperties() throws {
        var buffer = ByteBuffer()
        try Self.all.encode(into: &buffer)
        // Bits 15 through 2 set; bit 1 is unused and bit 0 (continuation) clear.
        #expect(buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0b1111_1111_1111_1100)
        let decoded = try BasicProperties.decode(from: &buffer)
        #expect(decoded == Self.all)
        #expect(buffer.readableBytes == 0)
        #expect(decoded.isPersistent)
    }

    @Test("no properties is a zero flag word and nothing else")
    func noProperties() throws {
        var buffer = ByteBuffer()
        try BasicProperties().encode(into: &buffer)
        #expect(bytes(of: buffer) == [0x00, 0x00])
        #expect(try BasicProperties.decode(from: &buffer) == BasicProperties())
    }

    @Test("each property alone sets exactly its own flag", arguments: 0..<14)
    func eachPropertyAlone(_ index: Int) throws {
        var properties = BasicProperties()
        switch index {
        case 0: properties.contentType = ""
        case 1: properties.contentEncoding = ""
        case 2: properties.headers = FieldTable()
        case 3: properties.deliveryMode = 0
        case 4: properties.priority = 0
        case 5: properties.correlationID = ""
        case 6: properties.replyTo = ""
        case 7: properties.expiration = ""
        case 8: properties.messageID = ""
        case 9: properties.timestamp = 0
        case 10: properties.type = ""
        case 11: properties.userID = ""
        case 12: properties.appID = ""
        default: properties.clusterID = ""
        }
        var buffer = ByteBuffer()
        try properties.encode(into: &buffer)
        // Present-but-empty is still present: that is what the flag word is for.
        #expect(buffer.getInteger(at: 0, as: UInt16.self) == UInt16(1) << (15 - index))
        #expect(try BasicProperties.decode(from: &buffer) == properties)
        #expect(buffer.readableBytes == 0)
    }

    @Test("a content header keeps the encoded properties and decodes them on demand")
    func contentHeader() throws {
        let header = try ContentHeader(bodySize: 42, properties: Self.all)
        var buffer = ByteBuffer()
        header.encode(into: &buffer)
        let decoded = try ContentHeader.decode(from: &buffer)
        #expect(decoded == header)
        #expect(decoded.bodySize == 42)
        #expect(decoded.classID == 60)
        #expect(decoded.propertyFlags == 0b1111_1111_1111_1100)
        #expect(try decoded.properties() == Self.all)
    }
}

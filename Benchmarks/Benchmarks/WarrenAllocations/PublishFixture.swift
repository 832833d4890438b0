import AMQPWire
import NIOCore

/// The bytes a client sends for one `basic.publish`: the method frame, the content header frame
/// and one body frame, as a real client writes them.
struct PublishFixture {
    static let channel: UInt16 = 1
    static let frameMax: UInt32 = 131_072

    let exchange: String
    let routingKey: String
    let properties: BasicProperties
    /// Method + header + body frames; each decode starts from a copy (no bytes are copied).
    let frames: ByteBuffer

    init(exchange: String, routingKey: String, properties: BasicProperties, bodySize: Int = 16) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        let body = ByteBuffer(repeating: 0x2A, count: bodySize)
        var frames = ByteBuffer()
        do {
            try frames.writeMethodFrame(
                channel: Self.channel, .basicPublish(Spec.Basic.Publish(exchange: exchange, routingKey: routingKey)))
            frames.writeHeaderFrame(
                channel: Self.channel,
                try ContentHeader(bodySize: UInt64(bodySize), properties: properties))
        } catch {
            fatalError("cannot encode the publish fixture: \(error)")
        }
        frames.writeBodyFrames(channel: Self.channel, body, maxFrameSize: Self.frameMax)
        self.frames = frames
    }

    /// Only `delivery-mode` set: validating the header decodes no string.
    static let minimalProperties = BasicProperties(deliveryMode: 2)

    /// What application clients commonly send: a content type, a message id, a timestamp and
    /// two headers. Every string here is longer than 15 UTF-8 bytes (Swift's inline small-string
    /// limit), so decoding each one allocates.
    static let typicalProperties = BasicProperties(
        contentType: "application/json",
        headers: ["x-trace-id": .string("4bf92f3577b34da6a3ce929d0e0e4736"), "attempt": .int32(1)],
        deliveryMode: 2,
        messageID: "5f0c3d4e-8a6b-4c1d-9e2f-0a1b2c3d4e5f",
        timestamp: 1_767_225_600
    )
}

/// A decoded `basic.publish` with its content, as the channel's content assembler completes it
/// for a body that fits one frame.
struct DecodedPublish {
    var publish: Spec.Basic.Publish
    var header: ContentHeader
    var body: ByteBuffer
}

extension FrameDecoder {
    /// Decodes method, header and body frames with the server's decoder, as
    /// `ServerFrameDecoder` does for each frame of a publish.
    static func decodePublish(from buffer: inout ByteBuffer) throws -> DecodedPublish {
        guard
            case .method(_, .basicPublish(let publish))? = try decodeFrame(
                from: &buffer, maxFrameSize: PublishFixture.frameMax),
            case .header(_, let header)? = try decodeFrame(from: &buffer, maxFrameSize: PublishFixture.frameMax),
            case .body(_, let body)? = try decodeFrame(from: &buffer, maxFrameSize: PublishFixture.frameMax)
        else {
            fatalError("the fixture is not method + header + body")
        }
        return DecodedPublish(publish: publish, header: header, body: body)
    }
}

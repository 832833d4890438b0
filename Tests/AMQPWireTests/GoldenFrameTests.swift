import AMQPWire
import NIOCore
import Testing

/// Whole frames checked byte for byte against encodings worked out by hand from the 0-9-1 spec
/// (section 4.2.3 frame layout, 4.2.5 method payloads, 4.2.6 content header).
@Suite("Golden frames")
struct GoldenFrameTests {
    @Test("connection.tune on channel 0")
    func connectionTune() throws {
        let tune = AMQPMethod.connectionTune(Spec.Connection.Tune(channelMax: 2047, frameMax: 131_072, heartbeat: 60))
        let expected: [UInt8] =
            [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C]  // method frame, channel 0, size 12
            + [0x00, 0x0A, 0x00, 0x1E]  // class 10, method 30
            + [0x07, 0xFF]  // channel-max 2047
            + [0x00, 0x02, 0x00, 0x00]  // frame-max 131072
            + [0x00, 0x3C]  // heartbeat 60
            + [0xCE]
        try expectFrame(tune, channel: 0, is: expected)
    }

    @Test("basic.publish with mandatory set")
    func basicPublish() throws {
        let publish = AMQPMethod.basicPublish(
            Spec.Basic.Publish(exchange: "amq.direct", routingKey: "rk", mandatory: true, immediate: false)
        )
        let expected: [UInt8] =
            [0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x15]  // method frame, channel 1, size 21
            + [0x00, 0x3C, 0x00, 0x28]  // class 60, method 40
            + [0x00, 0x00]  // reserved-1 (ticket)
            + [0x0A] + ascii("amq.direct")
            + [0x02] + ascii("rk")
            + [0b0000_0001]  // mandatory = bit 0, immediate = bit 1
            + [0xCE]
        try expectFrame(publish, channel: 1, is: expected)
    }

    @Test("channel.open with its reserved empty short string")
    func channelOpen() throws {
        let expected: [UInt8] = [0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x0A, 0x00, 0xCE]
        try expectFrame(.channelOpen(Spec.Channel.Open()), channel: 5, is: expected)
    }

    @Test("queue.declare with packed bits and an arguments table")
    func queueDeclare() throws {
        let declare = AMQPMethod.queueDeclare(
            Spec.Queue.Declare(queue: "q.1", durable: true, autoDelete: true, arguments: ["x-max-length": .int32(10)])
        )
        let expected: [UInt8] =
            [0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x21]  // size 33
            + [0x00, 0x32, 0x00, 0x0A]  // class 50, method 10
            + [0x00, 0x00]  // reserved-1
            + [0x03] + ascii("q.1")
            + [0b0000_1010]  // durable (bit 1) and auto-delete (bit 3)
            + [0x00, 0x00, 0x00, 0x12]  // table of 18 bytes
            + [0x0C] + ascii("x-max-length") + [0x49, 0x00, 0x00, 0x00, 0x0A]
            + [0xCE]
        try expectFrame(declare, channel: 1, is: expected)
    }

    @Test("connection.close with reply code and the failing method")
    func connectionClose() throws {
        let close = AMQPMethod.connectionClose(
            Spec.Connection.Close(replyCode: 320, replyText: "bye", classID: 60, methodID: 40)
        )
        let expected: [UInt8] =
            [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0E]
            + [0x00, 0x0A, 0x00, 0x32]
            + [0x01, 0x40] + [0x03] + ascii("bye") + [0x00, 0x3C, 0x00, 0x28]
            + [0xCE]
        try expectFrame(close, channel: 0, is: expected)
    }

    @Test("content header frame with content-type and delivery-mode")
    func contentHeaderFrame() throws {
        let properties = BasicProperties(contentType: "text/plain", deliveryMode: 2)
        let header = try ContentHeader(bodySize: 5, properties: properties)
        var buffer = ByteBuffer()
        buffer.writeHeaderFrame(channel: 1, header)
        let expected: [UInt8] =
            [0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1A]  // header frame, channel 1, size 26
            + [0x00, 0x3C]  // class 60
            + [0x00, 0x00]  // weight
            + [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05]  // body size 5
            + [0x90, 0x00]  // content-type (bit 15) and delivery-mode (bit 12)
            + [0x0A] + ascii("text/plain")
            + [0x02]
            + [0xCE]
        #expect(bytes(of: buffer) == expected)
        #expect(try decodeAllFrames(buffer) == [.header(channel: 1, header)])
    }

    @Test("body frames split at frame_max and heartbeats are eight bytes")
    func bodyAndHeartbeat() throws {
        var buffer = ByteBuffer()
        // frame_max 12 leaves 4 payload bytes per body frame.
        buffer.writeBodyFrames(channel: 2, ByteBuffer(string: "hello"), maxFrameSize: 12)
        buffer.writeHeartbeatFrame()
        let expected: [UInt8] =
            [0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04] + ascii("hell") + [0xCE]
            + [0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01] + ascii("o") + [0xCE]
            + [0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xCE]
        #expect(bytes(of: buffer) == expected)
        #expect(
            try decodeAllFrames(buffer, maxFrameSize: 12)
                == [
                    .body(channel: 2, ByteBuffer(string: "hell")), .body(channel: 2, ByteBuffer(string: "o")),
                    .heartbeat,
                ]
        )
    }

    @Test("an empty body writes no body frames")
    func emptyBody() {
        var buffer = ByteBuffer()
        buffer.writeBodyFrames(channel: 1, ByteBuffer(), maxFrameSize: 4096)
        #expect(buffer.readableBytes == 0)
    }

    private func expectFrame(
        _ method: AMQPMethod, channel: UInt16, is expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var buffer = ByteBuffer()
        try buffer.writeMethodFrame(channel: channel, method)
        #expect(bytes(of: buffer) == expected, sourceLocation: sourceLocation)
        #expect(try decodeAllFrames(buffer) == [.method(channel: channel, method)], sourceLocation: sourceLocation)
    }
}

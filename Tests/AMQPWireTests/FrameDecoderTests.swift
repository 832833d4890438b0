import AMQPWire
import NIOCore
import NIOTestUtils
import Testing

/// The frame decoder must produce the same frames however the bytes are split across reads.
@Suite("Frame decoder")
struct FrameDecoderTests {
    @Test("ByteToMessageDecoderVerifier: method, header, body and heartbeat frames")
    func verifier() throws {
        var method = ByteBuffer()
        let publish = AMQPMethod.basicPublish(Spec.Basic.Publish(exchange: "ex", routingKey: "rk"))
        try method.writeMethodFrame(channel: 1, publish)

        let header = try ContentHeader(bodySize: 11, properties: BasicProperties(contentType: "text/plain"))
        var headerFrame = ByteBuffer()
        headerFrame.writeHeaderFrame(channel: 1, header)

        var body = ByteBuffer()
        body.writeBodyFrames(channel: 1, ByteBuffer(string: "hello world"), maxFrameSize: 131_072)

        var heartbeat = ByteBuffer()
        heartbeat.writeHeartbeatFrame()

        // A whole message (method + header + two body frames) arriving as one read.
        var message = ByteBuffer()
        try message.writeMethodFrame(channel: 3, publish)
        message.writeHeaderFrame(channel: 3, header)
        message.writeBodyFrames(channel: 3, ByteBuffer(string: "hello world"), maxFrameSize: 14)

        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (method, [.method(channel: 1, publish)]),
                (headerFrame, [.header(channel: 1, header)]),
                (body, [.body(channel: 1, ByteBuffer(string: "hello world"))]),
                (heartbeat, [.heartbeat]),
                (
                    message,
                    [
                        .method(channel: 3, publish),
                        .header(channel: 3, header),
                        .body(channel: 3, ByteBuffer(string: "hello ")),
                        .body(channel: 3, ByteBuffer(string: "world")),
                    ]
                ),
            ],
            decoderFactory: { FrameDecoder() }
        )
    }

    @Test("the verifier also passes for every generated method")
    func verifierAllMethods() throws {
        let pairs = try allMethodSamples.enumerated().map { index, method in
            var buffer = ByteBuffer()
            try buffer.writeMethodFrame(channel: UInt16(index), method)
            return (buffer, [Frame.method(channel: UInt16(index), method)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs, decoderFactory: { FrameDecoder() })
    }

    @Test("a partial frame consumes nothing, at every split point")
    func partialFrames() throws {
        var frame = ByteBuffer()
        try frame.writeMethodFrame(channel: 1, .basicAck(Spec.Basic.Ack(deliveryTag: 9, multiple: true)))
        for length in 0..<frame.readableBytes {
            var partial = frame.getSlice(at: frame.readerIndex, length: length) ?? ByteBuffer()
            #expect(try FrameDecoder.decodeFrame(from: &partial, maxFrameSize: 4096) == nil)
            #expect(partial.readableBytes == length, "consumed bytes of a partial frame")
        }
    }

    @Test("a body frame is a slice of the read buffer")
    func bodyIsSlice() throws {
        var buffer = ByteBuffer()
        buffer.writeBodyFrames(channel: 1, ByteBuffer(string: "abc"), maxFrameSize: 4096)
        guard case .body(_, let payload)? = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096) else {
            Issue.record("expected a body frame")
            return
        }
        #expect(payload == ByteBuffer(string: "abc"))
    }

    @Test("a frame exactly at frame_max is accepted, and so is a payload of frame_max, as RabbitMQ allows")
    func exactlyFrameMax() throws {
        var buffer = ByteBuffer()
        buffer.writeBodyFrames(channel: 1, ByteBuffer(repeating: 0x61, count: 4088), maxFrameSize: 4096)
        #expect(buffer.readableBytes == 4096)
        let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        #expect(frame == .body(channel: 1, ByteBuffer(repeating: 0x61, count: 4088)))
        var fudged = ByteBuffer()
        fudged.writeBodyFrames(channel: 1, ByteBuffer(repeating: 0x62, count: 4096), maxFrameSize: 4104)
        #expect(try FrameDecoder.decodeFrame(from: &fudged, maxFrameSize: 4096) != nil)
    }
}

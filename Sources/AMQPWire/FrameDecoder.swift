import NIOCore

/// Splits a byte stream into frames and decodes each payload.
///
/// It only frames: size checks against `frame_max` happen before any payload is read, so a
/// peer cannot make the broker buffer more than one maximum frame. Body payloads are slices of
/// the read buffer.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    /// The largest frame accepted, including the 8 bytes of framing; raised after tune-ok.
    public var maxFrameSize: UInt32

    public init(maxFrameSize: UInt32 = 131_072) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.decodeFrame(from: &buffer, maxFrameSize: maxFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }

    /// Reads one whole frame, or returns nil (consuming nothing) when more bytes are needed.
    public static func decodeFrame(from buffer: inout ByteBuffer, maxFrameSize: UInt32) throws -> Frame? {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= FrameType.headerSize,
            let type = buffer.getInteger(at: start, as: UInt8.self),
            let channel = buffer.getInteger(at: start + 1, as: UInt16.self),
            let size = buffer.getInteger(at: start + 3, as: UInt32.self)
        else { return nil }
        // RabbitMQ compares the payload alone with frame_max (tolerating clients that forget the
        // 8 bytes of framing); so does Warren, so such clients work with both.
        guard size <= maxFrameSize else {
            throw AMQPWireError.frameTooLarge(type: type, size: size, frameMax: maxFrameSize)
        }
        let total = FrameType.overhead + Int(size)
        guard buffer.readableBytes >= total else { return nil }
        let end = buffer.getInteger(at: start + FrameType.headerSize + Int(size), as: UInt8.self) ?? 0
        guard end == FrameType.frameEnd else { throw AMQPWireError.badFrameEnd(octet: end) }
        buffer.moveReaderIndex(forwardBy: FrameType.headerSize)
        guard var payload = buffer.readSlice(length: Int(size)) else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        switch type {
        case FrameType.method:
            return .method(channel: channel, try AMQPMethod.decode(from: &payload))
        case FrameType.header:
            return .header(channel: channel, try ContentHeader.decode(from: &payload))
        case FrameType.body:
            return .body(channel: channel, payload)
        case FrameType.heartbeat:
            return .heartbeat
        default:
            throw AMQPWireError.unknownFrameType(type)
        }
    }
}

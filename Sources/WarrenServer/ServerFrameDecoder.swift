import AMQPWire
import NIOCore

/// What the server reads from a socket: first the 8-byte protocol header, then frames.
enum InboundUnit {
    case protocolHeader([UInt8])
    case frame(Frame)
}

/// Reads the protocol header, then frames with ``FrameDecoder``'s rules.
///
/// Until the connection is tuned, frames are limited to the spec's minimum size (4096 bytes),
/// so an unauthenticated peer cannot make the broker buffer a large frame.
struct ServerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundUnit

    private var sawHeader = false
    private let limit: MaxFrameSizeBox

    init(limit: MaxFrameSizeBox) {
        self.limit = limit
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if !sawHeader {
            guard let bytes = buffer.readBytes(length: 8) else { return .needMoreData }
            sawHeader = true
            context.fireChannelRead(Self.wrapInboundOut(.protocolHeader(bytes)))
            return .continue
        }
        guard let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: limit.value) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(.frame(frame)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A peer that hung up mid-frame: whatever is left is dropped.
        if sawHeader { return .needMoreData }
        guard buffer.readableBytes >= 8 else { return .needMoreData }
        return try decode(context: context, buffer: &buffer)
    }
}

/// The frame-size limit the decoder enforces, raised by the connection after tune-ok.
/// Only touched on the connection's event loop.
final class MaxFrameSizeBox {
    var value: UInt32 = 4096

    init() {}
}

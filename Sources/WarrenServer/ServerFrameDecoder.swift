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
/// so an unauthenticated peer cannot make the broker buffer a large frame. Driven by a
/// `NIOSingleStepByteToMessageProcessor` in the connection handler, so frames reach the
/// connection without being boxed into `NIOAny` one by one.
struct ServerFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = InboundUnit

    private var sawHeader = false
    private let limit: MaxFrameSizeBox

    init(limit: MaxFrameSizeBox) {
        self.limit = limit
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> InboundUnit? {
        if !sawHeader {
            guard let bytes = buffer.readBytes(length: 8) else { return nil }
            sawHeader = true
            return .protocolHeader(bytes)
        }
        return try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: limit.value).map(InboundUnit.frame)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundUnit? {
        // A peer that hung up mid-frame: whatever is left is dropped.
        try decode(buffer: &buffer)
    }
}

/// The frame-size limit the decoder enforces, raised by the connection after tune-ok.
/// Only touched on the connection's event loop.
final class MaxFrameSizeBox {
    var value: UInt32 = 4096

    init() {}
}

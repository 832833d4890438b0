import AMQPWire
import NIOCore

/// What the server reads from a socket: first the 8-byte protocol header, then frames.
enum InboundUnit {
    case protocolHeader([UInt8])
    case frame(Frame)
}

/// Turns the socket's reads into units: the 8-byte protocol header, then frames.
///
/// Frames that lie wholly inside one read are decoded straight from the read buffer, so body
/// payloads are slices of it (zero copies). Only a frame split across reads is gathered, into a
/// buffer of exactly its size. A general cumulation buffer would instead append each new read
/// to the leftover bytes, growing to the next power of two, and the message slices that pin it
/// would keep that slack alive for as long as the messages sit in queues.
///
/// Until the connection is tuned, frames are limited to the spec's minimum size (4096 bytes),
/// so an unauthenticated peer cannot make the broker buffer a large frame.
struct ServerFrameReader {
    private var sawHeader = false
    private let limit: MaxFrameSizeBox
    /// The start of a unit whose remaining bytes have not arrived yet.
    private var partial: ByteBuffer?

    init(limit: MaxFrameSizeBox) {
        self.limit = limit
    }

    /// Decodes every complete unit in `read`, calling `emit` for each in order.
    mutating func process(_ read: ByteBuffer, _ emit: (InboundUnit) throws -> Void) throws {
        var input = read
        if var pending = partial {
            partial = nil
            while true {
                let missing = unitLength(of: pending) - pending.readableBytes
                if missing <= 0 { break }
                guard input.readableBytes > 0, var chunk = input.readSlice(length: min(missing, input.readableBytes))
                else {
                    partial = pending
                    return
                }
                pending.writeBuffer(&chunk)
            }
            while let unit = try decode(&pending) {
                try emit(unit)
            }
        }
        while let unit = try decode(&input) {
            try emit(unit)
        }
        if input.readableBytes > 0 {
            var rest = ByteBufferAllocator().buffer(capacity: max(input.readableBytes, unitLength(of: input)))
            rest.writeBuffer(&input)
            partial = rest
        }
    }

    /// How many bytes the unit starting at `buffer`'s reader index needs in all, as far as can
    /// be told from the bytes present (a frame's length is known once its 7-byte header is).
    private func unitLength(of buffer: ByteBuffer) -> Int {
        guard sawHeader else { return ProtocolHeader.amqp0091.count }
        guard let size = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt32.self) else {
            return FrameType.headerSize
        }
        // An oversize frame is rejected by the decoder as soon as its header is complete.
        guard size <= limit.value else { return FrameType.headerSize }
        return Int(size) + FrameType.overhead
    }

    private mutating func decode(_ buffer: inout ByteBuffer) throws -> InboundUnit? {
        if !sawHeader {
            guard let bytes = buffer.readBytes(length: ProtocolHeader.amqp0091.count) else { return nil }
            sawHeader = true
            return .protocolHeader(bytes)
        }
        return try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: limit.value).map(InboundUnit.frame)
    }
}

/// The frame-size limit the decoder enforces, raised by the connection after tune-ok.
/// Only touched on the connection's event loop.
final class MaxFrameSizeBox {
    var value: UInt32 = 4096

    init() {}
}

import NIOCore

/// One AMQP frame, its payload decoded.
public enum Frame: Sendable, Equatable {
    case method(channel: UInt16, AMQPMethod)
    case header(channel: UInt16, ContentHeader)
    /// A body frame's payload: a slice of the bytes that were read, never copied.
    case body(channel: UInt16, ByteBuffer)
    case heartbeat

    public var channel: UInt16 {
        switch self {
        case .method(let channel, _), .header(let channel, _), .body(let channel, _): channel
        case .heartbeat: 0
        }
    }
}

/// Wire constants from the spec's `<constant>` elements that the codec itself needs.
public enum FrameType {
    public static let method: UInt8 = 1
    public static let header: UInt8 = 2
    public static let body: UInt8 = 3
    public static let heartbeat: UInt8 = 8
    public static let frameEnd: UInt8 = 0xCE
    /// Type octet, channel and size, before the payload.
    public static let headerSize = 7
    /// Header plus frame-end octet: what a frame costs besides its payload.
    public static let overhead = 8
}

/// The eight bytes a 0-9-1 client sends first, and the server answers a bad header with.
public enum ProtocolHeader {
    public static let amqp0091: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]
}

import AMQPWire
import NIOCore
import WarrenServer

#if canImport(Glibc)
    import Glibc
#endif

/// What one fuzzing run feeds its bytes to: every decoder that reads bytes from the network,
/// and the whole connection state machine behind them.
enum FuzzTarget: String, CaseIterable {
    /// A stream of frames through the frame decoder (methods, content headers, bodies).
    case frames
    /// One method payload (class id, method id, arguments).
    case method
    /// One field table, as in arguments and headers.
    case fieldTable = "field-table"
    /// One encoded property list of a content header.
    case properties
    /// A whole client byte stream (protocol header first) into a broker connection, split
    /// into reads at the 0xCE frame-end bytes so reads end mid-frame too.
    case connection

    /// The target named by `WARREN_FUZZ_TARGET` (default: frames).
    static var selected: FuzzTarget {
        guard let name = getenv("WARREN_FUZZ_TARGET") else { return .frames }
        return FuzzTarget(rawValue: String(cString: name)) ?? .frames
    }

    /// Runs one input. Decoders may refuse it; they must not crash, hang or over-allocate.
    func run(_ bytes: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: bytes)
        switch self {
        case .frames:
            while let frame = try? FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 131_072) {
                if case .header(_, let header) = frame { _ = try? header.properties() }
            }
        case .method:
            _ = try? AMQPMethod.decode(from: &buffer)
        case .fieldTable:
            _ = try? buffer.readFieldTable()
        case .properties:
            if (try? BasicProperties.validate(buffer)) != nil {
                _ = try? BasicProperties.decode(from: &buffer)
            }
        case .connection:
            let connection = InProcessConnection()
            var read = ByteBuffer(bytes: ProtocolHeader.amqp0091)
            read.writeImmutableBuffer(buffer)
            while let end = read.readableBytesView.firstIndex(of: 0xCE),
                let chunk = read.readSlice(length: end - read.readerIndex + 1)
            {
                connection.feed(chunk)
            }
            connection.feed(read)
            connection.close()
        }
    }
}

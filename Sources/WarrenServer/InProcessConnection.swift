import AMQPWire
import Logging
import NIOCore

/// One client connection driven without a socket: bytes in, the broker's full connection and
/// channel state machines run, replies discarded. It exists so the connection state machine
/// can be fuzzed with arbitrary byte streams, exactly as a socket would deliver them.
public final class InProcessConnection {
    private let broker: Broker
    private let transport = DiscardingTransport()
    private let connection: AMQPConnection
    private let frameLimit = MaxFrameSizeBox()
    private var reader: ServerFrameReader
    private var inputBroken = false

    public init(settings: BrokerSettings = BrokerSettings()) {
        broker = Broker(settings: settings, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        broker.seedDefaultVirtualHost()
        broker.seedDefaultUserIfNone()
        transport.frameLimit = frameLimit
        connection = broker.makeConnection(transport: transport, remoteDescription: "fuzz", isLoopbackPeer: true)
        reader = ServerFrameReader(limit: frameLimit)
    }

    /// Feeds one read's worth of bytes, as the NIO handler would.
    public func feed(_ bytes: ByteBuffer) {
        guard !inputBroken, !transport.isClosed else { return }
        do {
            try reader.process(bytes) { unit in
                switch unit {
                case .protocolHeader(let header): connection.receivedProtocolHeader(header)
                case .frame(let frame): connection.receivedFrame(frame)
                }
            }
        } catch let error as AMQPWireError {
            inputBroken = true
            connection.receivedMalformedFrame(error)
        } catch {
            inputBroken = true
        }
        broker.flushPending()
    }

    /// The bytes the broker would have written so far.
    public var bytesWritten: Int { transport.bytesWritten }

    /// Ends the connection as a dropped socket would.
    public func close() {
        connection.tearDown()
    }
}

/// A transport that counts what is written and remembers closes.
private final class DiscardingTransport: ConnectionTransport {
    var frameLimit: MaxFrameSizeBox?
    private(set) var bytesWritten = 0
    private(set) var isClosed = false
    let isWritable = true

    func write(_ bytes: ByteBuffer) {
        bytesWritten += bytes.readableBytes
    }

    func writeAndClose(_ bytes: ByteBuffer) {
        bytesWritten += bytes.readableBytes
        isClosed = true
    }

    func close() {
        isClosed = true
    }

    func closeAfter(seconds: Double) {}

    func startHeartbeats(seconds: UInt16) {}

    func setMaxFrameSize(_ size: UInt32) {
        frameLimit?.value = size
    }

    func setReading(_ reading: Bool) {}
}

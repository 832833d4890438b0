import AMQPWire
import NIOCore

/// What a client connection does once it is open and its setup methods have been answered:
/// publish, consume, or just stay connected. Called on the connection's event loop.
public protocol ClientRole: AnyObject {
    /// The connection is ready; `writer` encodes frames for channel 1.
    func started(_ writer: ClientWriter)
    /// A frame for channel 1 (or a heartbeat) after setup.
    func received(_ frame: Frame, _ writer: ClientWriter)
    /// Called at the end of each read cycle, before buffered frames are flushed.
    func readCycleEnded(_ writer: ClientWriter)
    /// The socket's writability changed.
    func writabilityChanged(_ writer: ClientWriter)
}

extension ClientRole {
    public func received(_ frame: Frame, _ writer: ClientWriter) {}
    public func readCycleEnded(_ writer: ClientWriter) {}
    public func writabilityChanged(_ writer: ClientWriter) {}
}

/// Encodes frames for one connection into a single buffer that is written on `flush()`.
public final class ClientWriter {
    let context: ChannelHandlerContext
    private var buffer: ByteBuffer
    public let frameMax: UInt32

    init(context: ChannelHandlerContext, frameMax: UInt32) {
        self.context = context
        self.frameMax = frameMax
        self.buffer = context.channel.allocator.buffer(capacity: 64 * 1024)
    }

    public var eventLoop: any EventLoop { context.eventLoop }
    public var isWritable: Bool { context.channel.isWritable }
    public var bufferedBytes: Int { buffer.readableBytes }

    public func method(_ method: AMQPMethod, channel: UInt16 = 1) {
        try? buffer.writeMethodFrame(channel: channel, method)
    }

    /// Writes a content-bearing method with its header and body frames.
    public func content(_ method: AMQPMethod, header: ContentHeader, body: ByteBuffer, channel: UInt16 = 1) {
        try? buffer.writeMethodFrame(channel: channel, method)
        buffer.writeHeaderFrame(channel: channel, header)
        buffer.writeBodyFrames(channel: channel, body, maxFrameSize: frameMax)
    }

    /// Writes handed to the socket but not yet accepted by the kernel.
    public private(set) var outstandingWrites = 0

    public func flush() {
        guard buffer.readableBytes > 0 else { return }
        outstandingWrites += 1
        context.writeAndFlush(NIOAny(buffer)).assumeIsolated().whenComplete { [self] _ in
            self.outstandingWrites -= 1
        }
        buffer = context.channel.allocator.buffer(capacity: 64 * 1024)
    }

    public func close() {
        flush()
        context.close(promise: nil)
    }
}

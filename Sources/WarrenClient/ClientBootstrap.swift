import AMQPWire
import NIOCore
import NIOPosix
import NIOSSL

/// Opens a client connection that runs `role` after `setup`; completes when setup is done.
public enum AMQPClient {
    public static func connect(
        host: String, port: Int, options: AMQPClientHandler.Options = .init(), setup: [AMQPMethod],
        role: @escaping @Sendable () -> any ClientRole, group: any EventLoopGroup
    ) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .connect(host: host, port: port).get()
        let ready = channel.eventLoop.makePromise(of: Void.self)
        try await channel.eventLoop.submit {
            if let tls = options.tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
            }
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(FrameDecoder(maxFrameSize: options.frameMax)))
            try channel.pipeline.syncOperations.addHandler(
                AMQPClientHandler(options: options, setup: setup, role: role(), ready: ready))
        }.get()
        try await ready.futureResult.get()
        return channel
    }
}

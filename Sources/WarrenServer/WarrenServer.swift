import Logging
import NIOCore
import NIOPosix
import WarrenStore

/// The AMQP listener: accepts client connections and runs the broker.
///
/// One event loop carries the broker and every connection. On this project's 2-core target
/// machines the load generator or the clients use the other core, and a single loop means a
/// publish reaches its consumers' buffers with no thread hop and no lock; sharding queues over
/// several loops, with batched hand-offs, is the planned step when more cores pay for it.
public final class WarrenServer: Sendable {
    public let settings: BrokerSettings
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let broker: NIOLoopBound<Broker>
    private let serverChannel: any Channel

    /// Binds the listener; returns once the broker accepts connections, with `definitions`
    /// (a RabbitMQ definitions export) loaded first.
    public static func start(
        host: String, port: Int, settings: BrokerSettings, logger: Logger, definitions: Definitions? = nil
    ) async throws -> WarrenServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let broker: NIOLoopBound<Broker>
        do {
            broker = try await loop.submit {
                let broker = Broker(
                    settings: settings, logger: logger, expiryScheduler: LoopExpiryScheduler(loop: loop),
                    messageStore: MessageStore(
                        directory: settings.dataDirectory + "/messages", segmentSize: settings.segmentSize,
                        syncer: ThreadPoolSyncer(loop: loop, delay: .milliseconds(Int64(settings.syncDelay)))),
                    definitionsFile: DefinitionsFile(directory: settings.dataDirectory))
                try broker.recover(importing: definitions)
                return NIOLoopBound(broker, eventLoop: loop)
            }.get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let limit = MaxFrameSizeBox()
                    try channel.pipeline.syncOperations.addHandler(
                        AMQPConnectionHandler(broker: broker.value, frameLimit: limit))
                }
            }
        loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            broker.value.tick()
        }
        do {
            let serverChannel = try await bootstrap.bind(host: host, port: port).get()
            return WarrenServer(
                settings: settings, group: group, loop: loop, broker: broker, serverChannel: serverChannel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(
        settings: BrokerSettings, group: MultiThreadedEventLoopGroup, loop: any EventLoop, broker: NIOLoopBound<Broker>,
        serverChannel: any Channel
    ) {
        self.settings = settings
        self.group = group
        self.loop = loop
        self.broker = broker
        self.serverChannel = serverChannel
    }

    /// The address the listener is bound to (useful with port 0).
    public var localAddress: SocketAddress? { serverChannel.localAddress }

    /// Stops accepting, closes every client with 320 CONNECTION_FORCED, and releases the loop.
    public func shutdown() async throws {
        try await serverChannel.close()
        let broker = self.broker
        try await loop.submit {
            broker.value.closeAllConnections()
            broker.value.messageStore?.close()
        }.get()
        // Give clients a moment to read the close before the sockets go.
        try await Task.sleep(for: .milliseconds(200))
        try await group.shutdownGracefully()
    }
}

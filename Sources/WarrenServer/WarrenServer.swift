import Logging
import NIOCore
import NIOPosix
import NIOSSL
import WarrenStore

/// The AMQP listeners (plain and TLS): accepts client connections and runs the broker.
///
/// One event loop carries the broker and every connection. On this project's 2-core target
/// machines the load generator or the clients use the other core, and a single loop means a
/// publish reaches its consumers' buffers with no thread hop and no lock; sharding queues over
/// several loops, with batched hand-offs, is the planned step when more cores pay for it.
public final class WarrenServer: Sendable {
    /// One listening socket: `listeners.tcp.*` (plain) or `listeners.ssl.*` (TLS).
    public struct Listener: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var isTLS: Bool

        public init(host: String, port: Int, isTLS: Bool) {
            self.host = host
            self.port = port
            self.isTLS = isTLS
        }
    }

    public let settings: BrokerSettings
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    let loop: any EventLoop
    let broker: NIOLoopBound<Broker>
    private let certificates: NIOLoopBound<CertificateStore>?
    private let serverChannels: [any Channel]

    /// Binds the listeners; returns once the broker accepts connections, with `definitions`
    /// (a RabbitMQ definitions export) loaded first. TLS listeners need `tls`.
    public static func start(
        listeners: [Listener], tls: TLSSettings? = nil, sasl: CyrusSASL? = nil, settings: BrokerSettings,
        logger: Logger, definitions: Definitions? = nil
    ) async throws -> WarrenServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let broker: NIOLoopBound<Broker>
        let certificates: NIOLoopBound<CertificateStore>?
        do {
            (broker, certificates) = try await loop.submit {
                let broker = Broker(
                    settings: settings, logger: logger, expiryScheduler: LoopExpiryScheduler(loop: loop),
                    messageStore: MessageStore(
                        directory: settings.dataDirectory + "/messages", segmentSize: settings.segmentSize,
                        syncer: ThreadPoolSyncer(loop: loop, delay: .milliseconds(Int64(settings.syncDelay)))),
                    definitionsFile: DefinitionsFile(directory: settings.dataDirectory),
                    passwordChecker: sasl.map { SASLPasswordChecker(sasl: $0, loop: loop) })
                let certificates = try tls.map { try CertificateStore(settings: $0) }
                try broker.recover(importing: definitions)
                return (NIOLoopBound(broker, eventLoop: loop), certificates.map { NIOLoopBound($0, eventLoop: loop) })
            }.get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            broker.value.tick()
            certificates?.value.reloadIfChanged(logger: logger)
        }
        var serverChannels: [any Channel] = []
        do {
            for listener in listeners {
                let bootstrap = makeBootstrap(
                    group: group, broker: broker, certificates: listener.isTLS ? certificates : nil)
                serverChannels.append(try await bootstrap.bind(host: listener.host, port: listener.port).get())
            }
        } catch {
            for channel in serverChannels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
        return WarrenServer(
            settings: settings, logger: logger, group: group, loop: loop, broker: broker, certificates: certificates,
            serverChannels: serverChannels)
    }

    private static func makeBootstrap(
        group: MultiThreadedEventLoopGroup, broker: NIOLoopBound<Broker>, certificates: NIOLoopBound<CertificateStore>?
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    // Each connection takes the context current when it is accepted, so a
                    // reloaded certificate applies to new connections only.
                    if let store = certificates?.value {
                        try operations.addHandler(NIOSSLServerHandler(context: store.context))
                    }
                    try operations.addHandler(
                        AMQPConnectionHandler(
                            broker: broker.value, frameLimit: MaxFrameSizeBox(),
                            certificateLogin: certificates?.value.settings.certificateLogin))
                }
            }
    }

    private init(
        settings: BrokerSettings, logger: Logger, group: MultiThreadedEventLoopGroup, loop: any EventLoop,
        broker: NIOLoopBound<Broker>, certificates: NIOLoopBound<CertificateStore>?, serverChannels: [any Channel]
    ) {
        self.settings = settings
        self.logger = logger
        self.group = group
        self.loop = loop
        self.broker = broker
        self.certificates = certificates
        self.serverChannels = serverChannels
    }

    /// The addresses the listeners are bound to, in the order given (useful with port 0).
    public var localAddresses: [SocketAddress?] { serverChannels.map(\.localAddress) }

    /// Re-reads the TLS certificate, key and CA files now (SIGHUP).
    public func reloadCertificates() async throws {
        let certificates = self.certificates
        let logger = self.logger
        try await loop.submit { certificates?.value.reload(logger: logger) }.get()
    }

    /// Stops accepting, closes every client with 320 CONNECTION_FORCED, and releases the loop.
    public func shutdown() async throws {
        for channel in serverChannels { try await channel.close() }
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

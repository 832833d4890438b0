import Hummingbird
import Logging
import NIOCore
import WarrenServer

/// The management listener (`management.tcp.*`, 15672: the HTTP API and the web console) and
/// the Prometheus listener (`prometheus.tcp.*`, 15692), with the statistics sampler behind the
/// API's rates. Both run on their own tasks, beside the broker's loop.
public final class ManagementServer: Sendable {
    public struct Settings: Sendable {
        public var host = "0.0.0.0"
        public var port = 15672
        public var prometheusHost = "0.0.0.0"
        public var prometheusPort = 15692
        /// `collect_statistics_interval`, milliseconds: how often rates are sampled.
        public var statisticsInterval = 5000
        /// This node's name (RabbitMQ's `rabbit@host`).
        public var node = "warren@localhost"
        /// The broker's AMQP listeners, listed by the API and checked by the port-listener check.
        public var amqpListeners: [ManagementAPI.Listener] = []

        public init() {}
    }

    /// The ports actually bound (useful when 0 asked for any free port).
    public let port: Int
    public let prometheusPort: Int
    private let tasks: [Task<Void, Never>]

    private init(port: Int, prometheusPort: Int, tasks: [Task<Void, Never>]) {
        self.port = port
        self.prometheusPort = prometheusPort
        self.tasks = tasks
    }

    /// Binds both listeners and returns once they accept requests; throws if either cannot bind.
    public static func start(
        administration: BrokerAdministration, settings: Settings, logger: Logger
    ) async throws -> ManagementServer {
        let rates = MessageRates()
        let boundPorts = BoundPorts()
        let api = ManagementAPI(administration: administration, node: settings.node, rates: rates) {
            settings.amqpListeners + [
                .init(protocol: "http", ip: settings.host, port: boundPorts.management),
                .init(protocol: "http/prometheus", ip: settings.prometheusHost, port: boundPorts.prometheus),
            ]
        }
        let managementApp = Application(
            responder: api.responder(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in boundPorts.bound(management: channel.localAddress?.port ?? 0) },
            logger: logger)
        let exporter = PrometheusExporter(administration: administration, node: settings.node)
        let prometheusApp = Application(
            router: exporter.router(),
            configuration: .init(address: .hostname(settings.prometheusHost, port: settings.prometheusPort)),
            onServerRunning: { channel in boundPorts.bound(prometheus: channel.localAddress?.port ?? 0) },
            logger: logger)
        let sampler = StatisticsSampler(
            administration: administration, rates: rates,
            interval: .milliseconds(max(100, settings.statisticsInterval)), logger: logger)
        let failure = FirstFailure()
        let tasks = [
            Task {
                do { try await managementApp.runService() } catch { failure.record(error) }
            },
            Task {
                do { try await prometheusApp.runService() } catch { failure.record(error) }
            },
            Task { await sampler.run() },
        ]
        while !boundPorts.bothBound {
            if let error = failure.error {
                tasks.forEach { $0.cancel() }
                throw error
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return ManagementServer(port: boundPorts.management, prometheusPort: boundPorts.prometheus, tasks: tasks)
    }

    /// Stops both listeners and the sampler.
    public func shutdown() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

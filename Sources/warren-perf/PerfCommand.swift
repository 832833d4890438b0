import AMQPWire
import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import WarrenClient

/// `warren-perf`: a load generator in the spirit of RabbitMQ's PerfTest, printing one JSON
/// line of results so `make bench` can compare brokers run by run.
@main
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren-perf", abstract: "Measure an AMQP broker's throughput and latency.")

    @Option(help: "Broker URI (amqps:// for TLS).") var uri = "amqp://guest:guest@127.0.0.1:5672/%2F"
    @Option(help: "With amqps: the CA file to verify the broker's certificate (otherwise it is not verified).")
    var cacert: String?
    @Option(help: "Publishing connections.") var producers = 1
    @Option(help: "Consuming connections.") var consumers = 1
    @Option(help: "Body size in bytes (at least 8: the send timestamp).") var size = 16
    @Option(help: "Messages per second per producer (0 = unlimited).") var rate = 0
    @Option(help: "Publisher confirms: most unconfirmed messages in flight (0 = off).") var confirm = 0
    @Flag(help: "Consume with auto-ack.") var autoack = false
    @Option(help: "Consumer prefetch (basic.qos).") var qos = 0
    @Flag(help: "Publish persistent messages (delivery_mode 2).") var persistent = false
    @Option(help: "Seconds to run.") var time: Double = 10
    @Option(name: .customLong("exchange-type"), help: "direct, fanout or topic.") var exchangeType = "direct"
    @Option(help: "Number of queues (each bound to the exchange).") var queues = 1
    @Option(help: "Use this named queue (kept afterwards) instead of generated ones.") var queue: String?
    @Option(help: "Each producer stops after this many messages.") var pmessages: Int?
    @Option(help: "Each consumer stops after this many messages.") var cmessages: Int?
    @Option(name: .customLong("idle-connections"), help: "Only open this many idle connections for --time.")
    var idleConnections: Int?

    func validate() throws {
        guard ["direct", "fanout", "topic"].contains(exchangeType) else {
            throw ValidationError("--exchange-type must be direct, fanout or topic")
        }
        guard queues >= 1, producers >= 0, consumers >= 0, size >= 0, time > 0 else {
            throw ValidationError("--queues must be at least 1; counts, --size and --time must not be negative")
        }
    }

    func run() async throws {
        let target = try BrokerURI(uri, caCertificateFile: cacert)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let started = Date()
        if let idleConnections {
            try await runIdle(count: idleConnections, target: target, group: group)
            try await group.shutdownGracefully()
            return
        }
        let run = PerfRun(command: self, target: target, group: group)
        let result = try await run.execute()
        var json = result.json
        json["seconds"] = Date().timeIntervalSince(started)
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        try await group.shutdownGracefully()
    }

    private func runIdle(count: Int, target: BrokerURI, group: MultiThreadedEventLoopGroup) async throws {
        var channels: [any Channel] = []
        for _ in 0..<count {
            channels.append(
                try await AMQPClient.connect(
                    host: target.host, port: target.port, options: target.options, setup: [], role: { IdleRole() },
                    group: group))
        }
        FileHandle.standardError.write(Data("warren-perf: \(count) idle connections open\n".utf8))
        try await Task.sleep(for: .seconds(time))
        for channel in channels { try? await channel.close() }
        let json: [String: Any] = [
            "sent": 0, "received": 0, "seconds": time, "sent_rate": 0.0, "received_rate": 0.0,
            "latency_p50_us": NSNull(), "latency_p99_us": NSNull(), "latency_p999_us": NSNull(),
            "cpu_seconds": cpuSeconds(), "connections": count,
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// User CPU plus system CPU of this process, to show the load generator is not the bottleneck.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// `amqp://user:pass@host:port/vhost` or `amqps://...`, with RabbitMQ's defaults for missing parts.
struct BrokerURI {
    var host = "127.0.0.1"
    var port = 5672
    var options = AMQPClientHandler.Options()

    init(_ text: String, caCertificateFile: String? = nil) throws {
        guard let components = URLComponents(string: text), components.scheme == "amqp" || components.scheme == "amqps"
        else {
            throw ValidationError("--uri must look like amqp://user:pass@host:port/vhost (or amqps://)")
        }
        if components.scheme == "amqps" {
            port = 5671
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let caCertificateFile {
                configuration.trustRoots = .file(caCertificateFile)
                configuration.certificateVerification = .noHostnameVerification
            } else {
                configuration.certificateVerification = .none
            }
            options.tls = try NIOSSLContext(configuration: configuration)
        }
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = port }
        if let user = components.user { options.username = user.removingPercentEncoding ?? user }
        if let password = components.password { options.password = password.removingPercentEncoding ?? password }
        let path = components.percentEncodedPath
        if path.count > 1 {
            options.virtualHost = String(path.dropFirst()).removingPercentEncoding ?? "/"
        }
    }
}

import AMQPWire
import Foundation
import NIOCore
import NIOPosix
import WarrenClient

/// One measured run: declares the topology, starts consumers then producers, waits for the
/// time or message limits, and collects counters from each connection's event loop.
struct PerfRun {
    let command: PerfCommand
    let target: BrokerURI
    let group: MultiThreadedEventLoopGroup

    struct Result {
        var sent = 0
        var received = 0
        var elapsed: Double = 0
        var histogram = LatencyHistogram()

        var json: [String: Any] {
            let seconds = max(elapsed, 1e-9)
            func number(_ value: Double?) -> Any { value.map { $0 as Any } ?? NSNull() }
            return [
                "sent": sent, "received": received, "seconds": elapsed,
                "sent_rate": Double(sent) / seconds, "received_rate": Double(received) / seconds,
                "latency_p50_us": number(histogram.percentile(0.5)),
                "latency_p99_us": number(histogram.percentile(0.99)),
                "latency_p999_us": number(histogram.percentile(0.999)),
                "cpu_seconds": cpuSeconds(),
            ]
        }
    }

    private var queueNames: [String] {
        if let queue = command.queue { return [queue] }
        let tag = ProcessInfo.processInfo.processIdentifier
        return (0..<command.queues).map { "warren-perf-\(tag)-\($0)" }
    }

    private var exchange: String { "warren-perf-\(command.exchangeType)" }
    private let routingKey = "warren-perf"

    func execute() async throws -> Result {
        let names = queueNames
        var topology: [AMQPMethod] = [
            .exchangeDeclare(.init(exchange: exchange, type: command.exchangeType, durable: command.persistent))
        ]
        for name in names {
            topology.append(.queueDeclare(.init(queue: name, durable: command.persistent)))
            topology.append(.queueBind(.init(queue: name, exchange: exchange, routingKey: routingKey)))
        }
        let setupChannel = try await AMQPClient.connect(
            host: target.host, port: target.port, options: target.options, setup: topology, role: { IdleRole() },
            group: group)

        let deadline = NIODeadline.now() + .nanoseconds(Int64(command.time * 1e9))
        var consumerChannels: [(any Channel, ConsumerRole)] = []
        for index in 0..<command.consumers {
            let role = ConsumerRole(autoAck: command.autoack, limit: command.cmessages)
            var setup: [AMQPMethod] = []
            if command.qos > 0 { setup.append(.basicQos(.init(prefetchCount: UInt16(clamping: command.qos)))) }
            setup.append(.basicConsume(.init(queue: names[index % names.count], noAck: command.autoack)))
            let channel = try await AMQPClient.connect(
                host: target.host, port: target.port, options: target.options, setup: setup,
                role: { [role] in role }, group: group)
            consumerChannels.append((channel, role))
        }
        let start = NIODeadline.now()
        var producerChannels: [(any Channel, ProducerRole)] = []
        for _ in 0..<command.producers {
            let role = ProducerRole(
                settings: .init(
                    exchange: exchange, routingKey: routingKey, size: command.size, rate: command.rate,
                    confirmWindow: command.confirm, persistent: command.persistent, limit: command.pmessages,
                    deadline: command.pmessages == nil ? deadline : .distantFuture))
            let setup: [AMQPMethod] = command.confirm > 0 ? [.confirmSelect(.init())] : []
            let channel = try await AMQPClient.connect(
                host: target.host, port: target.port, options: target.options, setup: setup,
                role: { [role] in role }, group: group)
            producerChannels.append((channel, role))
        }

        // Wait for the deadline, or for every limited producer/consumer to finish.
        let limited = command.pmessages != nil || command.cmessages != nil
        while NIODeadline.now() < deadline || limited {
            try await Task.sleep(for: .milliseconds(limited ? 20 : 100))
            if limited {
                var done = true
                for (channel, role) in producerChannels {
                    let finished = try await channel.eventLoop.submit {
                        role.finished && (command.confirm == 0 || role.confirmed >= role.sent)
                    }.get()
                    done = done && finished
                }
                for (channel, role) in consumerChannels where command.cmessages != nil {
                    let count = try await channel.eventLoop.submit { role.received }.get()
                    done = done && count >= (command.cmessages ?? 0)
                }
                if done { break }
            }
        }
        var result = Result()
        result.elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        for (channel, role) in producerChannels {
            result.sent += try await channel.eventLoop.submit { role.sent }.get()
        }
        for (channel, role) in consumerChannels {
            let (count, histogram) = try await channel.eventLoop.submit { (role.received, role.histogram) }.get()
            result.received += count
            result.histogram.merge(histogram)
        }
        for (channel, _) in producerChannels { try? await channel.close() }
        for (channel, _) in consumerChannels { try? await channel.close() }
        if command.queue == nil {
            // Generated queues are removed; a named queue is kept (backlog scenarios reuse it).
            let cleanup: [AMQPMethod] = names.map { .queueDelete(.init(queue: $0)) }
            let channel = try await AMQPClient.connect(
                host: target.host, port: target.port, options: target.options, setup: cleanup, role: { IdleRole() },
                group: group)
            try? await channel.close()
        }
        try? await setupChannel.close()
        return result
    }
}

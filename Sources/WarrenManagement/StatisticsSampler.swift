import Logging
import WarrenServer

/// Samples every object's counters at a fixed interval (`collect_statistics_interval`), so
/// that rates are ready when the API is asked; a request never waits for a sample.
struct StatisticsSampler: Sendable {
    let administration: BrokerAdministration
    let rates: MessageRates
    let interval: Duration
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            do {
                try await sample()
            } catch {
                logger.debug("statistics sample failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    func sample() async throws {
        let overview = try await administration.overview()
        let queues = try await administration.queues()
        let exchanges = try await administration.exchanges()
        let channels = try await administration.channels()
        let vhosts = try await administration.virtualHosts()
        let connections = try await administration.connections()
        let now = ContinuousClock.now
        var round: [RateKey: CounterSample] = [:]
        round.reserveCapacity(queues.count + exchanges.count + channels.count + vhosts.count + connections.count + 1)
        round[.overview] = CounterSample(
            stats: overview.stats, ready: overview.messagesReady, unacknowledged: overview.messagesUnacknowledged)
        for queue in queues {
            round[.queue(queue.vhost, queue.name)] = CounterSample(
                stats: queue.stats, ready: queue.messagesReady, unacknowledged: queue.messagesUnacknowledged)
        }
        for exchange in exchanges {
            round[.exchange(exchange.vhost, exchange.name)] = CounterSample(stats: exchange.stats, isExchange: true)
        }
        for channel in channels {
            round[.channel(channel.name)] = CounterSample(stats: channel.stats)
        }
        for connection in connections {
            round[.connection(connection.name)] = CounterSample(
                socketBytes: (connection.receivedBytes, connection.sentBytes))
        }
        for vhost in vhosts {
            round[.vhost(vhost.name)] = CounterSample(
                ready: vhost.messagesReady, unacknowledged: vhost.messagesUnacknowledged)
        }
        rates.update(round, at: now)
    }
}

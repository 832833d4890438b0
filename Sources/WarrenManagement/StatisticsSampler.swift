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
        let now = ContinuousClock.now
        var keys: Set<String> = [RateKey.overview]
        var counters = overview.stats.counters
        counters["messages"] = Int64(overview.messagesReady + overview.messagesUnacknowledged)
        counters["messages_ready"] = Int64(overview.messagesReady)
        counters["messages_unacknowledged"] = Int64(overview.messagesUnacknowledged)
        rates.record(RateKey.overview, counters, at: now)
        for queue in queues {
            let key = RateKey.queue(queue.vhost, queue.name)
            var counters = queue.stats.counters
            counters["messages"] = Int64(queue.messagesReady + queue.messagesUnacknowledged)
            counters["messages_ready"] = Int64(queue.messagesReady)
            counters["messages_unacknowledged"] = Int64(queue.messagesUnacknowledged)
            rates.record(key, counters, at: now)
            keys.insert(key)
        }
        for exchange in exchanges {
            let key = RateKey.exchange(exchange.vhost, exchange.name)
            rates.record(key, exchange.stats.exchangeCounters, at: now)
            keys.insert(key)
        }
        for channel in channels {
            let key = RateKey.channel(channel.name)
            rates.record(key, channel.stats.counters, at: now)
            keys.insert(key)
        }
        for vhost in vhosts {
            let key = RateKey.vhost(vhost.name)
            rates.record(
                key,
                [
                    "messages": Int64(vhost.messagesReady + vhost.messagesUnacknowledged),
                    "messages_ready": Int64(vhost.messagesReady),
                    "messages_unacknowledged": Int64(vhost.messagesUnacknowledged),
                ], at: now)
            keys.insert(key)
        }
        rates.retain(only: keys)
    }
}

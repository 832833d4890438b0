import NIOConcurrencyHelpers
import WarrenCore

/// Per-second rates of the broker's counters, from the two latest samples of each object.
///
/// RabbitMQ's management agent samples every `collect_statistics_interval` (5 s by default)
/// and shows each counter's rate as `<field>_details.rate`; this keeps the same, sampled by
/// ``StatisticsSampler`` off the message path. A round stores two plain structs per object;
/// rates are worked out only for the objects a response shows.
final class MessageRates: Sendable {
    private let samples = NIOLockedValueBox<[RateKey: SamplePair]>([:])

    /// Records one round of samples; objects not in it (deleted ones) are forgotten.
    func update(_ round: [RateKey: CounterSample], at time: ContinuousClock.Instant) {
        samples.withLockedValue { samples in
            var next: [RateKey: SamplePair] = [:]
            next.reserveCapacity(round.count)
            for (key, sample) in round {
                next[key] = SamplePair(previous: samples[key]?.latest, latest: (time, sample))
            }
            samples = next
        }
    }

    func rates(_ key: RateKey) -> [String: Double] {
        samples.withLockedValue { $0[key] }?.rates ?? [:]
    }

    /// Every object's samples at once, for a listing (a copy-on-write share of the table).
    func all() -> Table {
        Table(pairs: samples.withLockedValue { $0 })
    }

    struct Table {
        fileprivate let pairs: [RateKey: SamplePair]

        subscript(key: RateKey) -> [String: Double] { pairs[key]?.rates ?? [:] }
    }
}

/// Which object a rate belongs to.
struct RateKey: Hashable, Sendable {
    enum Kind: UInt8, Sendable {
        case overview, queue, exchange, channel, vhost, connection
    }

    var kind: Kind
    var vhost = ""
    var name = ""

    static let overview = RateKey(kind: .overview)
    static func queue(_ vhost: String, _ name: String) -> RateKey { RateKey(kind: .queue, vhost: vhost, name: name) }
    static func exchange(_ vhost: String, _ name: String) -> RateKey {
        RateKey(kind: .exchange, vhost: vhost, name: name)
    }
    static func channel(_ name: String) -> RateKey { RateKey(kind: .channel, name: name) }
    static func vhost(_ name: String) -> RateKey { RateKey(kind: .vhost, vhost: name) }
    static func connection(_ name: String) -> RateKey { RateKey(kind: .connection, name: name) }
}

/// One object's counters at one moment.
struct CounterSample: Sendable {
    var stats = MessageStats()
    var ready = 0
    var unacknowledged = 0
    /// An exchange's counters are named `publish_in` and `publish_out`.
    var isExchange = false
    /// A connection's socket bytes, read (`recv_oct`) and written (`send_oct`).
    var socketBytes: (received: UInt64, sent: UInt64)?

    var counters: [String: Int64] {
        if isExchange { return stats.exchangeCounters }
        if let socketBytes {
            return ["recv_oct": Int64(clamping: socketBytes.received), "send_oct": Int64(clamping: socketBytes.sent)]
        }
        var counters = stats.counters
        counters["messages"] = Int64(ready + unacknowledged)
        counters["messages_ready"] = Int64(ready)
        counters["messages_unacknowledged"] = Int64(unacknowledged)
        return counters
    }
}

private struct SamplePair: Sendable {
    var previous: (time: ContinuousClock.Instant, sample: CounterSample)?
    var latest: (time: ContinuousClock.Instant, sample: CounterSample)

    /// The change of each counter per second between the two samples.
    var rates: [String: Double] {
        guard let previous else { return [:] }
        let elapsed = latest.time - previous.time
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard seconds > 0 else { return [:] }
        let before = previous.sample.counters
        return latest.sample.counters.reduce(into: [:]) { rates, entry in
            rates[entry.key] = Double(entry.value - (before[entry.key] ?? entry.value)) / seconds
        }
    }
}

extension MessageStats {
    /// The counters as the management API names them, for queues, channels and the overview.
    var counters: [String: Int64] {
        [
            "publish": Int64(clamping: publish), "deliver": Int64(clamping: deliver),
            "deliver_no_ack": Int64(clamping: deliverNoAck), "get": Int64(clamping: get),
            "get_no_ack": Int64(clamping: getNoAck), "deliver_get": Int64(clamping: deliverGet),
            "ack": Int64(clamping: ack), "redeliver": Int64(clamping: redeliver),
            "confirm": Int64(clamping: confirm), "return_unroutable": Int64(clamping: returnUnroutable),
            "drop_unroutable": Int64(clamping: dropUnroutable),
        ]
    }

    /// An exchange's counters: messages in, and messages routed on.
    var exchangeCounters: [String: Int64] {
        ["publish_in": Int64(clamping: publish), "publish_out": Int64(clamping: publishOut)]
    }
}

import NIOConcurrencyHelpers
import WarrenCore

/// Per-second rates of the broker's counters, from the two latest samples of each object.
///
/// RabbitMQ's management agent samples every `collect_statistics_interval` (5 s by default)
/// and shows each counter's rate as `<field>_details.rate`; this keeps the same, sampled by
/// ``StatisticsSampler`` off the message path.
final class MessageRates: Sendable {
    private struct Sample {
        var time: ContinuousClock.Instant
        var counters: [String: Int64]
        var rates: [String: Double]
    }

    private let samples = NIOLockedValueBox<[String: Sample]>([:])

    /// Records an object's counters now; its rates become the change since its last sample.
    func record(_ key: String, _ counters: [String: Int64], at time: ContinuousClock.Instant) {
        samples.withLockedValue { samples in
            var rates: [String: Double] = [:]
            if let previous = samples[key] {
                let seconds =
                    Double((time - previous.time).components.seconds)
                    + Double((time - previous.time).components.attoseconds) / 1e18
                if seconds > 0 {
                    for (field, value) in counters {
                        rates[field] = Double(value - (previous.counters[field] ?? value)) / seconds
                    }
                }
            }
            samples[key] = Sample(time: time, counters: counters, rates: rates)
        }
    }

    /// Forgets objects that were not in the latest round of samples (deleted ones).
    func retain(only keys: Set<String>) {
        samples.withLockedValue { samples in
            samples = samples.filter { keys.contains($0.key) }
        }
    }

    func rates(_ key: String) -> [String: Double] {
        samples.withLockedValue { $0[key]?.rates ?? [:] }
    }

    /// Every object's rates at once, for a listing.
    func all() -> [String: [String: Double]] {
        samples.withLockedValue { $0.mapValues(\.rates) }
    }
}

/// The keys objects' rates are kept under.
enum RateKey {
    static let overview = "overview"
    static func queue(_ vhost: String, _ name: String) -> String { "q\u{0}\(vhost)\u{0}\(name)" }
    static func exchange(_ vhost: String, _ name: String) -> String { "e\u{0}\(vhost)\u{0}\(name)" }
    static func channel(_ name: String) -> String { "c\u{0}\(name)" }
    static func vhost(_ name: String) -> String { "v\u{0}\(name)" }
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

import AMQPWire
import HeapModule

/// Messages an `x-delayed-message` exchange holds until their `x-delay` has passed, ordered by
/// due time (publish order among equals), as RabbitMQ's delayed-message plugin does but built
/// in: no plugin to install, and the timer wakes exactly at the next due message.
struct DelayedMessages {
    /// The exchange type name the plugin registers.
    static let exchangeType = "x-delayed-message"

    struct Entry: Comparable {
        var dueAt: UInt64
        var sequence: UInt64
        var exchange: Exchange
        var message: Message
        var extraRoutingKeys: [String]
        /// Tells the publisher that a mandatory message found no queue when it was due.
        var onUnroutable: ((Message) -> Void)?

        static func < (a: Entry, b: Entry) -> Bool {
            (a.dueAt, a.sequence) < (b.dueAt, b.sequence)
        }

        static func == (a: Entry, b: Entry) -> Bool {
            (a.dueAt, a.sequence) == (b.dueAt, b.sequence)
        }
    }

    private var heap = Heap<Entry>()
    private var nextSequence: UInt64 = 0
    /// The deadline a timer is pending for (0 = none).
    var scheduledAt: UInt64 = 0

    var count: Int { heap.count }
    var nextDue: UInt64? { heap.min?.dueAt }

    mutating func insert(
        _ message: Message, dueAt: UInt64, exchange: Exchange, extraRoutingKeys: [String],
        onUnroutable: ((Message) -> Void)?
    ) {
        heap.insert(
            Entry(
                dueAt: dueAt, sequence: nextSequence, exchange: exchange, message: message,
                extraRoutingKeys: extraRoutingKeys, onUnroutable: onUnroutable))
        nextSequence &+= 1
    }

    /// Removes and returns the entries due at `now`, earliest first.
    mutating func popDue(at now: UInt64) -> [Entry] {
        var due: [Entry] = []
        while let first = heap.min, first.dueAt <= now {
            due.append(heap.removeMin())
        }
        return due
    }
}

extension Message {
    /// The `x-delay` header in milliseconds when it asks for a delay (a positive integer).
    public var requestedDelay: UInt64? {
        guard header.propertyFlags & BasicProperties.headersFlag != 0,
            let value = try? header.properties().headers?["x-delay"]?.integerValue, value > 0
        else { return nil }
        return UInt64(value)
    }
}

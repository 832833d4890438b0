/// Counts of what happened to messages, kept per queue, per exchange and per channel for the
/// management API's `message_stats` and the Prometheus counters.
///
/// Plain integers bumped on the broker's loop: one add per event on the message path, no
/// atomics and no locks. Rates are not kept here; the management side derives them from two
/// samples.
public struct MessageStats: Sendable, Equatable {
    /// Messages published (to a queue: enqueued; to an exchange: received by it).
    public var publish: UInt64 = 0
    /// Exchanges only: published messages routed to at least one queue.
    public var publishOut: UInt64 = 0
    public var confirm: UInt64 = 0
    public var returnUnroutable: UInt64 = 0
    public var dropUnroutable: UInt64 = 0
    /// Deliveries to consumers that acknowledge.
    public var deliver: UInt64 = 0
    /// Deliveries to no-ack consumers.
    public var deliverNoAck: UInt64 = 0
    /// `basic.get` answers that must be acknowledged.
    public var get: UInt64 = 0
    /// `basic.get` answers in no-ack mode.
    public var getNoAck: UInt64 = 0
    public var ack: UInt64 = 0
    /// Deliveries (and gets) of messages delivered before.
    public var redeliver: UInt64 = 0

    public init() {}

    /// Every message handed out, however: RabbitMQ's `deliver_get`.
    public var deliverGet: UInt64 { deliver &+ deliverNoAck &+ get &+ getNoAck }

    /// Records one message handed to a consumer or a `basic.get`.
    @inline(__always)
    public mutating func recordDelivery(noAck: Bool, get isGet: Bool, redelivered: Bool) {
        switch (isGet, noAck) {
        case (false, false): deliver &+= 1
        case (false, true): deliverNoAck &+= 1
        case (true, false): get &+= 1
        case (true, true): getNoAck &+= 1
        }
        if redelivered { redeliver &+= 1 }
    }

    public static func += (total: inout MessageStats, other: MessageStats) {
        total.publish &+= other.publish
        total.publishOut &+= other.publishOut
        total.confirm &+= other.confirm
        total.returnUnroutable &+= other.returnUnroutable
        total.dropUnroutable &+= other.dropUnroutable
        total.deliver &+= other.deliver
        total.deliverNoAck &+= other.deliverNoAck
        total.get &+= other.get
        total.getNoAck &+= other.getNoAck
        total.ack &+= other.ack
        total.redeliver &+= other.redeliver
    }
}

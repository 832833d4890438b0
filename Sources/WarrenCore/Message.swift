import AMQPWire
import NIOCore

/// A published message as the broker holds it: where it was published, its content header as
/// the bytes that arrived, and its body as a slice of the read buffer.
///
/// A value type whose storage is shared: routing one message to N queues copies references,
/// never the body.
public struct Message: Sendable {
    public var exchange: String
    public var routingKey: String
    public var header: ContentHeader
    public var body: ByteBuffer
    /// The parsed `expiration` property in milliseconds, if it has one.
    public var expiration: UInt64?
    /// The `BCC` routing keys, stripped from the headers at publish but still routing the
    /// message if it is dead-lettered without a dead-letter routing key (as in RabbitMQ).
    public var blindCopyKeys: [String]?
    /// The message's id in the persistent message log; 0 when it is not stored.
    public var storeID: UInt64 = 0
    /// Where its record is in the log (segment number << 32 | byte offset), to read it back
    /// when a paged-out backlog reaches the head of its queue.
    public var storeLocation: UInt64 = 0

    public init(
        exchange: String, routingKey: String, header: ContentHeader, body: ByteBuffer, expiration: UInt64? = nil,
        blindCopyKeys: [String]? = nil
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.header = header
        self.body = body
        self.expiration = expiration
        self.blindCopyKeys = blindCopyKeys
    }

    public var bodySize: Int { body.readableBytes }
}

/// A message sitting in one queue, with that queue's bookkeeping for it.
public struct QueuedMessage: Sendable {
    public var message: Message
    /// Position in the queue's publish order; requeued messages return to this position.
    public var sequence: UInt64
    /// Set once the message has been delivered and then requeued.
    public var redelivered: Bool
    /// How often it came back unsettled (nack/reject with requeue, or its channel closing),
    /// counted for `x-delivery-limit`.
    public var deliveryCount: UInt32 = 0
    /// Set on a slot whose message expired out of lane order (see ``ReadyMessages``).
    var isRemoved = false
    /// The priority lane it sits in (always 0 in a queue without `x-max-priority`).
    public var priority: UInt8
    /// When it expires, in ``BrokerClock`` milliseconds; 0 for never. Fixed at enqueue, so a
    /// requeued message keeps its original deadline.
    public var expiresAt: UInt64

    public init(
        message: Message, sequence: UInt64, redelivered: Bool = false, priority: UInt8 = 0, expiresAt: UInt64 = 0
    ) {
        self.message = message
        self.sequence = sequence
        self.redelivered = redelivered
        self.priority = priority
        self.expiresAt = expiresAt
    }

    /// Due for removal: its deadline has come.
    func isExpired(at now: UInt64) -> Bool {
        expiresAt != 0 && expiresAt <= now
    }

    /// Too old to hand out: its deadline has passed. A message whose deadline is this very
    /// millisecond (TTL 0) may still go to a consumer that is ready for it.
    func isPastDeadline(at now: UInt64) -> Bool {
        expiresAt != 0 && expiresAt < now
    }
}

import AMQPWire

/// Whoever receives a queue's deliveries for a consumer: in the server, an AMQP channel.
///
/// The queue decides *which* consumer gets the next message (round-robin among those with room);
/// the owner decides whether a consumer has room (prefetch, a socket that is not writable) and
/// performs the delivery (assigning the delivery tag and writing the frames).
public protocol ConsumerOwner: AnyObject {
    /// Whether `consumer` may be handed one more message now.
    func canDeliver(to consumer: Consumer) -> Bool
    /// Hands `message` to `consumer`. Unless the consumer is no-ack, the owner keeps it as
    /// unacknowledged until it settles it with ``Queue/acknowledge(_:)`` or ``Queue/requeue(_:)``.
    func deliver(_ message: QueuedMessage, from queue: Queue, to consumer: Consumer)
    /// The queue ended the consumer (the queue was deleted); the owner tells the client if it can.
    func consumerCancelledByQueue(_ consumer: Consumer)
}

/// One `basic.consume` subscription to one queue.
public final class Consumer {
    public let tag: String
    public let noAck: Bool
    public let exclusive: Bool
    public let arguments: FieldTable
    public unowned let owner: any ConsumerOwner
    /// `basic.qos` prefetch-count in force when the consumer was created (0 = unlimited).
    public let prefetchLimit: UInt16
    /// The `x-priority` consume argument: higher receives first while it has room (default 0).
    public let priority: Int64
    /// Deliveries to this consumer not yet acknowledged.
    public var unackedCount: Int = 0

    public init(
        tag: String, noAck: Bool, exclusive: Bool, arguments: FieldTable, owner: any ConsumerOwner,
        prefetchLimit: UInt16
    ) {
        self.tag = tag
        self.noAck = noAck
        self.exclusive = exclusive
        self.arguments = arguments
        self.owner = owner
        self.prefetchLimit = prefetchLimit
        self.priority = arguments["x-priority"]?.integerValue ?? 0
    }

    /// Whether the consumer's own prefetch window has room.
    public var hasPrefetchRoom: Bool {
        noAck || prefetchLimit == 0 || unackedCount < Int(prefetchLimit)
    }
}

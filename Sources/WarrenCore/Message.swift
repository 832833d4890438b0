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

    public init(exchange: String, routingKey: String, header: ContentHeader, body: ByteBuffer) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.header = header
        self.body = body
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
    /// The priority lane it sits in (always 0 in a queue without `x-max-priority`).
    public var priority: UInt8

    public init(message: Message, sequence: UInt64, redelivered: Bool = false, priority: UInt8 = 0) {
        self.message = message
        self.sequence = sequence
        self.redelivered = redelivered
        self.priority = priority
    }
}

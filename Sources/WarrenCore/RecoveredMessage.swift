import AMQPWire

/// A message the persistent log gave back at start-up, with the state its queue had for it.
public struct RecoveredMessage {
    public var message: Message
    /// Its position in the queue's publish order before the restart.
    public var sequence: UInt64
    /// Delivered before the restart, so it goes out marked redelivered.
    public var redelivered: Bool
    /// Returns before the restart, for `x-delivery-limit`.
    public var deliveryCount: UInt32
    /// Milliseconds of TTL left (0 = already expired); nil when it never expires.
    public var remainingTTL: UInt64?

    public init(message: Message, sequence: UInt64, redelivered: Bool, deliveryCount: UInt32, remainingTTL: UInt64?) {
        self.message = message
        self.sequence = sequence
        self.redelivered = redelivered
        self.deliveryCount = deliveryCount
        self.remainingTTL = remainingTTL
    }
}

/// A message a durable delayed exchange held when the broker stopped.
public struct RecoveredDelayedMessage {
    public var message: Message
    public var exchange: String
    public var extraRoutingKeys: [String]
    /// Milliseconds until it is due (0 if it fell due while the broker was down).
    public var remainingDelay: UInt64

    public init(message: Message, exchange: String, extraRoutingKeys: [String], remainingDelay: UInt64) {
        self.message = message
        self.exchange = exchange
        self.extraRoutingKeys = extraRoutingKeys
        self.remainingDelay = remainingDelay
    }
}

extension Queue {
    /// The sequence number the next enqueued message will get (the log records it).
    public var upcomingSequence: UInt64 { nextSequenceValue }

    /// Puts recovered messages back (sorted by sequence) and finishes the recovery.
    public func recover(_ messages: [RecoveredMessage]) {
        for recovered in messages.sorted(by: { $0.sequence < $1.sequence }) {
            recoverOne(recovered)
        }
        finishRecovery()
    }

    /// Puts one recovered message back; they must come in sequence order. Later messages are
    /// numbered after them; past the in-memory limit a stored message is kept as a reference.
    public func recoverOne(_ recovered: RecoveredMessage) {
        let lane = isPriorityQueue ? ready.lane(forPriority: BasicProperties.priority(in: recovered.message.header)) : 0
        // A TTL that ran out while the broker was down leaves a deadline of now: due at once.
        var queued = QueuedMessage(
            message: recovered.message, sequence: recovered.sequence, redelivered: recovered.redelivered,
            priority: lane, expiresAt: recovered.remainingTTL.map { clock.milliseconds() + $0 } ?? 0)
        queued.deliveryCount = recovered.deliveryCount
        if queued.deliveryCount > 0 && settings.deliveryLimit != nil {
            // As after a return before the restart: redeliveries carry the count.
            queued.message.setHeader("x-delivery-count", .int64(Int64(queued.deliveryCount)))
        }
        ready.append(queued)
        advanceSequence(past: recovered.sequence)
    }

    /// After the last recovered message: expires those whose TTL ran out while the broker was
    /// down, and applies the queue's length limits.
    public func finishRecovery() {
        expireMessages()
        if limitsLength { dropHeadsOverLimit() }
        dispatch()
    }
}

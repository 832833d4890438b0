import AMQPWire

/// Who republishes the messages a queue gives up: its virtual host, which owns the exchanges.
public protocol DeadLetterTarget: AnyObject {
    /// Republishes `messages` that `queue` gave up for `reason` to the queue's dead-letter exchange.
    func deadLetter(_ messages: [Message], from queue: Queue, reason: DeadLetterReason)
}

/// Length limits, delivery limits and the hand-off of given-up messages to dead-lettering.
extension Queue {
    /// Whether accepting `message` would take the ready messages over a limit (RabbitMQ counts
    /// ready messages and their body bytes; unacknowledged ones do not count).
    func wouldOverflow(adding message: Message) -> Bool {
        if let maxLength = settings.maxLength, ready.count + 1 > maxLength { return true }
        if let maxBytes = settings.maxLengthBytes, ready.bytes + message.bodySize > maxBytes { return true }
        return false
    }

    private var isOverLimit: Bool {
        if let maxLength = settings.maxLength, ready.count > maxLength { return true }
        if let maxBytes = settings.maxLengthBytes, ready.bytes > maxBytes { return true }
        return false
    }

    /// With `drop-head`, drops (and dead-letters) the oldest ready messages until the queue is
    /// back within its limits.
    func dropHeadsOverLimit() {
        guard settings.overflow == .dropHead else { return }
        var dropped: [Message] = []
        while isOverLimit, let head = ready.popFirst() {
            dropped.append(head.message)
        }
        if !dropped.isEmpty { deadLetter(dropped, .maxlen) }
    }

    /// Takes the messages returned more than `limit` times out of `requeued` and dead-letters
    /// them; the others get the `x-delivery-count` header quorum queues write.
    func applyDeliveryLimit(_ limit: Int, to requeued: inout [QueuedMessage]) {
        var exhausted: [Message] = []
        requeued.removeAll { queued in
            guard Int(queued.deliveryCount) > limit else { return false }
            exhausted.append(queued.message)
            return true
        }
        for index in requeued.indices {
            requeued[index].message.setHeader("x-delivery-count", .int64(Int64(requeued[index].deliveryCount)))
        }
        if !exhausted.isEmpty { deadLetter(exhausted, .deliveryLimit) }
    }

    /// Hands messages the queue gave up to its dead-letter exchange, if it has one; without
    /// one they are simply dropped.
    func deadLetter(_ messages: [Message], _ reason: DeadLetterReason) {
        // The copies are logged before this queue lets go, so no crash loses both.
        if settings.deadLetterExchange != nil, let deadLetterTarget {
            deadLetterTarget.deadLetter(messages, from: self, reason: reason)
        }
        for message in messages { recordSettled(message) }
    }
}

extension Queue {
    /// Tells the message log that this queue is done with a stored message.
    @inline(__always)
    func recordSettled(_ message: Message) {
        if message.storeID != 0 && isSaved { messageLog?.settled(message.storeID, in: self) }
    }

    /// Tells the message log a stored message went out for the first time.
    @inline(__always)
    func recordDelivered(_ message: QueuedMessage) {
        if message.message.storeID != 0 && !message.redelivered && isSaved {
            messageLog?.delivered(message.message.storeID, in: self)
        }
    }
}

extension Message {
    /// Sets one header, re-encoding the properties (a rare path: delivery counts).
    mutating func setHeader(_ key: String, _ value: FieldValue) {
        guard var properties = try? header.properties() else { return }
        var headers = properties.headers ?? FieldTable()
        headers[key] = value
        properties.headers = headers
        if let updated = try? ContentHeader(classID: header.classID, bodySize: header.bodySize, properties: properties)
        {
            header = updated
        }
    }
}

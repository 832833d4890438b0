import DequeModule

/// A queue's ready messages: one FIFO lane per priority level, highest lane first.
///
/// A plain queue has a single lane, so its path is a deque append and pop. A priority queue
/// (`x-max-priority` N) has N+1 lanes; a message's lane is its `priority` property capped at N,
/// as in RabbitMQ, and requeued messages merge back into their lane by publish order.
public struct ReadyMessages {
    private var lanes: [Deque<QueuedMessage>]
    public private(set) var count = 0
    /// The body bytes of all ready messages, for `x-max-length-bytes`.
    public private(set) var bytes = 0
    /// The highest priority level, 0 for a plain queue.
    public let maxPriority: UInt8

    public init(maxPriority: UInt8 = 0) {
        self.maxPriority = maxPriority
        self.lanes = Array(repeating: Deque(), count: Int(maxPriority) + 1)
    }

    public var isEmpty: Bool { count == 0 }

    /// The message the next pop would return.
    public var first: QueuedMessage? {
        lanes.last(where: { !$0.isEmpty })?.first
    }

    /// The lane a message with this `priority` property belongs in.
    public func lane(forPriority priority: UInt8?) -> UInt8 {
        Swift.min(priority ?? 0, maxPriority)
    }

    mutating func append(_ message: QueuedMessage) {
        lanes[Int(message.priority)].append(message)
        count += 1
        bytes += message.message.bodySize
    }

    mutating func popFirst() -> QueuedMessage? {
        guard count > 0 else { return nil }
        for lane in lanes.indices.reversed() {
            if let message = lanes[lane].popFirst() {
                count -= 1
                bytes -= message.message.bodySize
                return message
            }
        }
        return nil
    }

    /// Merges messages (sorted by sequence) back into their lanes at their original positions.
    mutating func requeue(_ sorted: [QueuedMessage]) {
        var insertAt = Array(repeating: 0, count: lanes.count)
        for message in sorted {
            let lane = Int(message.priority)
            var index = insertAt[lane]
            while index < lanes[lane].count && lanes[lane][index].sequence < message.sequence {
                index += 1
            }
            lanes[lane].insert(message, at: index)
            insertAt[lane] = index + 1
            count += 1
            bytes += message.message.bodySize
        }
    }

    /// Removes expired messages from the head of each lane (where RabbitMQ expires them too)
    /// and returns them.
    mutating func removeExpiredHeads(at now: UInt64) -> [QueuedMessage] {
        var removed: [QueuedMessage] = []
        for lane in lanes.indices {
            while let head = lanes[lane].first, head.isExpired(at: now) {
                removed.append(lanes[lane].removeFirst())
                bytes -= head.message.bodySize
            }
        }
        count -= removed.count
        return removed
    }

    /// The earliest deadline among the lanes' heads (0 when none expires).
    var earliestHeadDeadline: UInt64 {
        var earliest: UInt64 = 0
        for lane in lanes {
            if let deadline = lane.first?.expiresAt, deadline != 0, earliest == 0 || deadline < earliest {
                earliest = deadline
            }
        }
        return earliest
    }

    mutating func removeAll() {
        for lane in lanes.indices {
            lanes[lane].removeAll()
        }
        count = 0
        bytes = 0
    }
}

extension ReadyMessages: Sequence {
    /// Messages in delivery order: highest lane first, FIFO within a lane.
    public func makeIterator() -> some IteratorProtocol<QueuedMessage> {
        lanes.reversed().joined().makeIterator()
    }
}

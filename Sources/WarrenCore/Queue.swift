import AMQPWire
import DequeModule

/// A queue: its ready messages in order, its consumers, and the count of messages handed out
/// but not yet settled.
///
/// Invariants: each lane of `ready` is ordered by `sequence` (requeues merge back into place); a message is
/// either ready, or held by exactly one consumer owner (counted in `unackedCount`), or gone.
/// All access happens on the broker's executor, so there are no locks.
public final class Queue {
    public let name: String
    public let vhost: String
    public let durable: Bool
    public let autoDelete: Bool
    /// The connection that owns an exclusive queue; nil for shared queues.
    public let exclusiveOwner: ConnectionID?
    public let arguments: FieldTable

    public internal(set) var ready: ReadyMessages
    public private(set) var consumers: [Consumer] = []
    public private(set) var unackedCount = 0
    public private(set) var isDeleted = false
    /// What happened to this queue's messages, for the management API.
    public internal(set) var stats = MessageStats()
    /// Set when a consumer first subscribes; auto-delete applies only after that.
    private var hadConsumer = false
    private var nextSequence: UInt64 = 0
    private var roundRobinCursor = 0
    /// Round-robin positions within each consumer priority level (only with `x-priority`).
    private var priorityCursors: [Int64: Int] = [:]
    private var hasPrioritizedConsumers = false
    private var isDispatching = false

    /// Called when the queue deletes itself (auto-delete), so its virtual host can forget it.
    var onAutoDelete: ((Queue) -> Void)?

    /// What the queue's arguments and policies select: TTLs, dead-lettering, length limits.
    public private(set) var settings: QueueSettings
    /// Whether a length limit applies: the one test on the plain enqueue path.
    private(set) var limitsLength: Bool
    /// The policy and operator policy in effect, if any.
    public private(set) var policy: Policy?
    public private(set) var operatorPolicy: Policy?
    private var lastUsed: UInt64 = 0
    /// Where dead-lettered messages go: the queue's virtual host.
    weak var deadLetterTarget: (any DeadLetterTarget)?
    /// Where what happens to stored (persistent) messages is recorded; only durable queues have one.
    public weak var messageLog: (any PersistentMessageLog)?

    /// Lets the queue keep at most `limit` messages per lane in memory, paging stored ones
    /// beyond that out to the log (read back as the head of the queue reaches them).
    public func enablePaging(_ log: any PersistentMessageLog, inMemoryLimit limit: Int) {
        messageLog = log
        ready.pager = log
        ready.inMemoryLimit = limit
    }
    /// Called when `x-expires` runs out, so the virtual host deletes the queue.
    var onExpire: ((Queue) -> Void)?
    var clock: any BrokerClock = MonotonicClock()
    weak var expiryScheduler: (any ExpiryScheduler)?
    /// The deadline the scheduler was last asked for (0 = none pending).
    private var scheduledExpiry: UInt64 = 0

    public init(
        name: String, vhost: String, durable: Bool, autoDelete: Bool, exclusiveOwner: ConnectionID?,
        arguments: FieldTable
    ) {
        self.name = name
        self.vhost = vhost
        self.durable = durable
        self.autoDelete = autoDelete
        self.exclusiveOwner = exclusiveOwner
        self.arguments = arguments
        let maxPriority = arguments["x-max-priority"]?.integerValue.flatMap(UInt8.init(exactly:))
        self.ready = ReadyMessages(maxPriority: maxPriority ?? 0)
        self.isPriorityQueue = maxPriority != nil
        self.isSingleActiveConsumer = arguments["x-single-active-consumer"] == .bool(true)
        self.settings = QueueSettings(arguments: arguments)
        self.limitsLength = settings.hasLengthLimit
    }

    /// `x-single-active-consumer`: one consumer at a time receives, the first registered.
    public let isSingleActiveConsumer: Bool

    /// Whether `x-max-priority` was given; only then is a message's priority property read.
    public let isPriorityQueue: Bool

    /// Whether the queue (and its persistent messages) survives a restart: durable and not
    /// exclusive, as in RabbitMQ.
    public var isSaved: Bool { durable && exclusiveOwner == nil }

    public var messageCount: Int { ready.count }
    public var consumerCount: Int { consumers.count }

    /// Appends a routed message and hands out what consumers have room for; returns false when
    /// a length limit with `reject-publish` refused it.
    @discardableResult
    public func enqueue(_ message: Message) -> Bool {
        guard !isDeleted else { return true }
        if limitsLength && settings.overflow != .dropHead && wouldOverflow(adding: message) {
            if settings.overflow == .rejectPublishDeadLetter {
                deadLetter([message], .maxlen)
            } else {
                recordSettled(message)
            }
            return false
        }
        let lane = isPriorityQueue ? ready.lane(forPriority: BasicProperties.priority(in: message.header)) : 0
        var expiresAt: UInt64 = 0
        if settings.messageTTL != nil || message.expiration != nil {
            // The lower of the queue's TTL and the message's expiration wins.
            expiresAt = clock.milliseconds() + min(settings.messageTTL ?? .max / 2, message.expiration ?? .max / 2)
        }
        ready.append(QueuedMessage(message: message, sequence: nextSequence, priority: lane, expiresAt: expiresAt))
        nextSequence &+= 1
        stats.publish &+= 1
        dispatch()
        if limitsLength { dropHeadsOverLimit() }
        if expiresAt != 0 {
            // A TTL of 0 means "now, unless a consumer took it just above".
            expireMessages()
        }
        return true
    }

    /// Removes (and dead-letters) the messages whose deadline has passed, wherever they sit,
    /// and asks for a timer at the next deadline.
    public func expireMessages() {
        let expired = ready.removeExpired(at: clock.milliseconds())
        if !expired.isEmpty { deadLetter(expired.map(\.message), .expired) }
        let next = ready.earliestDeadline
        if next != 0 { requestTimer(at: next) }
    }

    /// Asks for a timer unless an earlier one is already pending; each firing re-derives the
    /// next deadline, so one pending timer per queue is enough.
    private func requestTimer(at deadline: UInt64) {
        if scheduledExpiry == 0 || deadline < scheduledExpiry {
            scheduledExpiry = deadline
            expiryScheduler?.schedule(at: deadline) { [weak self] in self?.expiryTimerFired() }
        }
    }

    /// The scheduler's timer: expire what is due, delete the queue if it has been unused for
    /// `x-expires`, and schedule the next deadline.
    public func expiryTimerFired() {
        scheduledExpiry = 0
        guard !isDeleted else { return }
        expireMessages()
        guard let expiresAfter = settings.expiresAfter, consumers.isEmpty else { return }
        let due = lastUsed + expiresAfter
        if clock.milliseconds() >= due {
            onExpire?(self)
        } else {
            requestTimer(at: due)
        }
    }

    /// Applies a (possibly changed) policy: a lower length limit drops heads at once; a changed
    /// expiry restarts its period. TTLs apply to messages enqueued from now on.
    public func apply(policy: Policy?, operatorPolicy: Policy?) {
        self.policy = policy
        self.operatorPolicy = operatorPolicy
        let updated = QueueSettings(arguments: arguments, policy: policy, operatorPolicy: operatorPolicy)
        guard updated != settings else { return }
        let expiryChanged = updated.expiresAfter != settings.expiresAfter
        settings = updated
        limitsLength = updated.hasLengthLimit
        if limitsLength { dropHeadsOverLimit() }
        if expiryChanged { markUsed() }
    }

    /// Records a use for `x-expires`: a declare, a `basic.get`, or consumers coming and going.
    public func markUsed() {
        guard let expiresAfter = settings.expiresAfter else { return }
        lastUsed = clock.milliseconds()
        requestTimer(at: lastUsed + expiresAfter)
    }

    /// The next ready message that has not expired; expired ones met on the way are dropped.
    private func popUnexpired() -> QueuedMessage? {
        while let head = ready.popFirst() {
            if head.expiresAt == 0 || !head.isPastDeadline(at: clock.milliseconds()) { return head }
            deadLetter([head.message], .expired)
        }
        return nil
    }

    /// Takes the head message for `basic.get`; the caller holds it unless it asked for no-ack.
    public func get(noAck: Bool) -> QueuedMessage? {
        markUsed()
        guard let head = popUnexpired() else { return nil }
        stats.recordDelivery(noAck: noAck, get: true, redelivered: head.redelivered)
        if noAck {
            recordSettled(head.message)
        } else {
            unackedCount += 1
            recordDelivered(head)
        }
        return head
    }

    /// Settles a message an owner held and acknowledged.
    public func acknowledge(_ message: QueuedMessage) {
        unackedCount -= 1
        stats.ack &+= 1
        recordSettled(message.message)
    }

    /// Settles a message its owner rejected without requeue: it is dead-lettered if the queue
    /// has a dead-letter exchange, and dropped otherwise.
    public func reject(_ message: QueuedMessage) {
        unackedCount -= 1
        guard !isDeleted else { return recordSettled(message.message) }
        deadLetter([message.message], .rejected)
    }

    /// Puts held messages back at their original positions, marked redelivered; those that
    /// have now been returned more often than `x-delivery-limit` allows are dead-lettered.
    public func requeue(_ messages: some Sequence<QueuedMessage>) {
        var sorted = Array(messages)
        guard !sorted.isEmpty else { return }
        unackedCount -= sorted.count
        guard !isDeleted else {
            for queued in sorted { recordSettled(queued.message) }
            return
        }
        sorted.sort { $0.sequence < $1.sequence }
        for index in sorted.indices {
            sorted[index].redelivered = true
            sorted[index].deliveryCount += 1
            if sorted[index].message.storeID != 0 && durable {
                messageLog?.returned(sorted[index].message.storeID, in: self)
            }
        }
        if let limit = settings.deliveryLimit { applyDeliveryLimit(limit, to: &sorted) }
        ready.requeue(sorted)
        if limitsLength { dropHeadsOverLimit() }
        dispatch()
        if sorted.contains(where: { $0.expiresAt != 0 }) { expireMessages() }
    }

    /// Drops every ready message; returns how many there were.
    public func purge() -> Int {
        let count = ready.count
        if let messageLog, isSaved {
            ready.forEachStoreID { messageLog.settled($0, in: self) }
        }
        ready.removeAll()
        return count
    }

    /// Adds a consumer. Consumers are kept by `x-priority`, highest first, in arrival order within
    /// a priority; a single-active-consumer queue keeps arrival order only.
    public func addConsumer(_ consumer: Consumer) {
        if isSingleActiveConsumer || consumer.priority == 0 && !hasPrioritizedConsumers {
            consumers.append(consumer)
        } else {
            let index = consumers.firstIndex { $0.priority < consumer.priority } ?? consumers.count
            consumers.insert(consumer, at: index)
            if index <= roundRobinCursor && index < consumers.count - 1 { roundRobinCursor += 1 }
        }
        hasPrioritizedConsumers = hasPrioritizedConsumers || consumer.priority != 0
        hadConsumer = true
        dispatch()
    }

    /// Removes the consumer; an auto-delete queue deletes itself after its last consumer.
    public func removeConsumer(_ consumer: Consumer) {
        guard let index = consumers.firstIndex(where: { $0 === consumer }) else { return }
        consumers.remove(at: index)
        if roundRobinCursor > index { roundRobinCursor -= 1 }
        hasPrioritizedConsumers = consumers.contains { $0.priority != 0 }
        if consumers.isEmpty { markUsed() }
        if autoDelete && hadConsumer && consumers.isEmpty && !isDeleted {
            onAutoDelete?(self)
            return
        }
        // With a single active consumer, the waiting consumer with the highest `x-priority`
        // (the earliest among equals) takes over now, as in RabbitMQ.
        if isSingleActiveConsumer && index == 0,
            let next = consumers.indices.max(by: { a, b in
                consumers[a].priority < consumers[b].priority
                    || (consumers[a].priority == consumers[b].priority && a > b)
            })
        {
            consumers.insert(consumers.remove(at: next), at: 0)
            dispatch()
        }
    }

    var nextSequenceValue: UInt64 { nextSequence }

    func advanceSequence(past sequence: UInt64) {
        nextSequence = max(nextSequence, sequence &+ 1)
    }

    /// Marks the queue deleted and cancels its consumers; returns the ready count it had.
    func markDeleted() -> Int {
        isDeleted = true
        let count = ready.count
        if let messageLog, isSaved {
            ready.forEachStoreID { messageLog.settled($0, in: self) }
            messageLog.deleted(self)
        }
        ready.removeAll()
        let cancelled = consumers
        consumers.removeAll()
        for consumer in cancelled {
            consumer.owner.consumerCancelledByQueue(consumer)
        }
        return count
    }

    /// Hands ready messages to consumers with room, round-robin, until one side runs out.
    ///
    /// Re-entrant calls (an owner that acks inside `deliver`) are folded into the running loop.
    public func dispatch() {
        guard !isDispatching else { return }
        isDispatching = true
        defer { isDispatching = false }
        while !ready.isEmpty, let consumer = nextConsumerWithRoom() {
            guard let message = popUnexpired() else { break }
            stats.recordDelivery(noAck: consumer.noAck, get: false, redelivered: message.redelivered)
            if consumer.noAck {
                recordSettled(message.message)
            } else {
                unackedCount += 1
                consumer.unackedCount += 1
                recordDelivered(message)
            }
            consumer.owner.deliver(message, from: self, to: consumer)
        }
    }

    /// The consumer that gets the next message: only the first one on a single-active-consumer
    /// queue; otherwise the highest `x-priority` level with any room, round-robin within it.
    private func nextConsumerWithRoom() -> Consumer? {
        if isSingleActiveConsumer {
            guard let active = consumers.first, active.hasPrefetchRoom, active.owner.canDeliver(to: active) else {
                return nil
            }
            return active
        }
        guard hasPrioritizedConsumers else {
            return nextWithRoom(in: 0..<consumers.count, cursor: &roundRobinCursor)
        }
        var start = 0
        while start < consumers.count {
            let priority = consumers[start].priority
            var end = start + 1
            while end < consumers.count && consumers[end].priority == priority { end += 1 }
            var cursor = priorityCursors[priority, default: 0]
            if let consumer = nextWithRoom(in: start..<end, cursor: &cursor) {
                priorityCursors[priority] = cursor
                return consumer
            }
            start = end
        }
        return nil
    }

    /// Round-robin over `range` of `consumers`, from `cursor` (an offset into the range).
    private func nextWithRoom(in range: Range<Int>, cursor: inout Int) -> Consumer? {
        let count = range.count
        guard count > 0 else { return nil }
        for offset in 0..<count {
            let position = (cursor + offset) % count
            let consumer = consumers[range.lowerBound + position]
            if consumer.hasPrefetchRoom && consumer.owner.canDeliver(to: consumer) {
                cursor = (position + 1) % count
                return consumer
            }
        }
        return nil
    }
}

/// Identifies a client connection within the broker, for exclusivity checks.
public struct ConnectionID: Hashable, Sendable {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }
}

import DequeModule
import HeapModule

/// A queue's ready messages: one FIFO lane per priority level, highest lane first.
///
/// A plain queue has a single lane, so its path is a deque append and pop. A priority queue
/// (`x-max-priority` N) has N+1 lanes; a message's lane is its `priority` property capped at N,
/// as in RabbitMQ, and requeued messages merge back into their lane by publish order.
///
/// Messages with their own `expiration` may expire out of lane order. They are also indexed by
/// deadline, so one that expires behind an unexpired message is removed on time (RabbitMQ only
/// removes it once it reaches the head): its slot in the lane is found by binary search on the
/// sequence number, emptied in place (the body is released at once) and skipped when popped.
public struct ReadyMessages {
    private var lanes: [Deque<QueuedMessage>]
    /// Each lane's paged-out tail: stored messages behind the first `inMemoryLimit` of the
    /// lane, kept as small references and read back from the log when the lane's head runs
    /// out. A transient message arriving behind them waits in `transientInTails` so the order
    /// holds.
    private var tails: [Deque<PagedMessage>]
    private var transientInTails: [UInt64: QueuedMessage] = [:]
    /// Deadlines of paged-out messages that have one, by sequence (most have none).
    private var pagedDeadlines: [UInt64: UInt64] = [:]
    /// Where paged-out messages are read back from; nil disables paging.
    weak var pager: (any PersistentMessageLog)?
    /// How many messages a lane keeps in memory before paging stored ones out.
    var inMemoryLimit = Int.max
    /// Messages with a per-message expiration, by deadline; entries whose message has left
    /// the lanes since are skipped when they come due.
    private var deadlines = Heap<Deadline>()
    public private(set) var count = 0
    /// The body bytes of all ready messages, for `x-max-length-bytes`.
    public private(set) var bytes = 0
    /// The highest priority level, 0 for a plain queue.
    public let maxPriority: UInt8

    private struct Deadline: Comparable {
        var expiresAt: UInt64
        var sequence: UInt64
        var lane: UInt8

        static func < (a: Deadline, b: Deadline) -> Bool {
            (a.expiresAt, a.sequence) < (b.expiresAt, b.sequence)
        }
    }

    public init(maxPriority: UInt8 = 0) {
        self.maxPriority = maxPriority
        self.lanes = Array(repeating: Deque(), count: Int(maxPriority) + 1)
        self.tails = Array(repeating: Deque(), count: Int(maxPriority) + 1)
    }

    /// How many messages are paged out (counted in ``count``, not in memory).
    public var pagedCount: Int {
        tails.reduce(0) { $0 + $1.count } - transientInTails.count
    }

    public var isEmpty: Bool { count == 0 }

    /// The message the next pop would return.
    public var first: QueuedMessage? {
        for lane in lanes.indices.reversed() {
            if let message = lanes[lane].first(where: { !$0.isRemoved }) { return message }
            if let paged = tails[lane].first { return message(for: paged, lane: lane) }
        }
        return nil
    }

    /// A paged-out message read back (or taken from the transient side table) without moving it.
    private func message(for paged: PagedMessage, lane: Int) -> QueuedMessage? {
        if paged.storeID == 0 { return transientInTails[paged.sequence] }
        guard let message = pager?.load(storeID: paged.storeID, location: paged.location) else { return nil }
        return paged.queued(message, lane: UInt8(lane), expiresAt: pagedDeadlines[paged.sequence] ?? 0)
    }

    /// The lane a message with this `priority` property belongs in.
    public func lane(forPriority priority: UInt8?) -> UInt8 {
        Swift.min(priority ?? 0, maxPriority)
    }

    mutating func append(_ message: QueuedMessage) {
        let lane = Int(message.priority)
        count += 1
        bytes += message.message.bodySize
        indexDeadline(of: message)
        if !tails[lane].isEmpty || (lanes[lane].count >= inMemoryLimit && message.message.storeID != 0 && pager != nil)
        {
            if message.message.storeID == 0 { transientInTails[message.sequence] = message }
            if message.expiresAt != 0 { pagedDeadlines[message.sequence] = message.expiresAt }
            tails[lane].append(PagedMessage(message))
            return
        }
        lanes[lane].append(message)
    }

    /// Reads up to a batch of a lane's paged-out messages back into its head. A message whose
    /// record cannot be read is dropped from the count.
    private mutating func pageIn(_ lane: Int) {
        let batch = Swift.max(1, Swift.min(256, inMemoryLimit))
        var loaded = 0
        while loaded < batch, let paged = tails[lane].popFirst() {
            if paged.storeID == 0, let transient = transientInTails.removeValue(forKey: paged.sequence) {
                pagedDeadlines[paged.sequence] = nil
                lanes[lane].append(transient)
            } else if let message = pager?.load(storeID: paged.storeID, location: paged.location) {
                lanes[lane].append(
                    paged.queued(
                        message, lane: UInt8(lane), expiresAt: pagedDeadlines.removeValue(forKey: paged.sequence) ?? 0))
            } else {
                pagedDeadlines[paged.sequence] = nil
                count -= 1
                bytes -= Int(paged.bodySize)
                continue
            }
            loaded += 1
        }
    }

    /// Calls `body` with the store id of every ready stored message, paged out or not, without
    /// reading any back.
    func forEachStoreID(_ body: (UInt64) -> Void) {
        for lane in lanes {
            for message in lane where message.message.storeID != 0 && !message.isRemoved {
                body(message.message.storeID)
            }
        }
        for tail in tails {
            for paged in tail where paged.storeID != 0 { body(paged.storeID) }
        }
    }

    private mutating func indexDeadline(of message: QueuedMessage) {
        // A queue TTL alone keeps each lane in deadline order; only per-message ones need the index.
        guard message.expiresAt != 0, message.message.expiration != nil else { return }
        deadlines.insert(Deadline(expiresAt: message.expiresAt, sequence: message.sequence, lane: message.priority))
    }

    mutating func popFirst() -> QueuedMessage? {
        guard count > 0 else { return nil }
        for lane in lanes.indices.reversed() {
            if lanes[lane].isEmpty && !tails[lane].isEmpty { pageIn(lane) }
            while let message = lanes[lane].popFirst() {
                if message.isRemoved { continue }
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
            indexDeadline(of: message)
        }
    }

    /// Removes every expired message, first from the head of each lane, then any that the
    /// deadline index says has expired further back, and returns them.
    mutating func removeExpired(at now: UInt64) -> [QueuedMessage] {
        var removed: [QueuedMessage] = []
        for lane in lanes.indices {
            while let head = lanes[lane].first, head.isRemoved || head.isExpired(at: now) {
                lanes[lane].removeFirst()
                if !head.isRemoved {
                    removed.append(head)
                    count -= 1
                    bytes -= head.message.bodySize
                }
            }
        }
        while let due = deadlines.min, due.expiresAt <= now {
            deadlines.removeMin()
            if let message = removeInPlace(due) { removed.append(message) }
        }
        return removed
    }

    /// Empties the slot of the message `due` names, if it is still in its lane.
    private mutating func removeInPlace(_ due: Deadline) -> QueuedMessage? {
        let lane = Int(due.lane)
        var low = 0
        var high = lanes[lane].count - 1
        while low <= high {
            let mid = (low + high) / 2
            let sequence = lanes[lane][mid].sequence
            if sequence < due.sequence {
                low = mid + 1
            } else if sequence > due.sequence {
                high = mid - 1
            } else {
                let message = lanes[lane][mid]
                guard !message.isRemoved, message.expiresAt == due.expiresAt else { return nil }
                lanes[lane][mid].isRemoved = true
                lanes[lane][mid].message.body = .init()
                count -= 1
                bytes -= message.message.bodySize
                return message
            }
        }
        return nil
    }

    /// The earliest deadline among the lanes' heads and the deadline index (0 when none).
    var earliestDeadline: UInt64 {
        var earliest = deadlines.min?.expiresAt ?? 0
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
            tails[lane].removeAll()
        }
        transientInTails.removeAll()
        pagedDeadlines.removeAll()
        deadlines = Heap()
        count = 0
        bytes = 0
    }
}

extension ReadyMessages: Sequence {
    /// Messages in delivery order: highest lane first, FIFO within a lane; paged-out ones are
    /// read back for the walk.
    public func makeIterator() -> some IteratorProtocol<QueuedMessage> {
        var all: [QueuedMessage] = []
        for lane in lanes.indices.reversed() {
            all += lanes[lane].filter { !$0.isRemoved }
            all += tails[lane].compactMap { message(for: $0, lane: lane) }
        }
        return all.makeIterator()
    }
}

/// A paged-out message: what its queue needs to put it back in order, in 32 bytes instead
/// of the message itself (a deadline, when there is one, is kept on the side).
struct PagedMessage {
    var storeID: UInt64
    var location: UInt64
    var sequence: UInt64
    var bodySize: UInt32
    var deliveryCount: UInt16
    var redelivered: Bool

    init(_ message: QueuedMessage) {
        storeID = message.message.storeID
        location = message.message.storeLocation
        sequence = message.sequence
        bodySize = UInt32(clamping: message.message.bodySize)
        deliveryCount = UInt16(clamping: message.deliveryCount)
        redelivered = message.redelivered
    }

    func queued(_ message: Message, lane: UInt8, expiresAt: UInt64) -> QueuedMessage {
        var queued = QueuedMessage(
            message: message, sequence: sequence, redelivered: redelivered, priority: lane, expiresAt: expiresAt)
        queued.deliveryCount = UInt32(deliveryCount)
        return queued
    }
}

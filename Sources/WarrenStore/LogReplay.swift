import AMQPWire
import NIOCore
import WarrenCore

/// Rebuilds the log's state by applying its records in order: which stored messages each
/// durable queue still holds, with their sequence, delivery state and deadline.
struct LogReplay {
    struct TargetState {
        var sequence: UInt64
        var expiresAt: UInt64
        var delivered = false
        var returns: UInt32 = 0
    }

    struct Entry {
        var record: PublishRecord
        var segment: UInt32
        var offset: Int
        var targets: [String: TargetState]
    }

    private(set) var entries: [UInt64: Entry] = [:]
    /// Messages durable delayed exchanges still hold, with the segment of their record.
    private(set) var delayed: [UInt64: (record: DelayedRecord, segment: UInt32)] = [:]
    private(set) var highestID: UInt64 = 0

    struct SegmentOutcome {
        /// Problems found, each naming an offset.
        var problems: [String] = []
        /// Where the valid records end, when the segment ends in a torn or corrupt tail.
        var truncateTo: Int?
    }

    /// Applies every readable record of one segment. A record that fails its checks is
    /// skipped up to the next offset where a valid record starts; if none follows, the
    /// segment's valid part ends there.
    mutating func apply(segment: UInt32, bytes: ByteBuffer) -> SegmentOutcome {
        var outcome = SegmentOutcome()
        var offset = 0
        let total = bytes.readableBytes
        while offset < total {
            let view = bytes.getSlice(at: bytes.readerIndex + offset, length: total - offset) ?? ByteBuffer()
            switch LogRecord.read(from: view) {
            case .record(let record, let size):
                apply(record, segment: segment, offset: offset)
                offset += size
            case .truncated, .corrupt:
                guard let next = Self.nextValidRecord(in: bytes, after: offset) else {
                    outcome.problems.append(
                        "torn or corrupt record at offset \(offset); \(total - offset) bytes dropped")
                    outcome.truncateTo = offset
                    return outcome
                }
                outcome.problems.append("corrupt bytes at offset \(offset) to \(next) skipped")
                offset = next
            }
        }
        return outcome
    }

    private static func nextValidRecord(in bytes: ByteBuffer, after offset: Int) -> Int? {
        let total = bytes.readableBytes
        var candidate = offset + 1
        while candidate + LogRecord.headerSize < total {
            let view = bytes.getSlice(at: bytes.readerIndex + candidate, length: total - candidate) ?? ByteBuffer()
            if case .record = LogRecord.read(from: view) { return candidate }
            candidate += 1
        }
        return nil
    }

    mutating func apply(_ record: LogRecord, segment: UInt32, offset: Int) {
        switch record {
        case .publish(let publish):
            highestID = max(highestID, publish.id)
            var targets: [String: TargetState] = [:]
            for target in publish.targets {
                targets[target.queue] = TargetState(sequence: target.sequence, expiresAt: target.expiresAt)
            }
            entries[publish.id] = Entry(record: publish, segment: segment, offset: offset, targets: targets)
        case .settle(let key, let id):
            update(id, key) { _ in nil }
        case .delivered(let key, let id):
            update(id, key) { state in
                var state = state
                state.delivered = true
                return state
            }
        case .returned(let key, let id):
            update(id, key) { state in
                var state = state
                state.delivered = true
                state.returns += 1
                return state
            }
        case .queueDeleted(let key):
            for id in entries.keys {
                update(id, key) { _ in nil }
            }
        case .delayed(let record):
            highestID = max(highestID, record.id)
            delayed[record.id] = (record, segment)
        case .released(let vhost, let id):
            if delayed[id]?.record.vhost == vhost { delayed[id] = nil }
        }
    }

    private mutating func update(_ id: UInt64, _ key: QueueKey, _ change: (TargetState) -> TargetState?) {
        guard var entry = entries[id], entry.record.vhost == key.vhost, let state = entry.targets[key.queue] else {
            return
        }
        entry.targets[key.queue] = change(state)
        entries[id] = entry.targets.isEmpty ? nil : entry
    }

    /// Each virtual host's delayed messages, with the delay left at `now` (Unix ms).
    func recoveredDelayed(now: UInt64) -> [String: [RecoveredDelayedMessage]] {
        var byVirtualHost: [String: [RecoveredDelayedMessage]] = [:]
        for (id, entry) in delayed.sorted(by: { $0.key < $1.key }) {
            let record = entry.record
            var message = Message(
                exchange: record.exchange, routingKey: record.routingKey, header: record.header, body: record.body,
                expiration: try? MessageExpiration.of(record.header))
            message.storeID = id
            byVirtualHost[record.vhost, default: []].append(
                RecoveredDelayedMessage(
                    message: message, exchange: record.exchange, extraRoutingKeys: record.extraRoutingKeys,
                    remainingDelay: record.dueAt > now ? record.dueAt - now : 0))
        }
        return byVirtualHost
    }

    /// Each queue's messages, with deadlines turned into the TTL left at `now` (Unix ms).
    func recoveredQueues(now: UInt64) -> [QueueKey: [RecoveredMessage]] {
        var queues: [QueueKey: [RecoveredMessage]] = [:]
        for (id, entry) in entries {
            var message = Message(
                exchange: entry.record.exchange, routingKey: entry.record.routingKey, header: entry.record.header,
                body: entry.record.body, expiration: try? MessageExpiration.of(entry.record.header))
            message.storeID = id
            message.storeLocation = UInt64(entry.segment) << 32 | UInt64(entry.offset)
            for (queue, state) in entry.targets {
                let remaining: UInt64? =
                    state.expiresAt == 0 ? nil : (state.expiresAt > now ? state.expiresAt - now : 0)
                queues[QueueKey(vhost: entry.record.vhost, queue: queue), default: []].append(
                    RecoveredMessage(
                        message: message, sequence: state.sequence, redelivered: state.delivered,
                        deliveryCount: state.returns, remainingTTL: remaining))
            }
        }
        return queues
    }
}

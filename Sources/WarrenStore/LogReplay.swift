import AMQPWire
import NIOCore
import WarrenCore

/// Rebuilds the log's state in two passes over the segments, one segment in memory at a time,
/// so recovering a backlog of millions costs no more memory than holding it:
///
/// 1. ``scan(segment:bytes:)`` reads every record but keeps only the small facts about
///    messages: which queue let go of which message, which were delivered or returned, where
///    each queue was deleted, which delayed messages were released.
/// 2. ``replay(segment:bytes:recovered:)`` reads the publishes again, in log order (which is
///    each queue's publish order), and hands every one still held to its queue at once; a
///    queue past its in-memory limit keeps only a reference.
struct LogReplay {
    private var settled: [QueueKey: Set<UInt64>] = [:]
    private var delivered: [QueueKey: Set<UInt64>] = [:]
    private var returns: [QueueKey: [UInt64: UInt32]] = [:]
    /// Where each deleted queue was last deleted: publishes before it are gone with it.
    private var deletedAt: [QueueKey: Position] = [:]
    private var released: Set<UInt64> = []
    private(set) var highestID: UInt64 = 0
    /// Messages durable delayed exchanges still hold (found in pass 2).
    private(set) var delayed: [(record: DelayedRecord, segment: UInt32)] = []

    private struct Position: Comparable {
        var segment: UInt32
        var offset: Int

        static func < (a: Position, b: Position) -> Bool {
            (a.segment, a.offset) < (b.segment, b.offset)
        }
    }

    struct SegmentOutcome {
        /// Problems found, each naming an offset.
        var problems: [String] = []
        /// Where the valid records end, when the segment ends in a torn or corrupt tail.
        var truncateTo: Int?
    }

    /// Pass 1 over one segment; reports torn and corrupt records.
    mutating func scan(segment: UInt32, bytes: ByteBuffer) -> SegmentOutcome {
        Self.forEachRecord(in: bytes) { record, offset in
            switch record {
            case .publish(let publish):
                highestID = max(highestID, publish.id)
            case .settle(let key, let id):
                settled[key, default: []].insert(id)
            case .delivered(let key, let id):
                delivered[key, default: []].insert(id)
            case .returned(let key, let id):
                delivered[key, default: []].insert(id)
                returns[key, default: [:]][id, default: 0] += 1
            case .queueDeleted(let key):
                deletedAt[key] = Position(segment: segment, offset: offset)
            case .delayed(let record):
                highestID = max(highestID, record.id)
            case .released(_, let id):
                released.insert(id)
            }
        }
    }

    /// Pass 2 over one segment: calls `recovered` with each message a queue still holds (in
    /// publish order per queue) and how many queues hold it. `recovered` returns whether the
    /// queue exists; the count given to `held` covers only those that do.
    mutating func replay(
        segment: UInt32, bytes: ByteBuffer, now: UInt64, recovered: (QueueKey, RecoveredMessage) -> Bool,
        held: (UInt64, Int) -> Void
    ) {
        _ = Self.forEachRecord(in: bytes) { record, offset in
            switch record {
            case .publish(let publish):
                let position = Position(segment: segment, offset: offset)
                var message = Message(
                    exchange: publish.exchange, routingKey: publish.routingKey, header: publish.header,
                    body: publish.body, expiration: try? MessageExpiration.of(publish.header))
                message.storeID = publish.id
                message.storeLocation = UInt64(segment) << 32 | UInt64(offset)
                var holders = 0
                for target in publish.targets {
                    let key = QueueKey(vhost: publish.vhost, queue: target.queue)
                    if let deleted = deletedAt[key], position < deleted { continue }
                    if settled[key]?.contains(publish.id) == true { continue }
                    let remaining: UInt64? =
                        target.expiresAt == 0 ? nil : (target.expiresAt > now ? target.expiresAt - now : 0)
                    let isHeld = recovered(
                        key,
                        RecoveredMessage(
                            message: message, sequence: target.sequence,
                            redelivered: delivered[key]?.contains(publish.id) == true,
                            deliveryCount: returns[key]?[publish.id] ?? 0, remainingTTL: remaining))
                    if isHeld { holders += 1 }
                }
                if holders > 0 { held(publish.id, holders) }
            case .delayed(let record):
                guard !released.contains(record.id) else { return }
                delayed.append((record, segment))
                held(record.id, 1)
            default:
                break
            }
        }
    }

    /// Calls `body` with every readable record and its offset. A record that fails its checks
    /// is skipped up to the next offset where a valid record starts; if none follows, the
    /// segment's valid part ends there.
    @discardableResult
    static func forEachRecord(in bytes: ByteBuffer, _ body: (LogRecord, Int) -> Void) -> SegmentOutcome {
        var outcome = SegmentOutcome()
        var offset = 0
        let total = bytes.readableBytes
        while offset < total {
            let view = bytes.getSlice(at: bytes.readerIndex + offset, length: total - offset) ?? ByteBuffer()
            switch LogRecord.read(from: view) {
            case .record(let record, let size):
                body(record, offset)
                offset += size
            case .truncated, .corrupt:
                guard let next = nextValidRecord(in: bytes, after: offset) else {
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

    /// The delayed messages still held, by virtual host, with the delay left at `now` (Unix ms).
    func recoveredDelayed(now: UInt64) -> [String: [RecoveredDelayedMessage]] {
        var byVirtualHost: [String: [RecoveredDelayedMessage]] = [:]
        for (record, _) in delayed {
            var message = Message(
                exchange: record.exchange, routingKey: record.routingKey, header: record.header, body: record.body,
                expiration: try? MessageExpiration.of(record.header))
            message.storeID = record.id
            byVirtualHost[record.vhost, default: []].append(
                RecoveredDelayedMessage(
                    message: message, exchange: record.exchange, extraRoutingKeys: record.extraRoutingKeys,
                    remainingDelay: record.dueAt > now ? record.dueAt - now : 0))
        }
        return byVirtualHost
    }
}

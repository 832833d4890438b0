import AMQPWire
import NIOCore
import WarrenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `fsync` away from the broker's thread and reports back on it: a sync takes
/// milliseconds, and the broker keeps serving clients meanwhile.
public protocol StoreSyncer: AnyObject {
    func sync(_ descriptors: [Int32], completion: @escaping (Bool) -> Void)
}

/// The persistent message log: persistent messages on durable queues, and what happens to
/// them, appended to segment files; recovered exactly after a crash.
///
/// A message is written once however many durable queues it reaches (a publish record lists
/// them); acknowledgements, deliveries and returns are small records naming queue and message.
/// Appends gather in memory during a read cycle and are written with one `write` at its end
/// (``flush()``); one `fsync` then covers everything written since the previous one (group
/// commit), and ``onSynced`` releases the publisher confirms waiting for it. Segments are
/// deleted oldest first once every message in them is settled, so disk use follows the live
/// backlog.
///
/// Confined to the broker's event loop, like the queues it serves.
public final class MessageStore: PersistentMessageLog {
    /// A segment is closed and a new one started once it reaches this size.
    public let segmentSize: Int
    public var clock: any BrokerClock = MonotonicClock()
    /// Called on the broker's loop with the position every confirm up to which may go out.
    public var onSynced: ((UInt64) -> Void)?
    /// Called with a line to log when writing or syncing fails.
    public var onError: ((String) -> Void)?

    /// Bytes appended so far: a confirm's ticket is the position just after its record.
    public private(set) var appendedPosition: UInt64 = 0
    /// Everything up to here is on disk.
    public private(set) var syncedPosition: UInt64 = 0

    private let files: SegmentFiles
    private let syncer: any StoreSyncer
    private var pending = ByteBuffer()
    private var writtenPosition: UInt64 = 0
    private var syncInFlight = false
    private var currentIndex: UInt32 = 0
    private var currentDescriptor: Int32 = -1
    private var currentBytes = 0
    /// Segments rotated away from but not yet covered by an fsync.
    private var rotatedDescriptors: [Int32] = []
    private var segmentsOnDisk: [UInt32] = []
    private var nextID: UInt64 = 1
    private var syncFailed = false
    /// Segments open for paging messages back in.
    private var readDescriptors: [UInt32: Int32] = [:]
    private var isClosed = false

    /// Stored messages some durable queue (or delayed exchange) still holds.
    private var live = LiveMessages()
    /// Segments that may only go oldest first: they hold a queue deletion, which cannot be
    /// written again later without also covering newer messages.
    private var oldestFirstOnly: Set<UInt32> = []
    /// Segments to delete once the log is synced past the position: their carried records
    /// must be durable first.
    private var deleteAfterSync: [(segment: UInt32, position: UInt64)] = []

    public init(directory: String, segmentSize: Int = 16 << 20, syncer: any StoreSyncer) {
        self.files = SegmentFiles(directory: directory)
        self.segmentSize = segmentSize
        self.syncer = syncer
    }

    /// How many stored messages are live, and how many segment files hold them.
    public var liveMessageCount: Int { live.count }
    public var segmentCount: Int { segmentsOnDisk.count }

    // MARK: Start-up

    /// Replays the segments on disk (repairing a torn tail, skipping corrupt records), hands
    /// each surviving message to `recover` in its queue's order (which returns false when the
    /// queue no longer exists: the message is then dropped for good), and opens a fresh segment
    /// for new writes.
    public func open(recover: (QueueKey, RecoveredMessage) -> Bool) throws -> StoreRecovery {
        try files.createDirectory()
        var replay = LogReplay()
        var report: [String] = []
        let indices = try files.existing()
        for (position, index) in indices.enumerated() {
            let bytes = try files.read(index)
            let outcome = replay.scan(segment: index, bytes: bytes)
            report += outcome.problems.map { "\(files.path(of: index)): \($0)" }
            if let validLength = outcome.truncateTo, position == indices.count - 1 {
                try files.truncate(index, to: validLength)
                report.append("\(files.path(of: index)): truncated to \(validLength) bytes")
            }
        }
        nextID = replay.highestID + 1
        segmentsOnDisk = indices
        currentIndex = (indices.last ?? 0) + 1
        currentDescriptor = try files.create(currentIndex)
        segmentsOnDisk.append(currentIndex)
        let now = Self.epochMilliseconds()
        var orphans: [(QueueKey, UInt64)] = []
        for index in indices {
            let bytes = try files.read(index)
            replay.replay(
                segment: index, bytes: bytes, now: now,
                recovered: { key, message in
                    if recover(key, message) { return true }
                    orphans.append((key, message.message.storeID))
                    return false
                },
                held: { id, holders in live.add(id, holders: holders, in: index) })
        }
        // Messages whose queue is gone are settled, so the next start does not offer them again.
        for (key, id) in orphans { append(.settle(key, id)) }
        removeSettledSegments()
        return StoreRecovery(delayed: replay.recoveredDelayed(now: now), report: report)
    }

    // MARK: PersistentMessageLog

    public func persist(_ message: inout Message, into queues: [Queue]) -> UInt64? {
        guard BasicProperties.isPersistent(message.header) else { return nil }
        var targets: [PublishRecord.Target] = []
        let now = Self.epochMilliseconds()
        for queue in queues where queue.isSaved && !queue.isDeleted {
            var expiresAt: UInt64 = 0
            if queue.settings.messageTTL != nil || message.expiration != nil {
                expiresAt = now + min(queue.settings.messageTTL ?? .max / 2, message.expiration ?? .max / 2)
            }
            targets.append(.init(queue: queue.name, sequence: queue.upcomingSequence, expiresAt: expiresAt))
        }
        guard let vhost = queues.first?.vhost, !targets.isEmpty else { return nil }
        let id = nextID
        nextID += 1
        let location = UInt64(currentIndex) << 32 | UInt64(currentBytes + pending.readableBytes)
        append(
            .publish(
                PublishRecord(
                    id: id, vhost: vhost, targets: targets, exchange: message.exchange,
                    routingKey: message.routingKey, header: message.header, body: message.body)))
        live.add(id, holders: targets.count, in: currentIndex)
        message.storeID = id
        message.storeLocation = location
        return appendedPosition
    }

    public func load(storeID: UInt64, location: UInt64) -> Message? {
        let segment = UInt32(location >> 32)
        let offset = Int(location & 0xFFFF_FFFF)
        let bytes: ByteBuffer
        if segment == currentIndex && offset >= currentBytes {
            // Not written yet: still in this read cycle's buffer.
            let start = pending.readerIndex + offset - currentBytes
            guard let view = pending.getSlice(at: start, length: pending.writerIndex - start) else { return nil }
            bytes = view
        } else {
            guard let descriptor = readDescriptor(segment), let record = files.readRecord(descriptor, at: offset) else {
                return nil
            }
            bytes = record
        }
        guard case .record(.publish(let record), _) = LogRecord.read(from: bytes), record.id == storeID else {
            return nil
        }
        var message = Message(
            exchange: record.exchange, routingKey: record.routingKey, header: record.header, body: record.body,
            expiration: try? MessageExpiration.of(record.header))
        message.storeID = storeID
        message.storeLocation = location
        return message
    }

    private func readDescriptor(_ segment: UInt32) -> Int32? {
        if let descriptor = readDescriptors[segment] { return descriptor }
        guard let descriptor = files.openForReading(segment) else { return nil }
        readDescriptors[segment] = descriptor
        return descriptor
    }

    public func settled(_ storeID: UInt64, in queue: Queue) {
        settle(storeID, QueueKey(vhost: queue.vhost, queue: queue.name))
    }

    public func persistDelayed(
        _ message: inout Message, exchange: Exchange, extraRoutingKeys: [String], delay: UInt64
    ) -> UInt64? {
        guard BasicProperties.isPersistent(message.header) else { return nil }
        let id = nextID
        nextID += 1
        append(
            .delayed(
                DelayedRecord(
                    id: id, vhost: exchange.vhost, exchange: exchange.name, dueAt: Self.epochMilliseconds() + delay,
                    routingKey: message.routingKey, extraRoutingKeys: extraRoutingKeys, header: message.header,
                    body: message.body)))
        live.add(id, holders: 1, in: currentIndex)
        message.storeID = id
        return appendedPosition
    }

    public func releasedDelayed(_ storeID: UInt64, vhost: String) {
        append(.released(vhost: vhost, id: storeID))
        release(storeID)
    }

    /// Settles a message for a queue that may no longer exist (recovered orphans).
    public func settle(_ storeID: UInt64, _ key: QueueKey) {
        append(.settle(key, storeID))
        release(storeID)
    }

    /// One fewer holder of a stored message; the last one lets its segment go.
    private func release(_ storeID: UInt64) {
        if live.release(storeID) != nil { removeSettledSegments() }
    }

    public func delivered(_ storeID: UInt64, in queue: Queue) {
        append(.delivered(QueueKey(vhost: queue.vhost, queue: queue.name), storeID))
    }

    public func returned(_ storeID: UInt64, in queue: Queue) {
        append(.returned(QueueKey(vhost: queue.vhost, queue: queue.name), storeID))
    }

    public func deleted(_ queue: Queue) {
        append(.queueDeleted(QueueKey(vhost: queue.vhost, queue: queue.name)))
    }

    private func append(_ record: LogRecord) {
        guard !isClosed else { return }
        let before = pending.writerIndex
        do {
            try record.encode(into: &pending)
        } catch {
            // Only over-long names fail, and AMQP caps names at 255 bytes before they get here.
            pending.moveWriterIndex(to: before)
            return
        }
        appendedPosition += UInt64(pending.writerIndex - before)
        if case .queueDeleted = record { oldestFirstOnly.insert(currentIndex) }
    }

    // MARK: Writing and group commit

    /// Writes what this read cycle appended with one `write`, starts a new segment if the
    /// current one is full, and starts an fsync unless one is running (the next covers all
    /// written meanwhile).
    public func flush() {
        if pending.readableBytes > 0 {
            let size = pending.readableBytes
            do {
                try files.write(&pending, to: currentDescriptor, path: files.path(of: currentIndex))
            } catch {
                // Kept in memory and retried at the next flush; nothing is confirmed meanwhile.
                currentBytes += size - pending.readableBytes
                writtenPosition = appendedPosition - UInt64(pending.readableBytes)
                onError?("message store: \(error)")
                return
            }
            pending.clear()
            currentBytes += size
            writtenPosition = appendedPosition
            if currentBytes >= segmentSize { rotate() }
        }
        startSync()
    }

    private func rotate() {
        do {
            let next = currentIndex + 1
            let descriptor = try files.create(next)
            rotatedDescriptors.append(currentDescriptor)
            currentIndex = next
            currentDescriptor = descriptor
            currentBytes = 0
            segmentsOnDisk.append(next)
        } catch {
            onError?("message store: cannot start a new segment: \(error)")
        }
    }

    private func startSync() {
        guard !syncInFlight, !syncFailed, !isClosed, writtenPosition > syncedPosition else { return }
        syncInFlight = true
        let target = writtenPosition
        let rotated = rotatedDescriptors
        rotatedDescriptors = []
        syncer.sync(rotated + [currentDescriptor]) { [weak self] succeeded in
            guard let self else { return }
            self.syncInFlight = false
            guard !self.isClosed else { return }
            guard succeeded else {
                // After a failed fsync the kernel may have dropped the dirty pages, and a retry
                // can report success for lost data: stop confirming rather than lie.
                self.syncFailed = true
                self.onError?("message store: fsync failed; persistent messages are no longer confirmed")
                return
            }
            self.syncedPosition = target
            for descriptor in rotated { Glibc.close(descriptor) }
            if !self.deleteAfterSync.isEmpty { self.deleteSyncedSegments() }
            self.onSynced?(target)
            self.startSync()
        }
    }

    /// Deletes the oldest segments while every message in them is settled. Only a prefix goes:
    /// a later segment may hold the settle records of messages in an earlier one.
    ///
    /// A segment further along goes too, so that one long-lived message does not keep every
    /// later segment: its records about messages of segments that stay are written again
    /// first, and the file is deleted once those copies are synced.
    private func removeSettledSegments() {
        let deleting = Set(deleteAfterSync.map(\.segment))
        for segment in segmentsOnDisk where segment != currentIndex && live.liveCount(in: segment) == 0 {
            guard !deleting.contains(segment) else { continue }
            let isOldest = segment == segmentsOnDisk.first
            guard isOldest || !oldestFirstOnly.contains(segment) else { continue }
            if isOldest {
                removeSegment(segment)
                continue
            }
            guard let carried = recordsToCarry(from: segment) else {
                oldestFirstOnly.insert(segment)
                continue
            }
            for record in carried { append(record) }
            deleteAfterSync.append((segment, appendedPosition))
        }
        deleteSyncedSegments()
    }

    /// Deletes the segments whose carried records the log has synced.
    private func deleteSyncedSegments() {
        deleteAfterSync.removeAll { entry in
            guard entry.position <= syncedPosition else { return false }
            removeSegment(entry.segment)
            return true
        }
        // With the one ahead of it gone, an oldest-first-only segment may now be the oldest.
        if let oldest = segmentsOnDisk.first, oldest != currentIndex, live.liveCount(in: oldest) == 0,
            !deleteAfterSync.contains(where: { $0.segment == oldest })
        {
            removeSegment(oldest)
            removeSettledSegments()
        }
    }

    private func removeSegment(_ segment: UInt32) {
        files.remove(segment)
        if let descriptor = readDescriptors.removeValue(forKey: segment) { Glibc.close(descriptor) }
        segmentsOnDisk.removeAll { $0 == segment }
        live.forget(segment)
        oldestFirstOnly.remove(segment)
    }

    /// The records in `segment` about messages of older segments still on disk (read back from
    /// the file, so nothing is kept in memory for it); nil if the segment cannot be read or
    /// holds a queue deletion.
    private func recordsToCarry(from segment: UInt32) -> [LogRecord]? {
        guard let bytes = try? files.read(segment) else { return nil }
        var carried: [LogRecord] = []
        var hasQueueDeletion = false
        LogReplay.forEachRecord(in: bytes) { record, _ in
            if case .queueDeleted = record { hasQueueDeletion = true }
            guard let id = Self.messageID(of: record), let older = live.segment(of: id), older < segment,
                segmentsOnDisk.contains(older)
            else { return }
            carried.append(record)
        }
        return hasQueueDeletion ? nil : carried
    }

    private static func messageID(of record: LogRecord) -> UInt64? {
        switch record {
        case .settle(_, let id), .delivered(_, let id), .returned(_, let id), .released(_, let id): id
        default: nil
        }
    }

    /// Writes and syncs what is left and closes the files, at shutdown. A background fsync
    /// still running finds its files closed and is ignored.
    public func close() {
        guard !isClosed else { return }
        flush()
        for descriptor in rotatedDescriptors + [currentDescriptor] {
            fsync(descriptor)
            Glibc.close(descriptor)
        }
        for descriptor in readDescriptors.values { Glibc.close(descriptor) }
        readDescriptors = [:]
        isClosed = true
        rotatedDescriptors = []
        currentDescriptor = -1
    }

    static func epochMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}

/// What ``MessageStore/open(recover:)`` found besides the queues' messages: delayed messages
/// and any repairs made.
public struct StoreRecovery {
    /// What durable delayed exchanges held, by virtual host.
    public var delayed: [String: [RecoveredDelayedMessage]]
    /// One line per torn tail truncated or corrupt region skipped, naming file and offset.
    public var report: [String]
}

/// Which stored messages are still held, in a few bytes per segment instead of an entry per
/// message: ids are handed out in log order, so a message's segment follows from its id, and
/// only messages on several durable queues need a count of their own.
///
/// Relies on each holder settling a message exactly once, which the queues guarantee.
struct LiveMessages {
    /// The lowest live id of each segment that holds live messages, ascending.
    private var firstIDs: [(segment: UInt32, firstID: UInt64)] = []
    private var liveInSegment: [UInt32: Int] = [:]
    /// Holders beyond the first, for messages on several durable queues.
    private var extraHolders: [UInt64: Int32] = [:]
    private(set) var count = 0

    /// Records a stored message with `holders` durable queues (or one delayed exchange).
    /// Messages must be added in id order, as the log holds them.
    mutating func add(_ id: UInt64, holders: Int, in segment: UInt32) {
        if firstIDs.last?.segment != segment { firstIDs.append((segment, id)) }
        liveInSegment[segment, default: 0] += 1
        if holders > 1 { extraHolders[id] = Int32(holders - 1) }
        count += 1
    }

    /// One holder let go of `id`; returns its segment when that segment has no live message left.
    mutating func release(_ id: UInt64) -> UInt32? {
        if let extra = extraHolders[id] {
            extraHolders[id] = extra > 1 ? extra - 1 : nil
            return nil
        }
        guard let segment = segment(of: id), let live = liveInSegment[segment], live > 0 else { return nil }
        liveInSegment[segment] = live - 1
        count -= 1
        return live == 1 ? segment : nil
    }

    func liveCount(in segment: UInt32) -> Int {
        liveInSegment[segment, default: 0]
    }

    /// The segment is gone from disk.
    mutating func forget(_ segment: UInt32) {
        liveInSegment[segment] = nil
        firstIDs.removeAll { $0.segment == segment }
    }

    /// The segment `id` was written to, if that segment is still on disk (for an id of a
    /// deleted segment the answer may be an older segment; callers only use it to decide what
    /// to keep, where keeping too much is harmless).
    func segment(of id: UInt64) -> UInt32? {
        var low = 0
        var high = firstIDs.count - 1
        var found: UInt32?
        while low <= high {
            let mid = (low + high) / 2
            if firstIDs[mid].firstID <= id {
                found = firstIDs[mid].segment
                low = mid + 1
            } else {
                high = mid - 1
            }
        }
        return found
    }
}

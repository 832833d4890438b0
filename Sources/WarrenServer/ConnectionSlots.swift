import DequeModule

/// `connection_max` as RabbitMQ enforces it: a socket beyond the limit is accepted but left
/// unread, with no handshake timer running, until an earlier one closes; then it is served
/// as if it had just connected. Every socket counts, logged in or not.
final class ConnectionSlots {
    let limit: Int?
    private(set) var inUse = 0
    private var waiting: Deque<(id: ObjectIdentifier, start: () -> Void)> = []

    init(limit: Int?) {
        self.limit = limit
    }

    /// Takes a slot and returns true if one is free; otherwise returns false and runs
    /// `start` once a slot frees up for this socket.
    func acquire(_ id: ObjectIdentifier, start: @escaping () -> Void) -> Bool {
        if let limit, inUse >= limit {
            waiting.append((id, start))
            return false
        }
        inUse += 1
        return true
    }

    /// A socket closed: frees its slot and starts the longest-waiting one, or just forgets a
    /// socket that closed while it waited.
    func release(_ id: ObjectIdentifier, started: Bool) {
        guard started else {
            waiting.removeAll { $0.id == id }
            return
        }
        inUse -= 1
        if let next = waiting.popFirst() {
            inUse += 1
            next.start()
        }
    }
}

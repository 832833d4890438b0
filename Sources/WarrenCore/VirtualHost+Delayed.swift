import AMQPWire

/// Delayed messages: held per virtual host, routed through their exchange when due.
extension VirtualHost {
    /// Holds `message`, published to the delayed exchange `exchange`, for `delay` milliseconds;
    /// a persistent message on a durable exchange is stored first, and the store ticket its
    /// confirm must wait for is returned.
    @discardableResult
    public func delay(
        _ message: Message, by delay: UInt64, through exchange: Exchange, extraRoutingKeys: [String],
        onUnroutable: ((Message) -> Void)?
    ) -> UInt64? {
        var message = message
        var ticket: UInt64?
        if exchange.durable {
            ticket = messageLog?.persistDelayed(
                &message, exchange: exchange, extraRoutingKeys: extraRoutingKeys, delay: delay)
        }
        let dueAt = clock.milliseconds() + delay
        delayed.insert(
            message, dueAt: dueAt, exchange: exchange, extraRoutingKeys: extraRoutingKeys, onUnroutable: onUnroutable)
        scheduleDelayed()
        return ticket
    }

    /// Puts back what a durable delayed exchange held before a restart; messages whose
    /// exchange is gone are released (dropped).
    public func restoreDelayed(_ recovered: [RecoveredDelayedMessage]) {
        for entry in recovered {
            guard let exchange = exchanges[entry.exchange], exchange.isDelayed else {
                messageLog?.releasedDelayed(entry.message.storeID, vhost: name)
                continue
            }
            delayed.insert(
                entry.message, dueAt: clock.milliseconds() + entry.remainingDelay, exchange: exchange,
                extraRoutingKeys: entry.extraRoutingKeys, onUnroutable: nil)
        }
        scheduleDelayed()
    }

    /// How many messages delayed exchanges hold.
    public var delayedMessageCount: Int { delayed.count }

    private func scheduleDelayed() {
        guard let next = delayed.nextDue, delayed.scheduledAt == 0 || next < delayed.scheduledAt else { return }
        delayed.scheduledAt = next
        expiryScheduler?.schedule(at: next) { [weak self] in self?.releaseDelayed() }
    }

    /// Routes every message that is due; one whose exchange has since been deleted is dropped.
    func releaseDelayed() {
        delayed.scheduledAt = 0
        var routed: [Queue] = []
        for entry in delayed.popDue(at: clock.milliseconds()) {
            let storeID = entry.message.storeID
            defer { if storeID != 0 { messageLog?.releasedDelayed(storeID, vhost: name) } }
            guard exchanges[entry.exchange.name] === entry.exchange else { continue }
            routed.removeAll(keepingCapacity: true)
            var message = entry.message
            // Routed as a new publish: stored again for the durable queues it reaches.
            message.storeID = 0
            route(
                exchange: entry.exchange, routingKey: message.routingKey, extraRoutingKeys: entry.extraRoutingKeys,
                headers: { try? message.header.properties().headers }, into: &routed)
            if routed.isEmpty { entry.onUnroutable?(message) }
            _ = messageLog?.persist(&message, into: routed)
            for queue in routed {
                queue.enqueue(message)
            }
        }
        scheduleDelayed()
    }
}

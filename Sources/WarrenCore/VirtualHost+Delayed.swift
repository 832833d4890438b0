import AMQPWire

/// Delayed messages: held per virtual host, routed through their exchange when due.
extension VirtualHost {
    /// Holds `message`, published to the delayed exchange `exchange`, for `delay` milliseconds.
    public func delay(
        _ message: Message, by delay: UInt64, through exchange: Exchange, extraRoutingKeys: [String],
        onUnroutable: ((Message) -> Void)?
    ) {
        let dueAt = clock.milliseconds() + delay
        delayed.insert(
            message, dueAt: dueAt, exchange: exchange, extraRoutingKeys: extraRoutingKeys, onUnroutable: onUnroutable)
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
        for entry in delayed.popDue(at: clock.milliseconds()) where exchanges[entry.exchange.name] === entry.exchange {
            routed.removeAll(keepingCapacity: true)
            var message = entry.message
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

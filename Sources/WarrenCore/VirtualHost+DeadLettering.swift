import AMQPWire

/// Dead-lettering: a queue's given-up messages are republished, with `x-death` recorded, to its
/// dead-letter exchange in this virtual host.
///
/// As in RabbitMQ this is at most once: no confirms, no mandatory returns; a missing
/// dead-letter exchange drops the message; a queue the copy would reach again without any
/// rejection on the way (an automatic cycle) is skipped, so a loop cannot spin forever.
extension VirtualHost: DeadLetterTarget {
    public func deadLetter(_ messages: [Message], from queue: Queue, reason: DeadLetterReason) {
        guard let exchangeName = queue.settings.deadLetterExchange, let exchange = exchanges[exchangeName] else {
            return
        }
        let time = clock.epochSeconds()
        var routed: [Queue] = []
        for original in messages {
            guard
                let copy = DeadLetter(
                    original, reason: reason, queue: queue.name, exchange: exchangeName,
                    routingKey: queue.settings.deadLetterRoutingKey, time: time)
            else { continue }
            routed.removeAll(keepingCapacity: true)
            route(
                exchange: exchange, routingKey: copy.routingKeys[0],
                extraRoutingKeys: Array(copy.routingKeys.dropFirst()),
                headers: { try? copy.message.header.properties().headers }, into: &routed)
            let targets = routed.filter {
                reason == .rejected || !DeadLetter.isCycle(queue: $0.name, deaths: copy.deaths)
            }
            var message = copy.message
            // A persistent copy on a durable queue is stored like any publish (no confirm waits).
            _ = messageLog?.persist(&message, into: targets)
            for target in targets {
                target.enqueue(message)
            }
        }
    }
}

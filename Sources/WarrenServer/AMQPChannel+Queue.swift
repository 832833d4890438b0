import AMQPWire
import WarrenCore

/// The `queue` class: declare, bind, unbind, purge, delete.
extension AMQPChannel {
    func queueDeclare(_ m: Spec.Queue.Declare) throws {
        if m.queue.hasPrefix(Self.directReplyQueue) { return try declareDirectReplyQueue(m) }
        let access = connection.access
        let queue = try vhost.declareQueue(
            name: m.queue, passive: m.passive, durable: m.durable, exclusive: m.exclusive, autoDelete: m.autoDelete,
            arguments: m.arguments, connection: connection.id
        ) { name, creating in
            try access.check(.configure, .queue, name)
            // Dead-lettering moves the queue's messages to that exchange: read here, write there.
            if creating, let exchange = m.arguments["x-dead-letter-exchange"]?.stringValue {
                try access.check(.read, .queue, name)
                try access.check(.write, .exchange, exchange)
            }
        }
        lastDeclaredQueue = queue.name
        if !m.noWait {
            send(
                .queueDeclareOk(
                    Spec.Queue.DeclareOk(
                        queue: queue.name, messageCount: UInt32(clamping: queue.messageCount),
                        consumerCount: UInt32(clamping: queue.consumerCount))))
        }
    }

    /// An empty queue name means "the last queue declared on this channel", per the spec.
    func resolveQueueName(_ name: String) throws -> String {
        if !name.isEmpty { return name }
        guard let last = lastDeclaredQueue else {
            throw AMQPError(.notFound, "no previously declared queue")
        }
        return last
    }

    func queueBind(_ m: Spec.Queue.Bind) throws {
        let name = try resolveQueueName(m.queue)
        try checkBinding(.queue, name, source: m.exchange, routingKey: m.routingKey)
        let queue = try vhost.queue(named: name, usableBy: connection.id)
        // The spec's shortcut: no queue and no key means "the last declared queue, by its name".
        let routingKey = m.queue.isEmpty && m.routingKey.isEmpty ? queue.name : m.routingKey
        try vhost.bind(destination: .queue(queue), source: m.exchange, routingKey: routingKey, arguments: m.arguments)
        if !m.noWait { send(.queueBindOk(.init())) }
    }

    func queueUnbind(_ m: Spec.Queue.Unbind) throws {
        let name = try resolveQueueName(m.queue)
        try checkBinding(.queue, name, source: m.exchange, routingKey: m.routingKey)
        let queue = try vhost.queue(named: name, usableBy: connection.id)
        let routingKey = m.queue.isEmpty && m.routingKey.isEmpty ? queue.name : m.routingKey
        try vhost.unbind(
            destination: .queue(queue), source: m.exchange, routingKey: routingKey, arguments: m.arguments)
        send(.queueUnbindOk(.init()))
    }

    func queuePurge(_ m: Spec.Queue.Purge) throws {
        let name = try resolveQueueName(m.queue)
        try connection.access.check(.read, .queue, name)
        let queue = try vhost.queue(named: name, usableBy: connection.id)
        let count = queue.purge()
        if !m.noWait { send(.queuePurgeOk(.init(messageCount: UInt32(clamping: count)))) }
    }

    func queueDelete(_ m: Spec.Queue.Delete) throws {
        let name = try resolveQueueName(m.queue)
        try connection.access.check(.configure, .queue, name)
        let count: Int
        do {
            count = try vhost.deleteQueue(
                name: name, ifUnused: m.ifUnused, ifEmpty: m.ifEmpty, connection: connection.id)
        } catch let error as AMQPError where error.code == .notFound {
            // RabbitMQ answers delete-ok with 0 for a queue that does not exist.
            count = 0
        }
        if !m.noWait { send(.queueDeleteOk(.init(messageCount: UInt32(clamping: count)))) }
    }
}

import AMQPWire
import NIOCore
import WarrenCore

/// The firehose tracer, as RabbitMQ's `rabbit_trace`: while a vhost traces, each message
/// published in it is copied to `amq.rabbitmq.trace` with routing key `publish.<exchange>`,
/// and each delivery with `deliver.<queue>`.
///
/// A copy carries the original body (the same buffer, not copied) and, as its only property,
/// headers describing the event: `exchange_name`, `routing_keys`, `properties` (the original
/// properties), `node`, then `connection`, `channel`, `user` and `routed_queues` (publish) or
/// `redelivered` (deliver). Messages published to the trace exchange itself are never traced,
/// so consuming the trace cannot feed it.
extension AMQPChannel {
    func tracePublish(_ message: Message, extraRoutingKeys: [String], routedQueues: [Queue]) {
        guard message.exchange != VirtualHost.traceExchange else { return }
        var headers = traceHeaders(message, routingKeys: [message.routingKey] + extraRoutingKeys)
        headers["routed_queues"] = .array(routedQueues.map { .string($0.name) })
        publishTrace(message, routingKey: "publish." + message.exchange, headers: headers)
    }

    func traceDelivery(_ queued: QueuedMessage, from queue: Queue) {
        let message = queued.message
        guard message.exchange != VirtualHost.traceExchange else { return }
        var headers = traceHeaders(message, routingKeys: [message.routingKey])
        headers["redelivered"] = .int32(queued.redelivered ? 1 : 0)
        publishTrace(message, routingKey: "deliver." + queue.name, headers: headers)
    }

    private func traceHeaders(_ message: Message, routingKeys: [String]) -> [String: FieldValue] {
        let properties = (try? message.header.properties()) ?? BasicProperties()
        return [
            "exchange_name": .string(message.exchange), "routing_keys": .array(routingKeys.map(FieldValue.string)),
            "properties": .table(properties.table), "node": .string(connection.broker.settings.nodeName),
            "connection": .string(connection.name), "channel": .int32(Int32(number)),
            "user": .string(connection.user),
        ]
    }

    private func publishTrace(_ message: Message, routingKey: String, headers: [String: FieldValue]) {
        guard let exchange = vhost.exchanges[VirtualHost.traceExchange] else { return }
        let table = FieldTable(
            headers.sorted { $0.key < $1.key }.map { FieldTable.Entry(key: $0.key, value: $0.value) })
        guard
            let header = try? ContentHeader(
                bodySize: UInt64(message.body.readableBytes), properties: BasicProperties(headers: table))
        else { return }
        let trace = Message(exchange: exchange.name, routingKey: routingKey, header: header, body: message.body)
        let queues = vhost.route(exchange: exchange, routingKey: routingKey, headers: { table })
        if !queues.isEmpty { _ = connection.broker.enqueue(trace, into: queues) }
    }
}

extension BasicProperties {
    /// The properties as a field table with RabbitMQ's names, as the firehose reports them.
    var table: FieldTable {
        var entries: [FieldTable.Entry] = []
        func add(_ key: String, _ value: FieldValue?) {
            if let value { entries.append(FieldTable.Entry(key: key, value: value)) }
        }
        add("content_type", contentType.map(FieldValue.string))
        add("content_encoding", contentEncoding.map(FieldValue.string))
        add("headers", headers.map(FieldValue.table))
        add("delivery_mode", deliveryMode.map { .uint8($0) })
        add("priority", priority.map { .uint8($0) })
        add("correlation_id", correlationID.map(FieldValue.string))
        add("reply_to", replyTo.map(FieldValue.string))
        add("expiration", expiration.map(FieldValue.string))
        add("message_id", messageID.map(FieldValue.string))
        add("timestamp", timestamp.map { .timestamp($0) })
        add("type", type.map(FieldValue.string))
        add("user_id", userID.map(FieldValue.string))
        add("app_id", appID.map(FieldValue.string))
        add("cluster_id", clusterID.map(FieldValue.string))
        return FieldTable(entries)
    }
}

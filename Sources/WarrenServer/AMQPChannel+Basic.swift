import AMQPWire
import NIOCore
import WarrenCore

/// The `basic` class: qos, consume, cancel, publish, get, ack, reject, nack, recover.
extension AMQPChannel {
    func basicQos(_ m: Spec.Basic.Qos) throws {
        guard m.prefetchSize == 0 else {
            throw AMQPError(.notImplemented, "prefetch_size!=0 (\(m.prefetchSize))")
        }
        if m.global {
            channelPrefetch = m.prefetchCount
        } else {
            consumerPrefetch = m.prefetchCount
        }
        send(.basicQosOk(.init()))
        dispatchConsumedQueues()
    }

    func basicConsume(_ m: Spec.Basic.Consume) throws {
        if m.queue == Self.directReplyQueue { return try consumeDirectReplies(m) }
        let name = try resolveQueueName(m.queue)
        try connection.access.check(.read, .queue, name)
        let queue = try vhost.queue(named: name, usableBy: connection.id)
        let tag = m.consumerTag.isEmpty ? "amq.ctag-" + RandomToken.make() : m.consumerTag
        guard consumers[tag] == nil else {
            throw AMQPError(.notAllowed, "attempt to reuse consumer tag '\(tag)'")
        }
        if let priority = m.arguments["x-priority"], priority.integerValue == nil {
            throw AMQPError(
                .preconditionFailed,
                "invalid arg 'x-priority' for queue '\(queue.name)' in vhost '\(vhost.name)': \"expected integer, got \(ArgumentValidation.typeName(priority))\""
            )
        }
        // A single-active-consumer queue refuses exclusive consumers outright, as RabbitMQ does.
        if queue.consumers.contains(where: \.exclusive)
            || (m.exclusive && (queue.consumerCount > 0 || queue.isSingleActiveConsumer))
        {
            throw AMQPError(.accessRefused, "queue '\(queue.name)' in vhost '\(vhost.name)' in exclusive use")
        }
        let consumer = Consumer(
            tag: tag, noAck: m.noAck, exclusive: m.exclusive, arguments: m.arguments, owner: self,
            prefetchLimit: consumerPrefetch)
        consumers[tag] = (consumer, queue)
        if !m.noWait { send(.basicConsumeOk(.init(consumerTag: tag))) }
        queue.addConsumer(consumer)
    }

    func basicCancel(_ m: Spec.Basic.Cancel) {
        if let (consumer, queue) = consumers.removeValue(forKey: m.consumerTag) {
            queue.removeConsumer(consumer)
        } else if directReply?.consumerTag == m.consumerTag {
            cancelDirectReplies()
        }
        if !m.noWait { send(.basicCancelOk(.init(consumerTag: m.consumerTag))) }
    }

    /// A publish whose header and body have all arrived: route it, enqueue it (or hold it
    /// for `tx.commit`), return it if mandatory and unroutable, and confirm it.
    func publish(_ m: Spec.Basic.Publish, header: ContentHeader, body: ByteBuffer) throws {
        var header = header
        if m.immediate {
            throw AMQPError(.notImplemented, "immediate=true")
        }
        let access = connection.access
        try access.checkPublish(to: m.exchange)
        let exchange = try vhost.exchange(named: m.exchange)
        if exchange.isInternal {
            throw AMQPError(
                .accessRefused, "cannot publish to internal exchange '\(m.exchange)' in vhost '\(vhost.name)'")
        }
        try access.checkTopicPublish(to: exchange, routingKey: m.routingKey)
        try checkUserID(header)
        try rewriteDirectReplyTo(&header)
        // Queued messages share the exchange's name and, while a publisher repeats it, one
        // routing-key string, instead of each holding its own decoded copy.
        if m.routingKey != lastRoutingKey { lastRoutingKey = m.routingKey }
        var message = Message(
            exchange: exchange.name, routingKey: lastRoutingKey, header: header, body: body,
            expiration: try MessageExpiration.of(header))
        let senderSelected = try senderSelectedDistribution(&message)
        if mode == .confirm { publishSequence += 1 }
        stats.publish &+= 1
        exchange.stats.publish &+= 1
        if exchange.isDelayed, let delay = message.requestedDelay {
            // Accepted (and confirmed) now; routed when due, and returned then if mandatory.
            let onUnroutable: ((Message) -> Void)? = m.mandatory ? { [weak self] in self?.returnUnroutable($0) } : nil
            let ticket = vhost.delay(
                message, by: delay, through: exchange, extraRoutingKeys: senderSelected?.routingKeys ?? [],
                onUnroutable: onUnroutable)
            if mode == .confirm { confirm(publishSequence, ticket: ticket) }
            return
        }
        routedQueues.removeAll(keepingCapacity: true)
        let headers = { [message] in try? message.header.properties().headers }
        vhost.route(
            exchange: exchange, routingKey: message.routingKey, extraRoutingKeys: senderSelected?.routingKeys ?? [],
            headers: headers, into: &routedQueues)
        // No queue may be named amq.*, so only a key that reached no queue can be a reply address.
        if exchange.isDefault && routedQueues.count <= senderSelected?.routingKeys.count ?? 0 {
            deliverDirectReplies(message, keys: [message.routingKey] + (senderSelected?.routingKeys ?? []))
        }
        if !routedQueues.isEmpty { exchange.stats.publishOut &+= 1 }
        if vhost.isTracing {
            tracePublish(message, extraRoutingKeys: senderSelected?.routingKeys ?? [], routedQueues: routedQueues)
        }
        if mode == .transactional {
            // Routed now, as RabbitMQ does; enqueued (or returned) at commit.
            transaction.publishes.append((routedQueues, m.mandatory, message))
            return
        }
        let (accepted, ticket) = enqueue(message, into: routedQueues, mandatory: m.mandatory)
        if mode == .confirm {
            if accepted { confirm(publishSequence, ticket: ticket) } else { rejectPublish(publishSequence) }
        }
    }

    /// Reads `CC`/`BCC` (only messages that carry headers pay for the look), and strips `BCC`
    /// from the message that will be delivered.
    private func senderSelectedDistribution(_ message: inout Message) throws -> SenderSelectedDistribution? {
        guard message.header.propertyFlags & BasicProperties.headersFlag != 0,
            var properties = try? message.header.properties(), let headers = properties.headers,
            let distribution = try SenderSelectedDistribution(headers: headers)
        else { return nil }
        if headers["BCC"] != nil {
            message.blindCopyKeys = distribution.bcc
            properties.headers?["BCC"] = nil
            message.header = try ContentHeader(
                classID: message.header.classID, bodySize: message.header.bodySize, properties: properties)
        }
        return distribution
    }

    /// RabbitMQ's validated `user-id`: if set, it must name the authenticated user.
    private func checkUserID(_ header: ContentHeader) throws {
        guard header.propertyFlags & BasicProperties.userIDFlag != 0,
            let claimed = try? header.properties().userID
        else { return }
        try connection.access.checkUserID(claimed)
    }

    /// Enqueues a routed message, writing it to the message store first if it is persistent
    /// and a queue is durable; sends `basic.return` for a mandatory message no queue took.
    /// Returns whether every queue accepted it (a length limit with `reject-publish` refuses:
    /// the publisher is then nacked, though the queues that took it keep it, as in RabbitMQ),
    /// and the store ticket its confirm must wait for.
    @discardableResult
    func enqueue(_ message: Message, into queues: [Queue], mandatory: Bool) -> (accepted: Bool, ticket: UInt64?) {
        if queues.isEmpty {
            if mandatory { returnUnroutable(message) } else { stats.dropUnroutable &+= 1 }
            return (true, nil)
        }
        return connection.broker.enqueue(message, into: queues)
    }

    /// `basic.return` with 312 NO_ROUTE for a mandatory message that reached no queue.
    func returnUnroutable(_ message: Message) {
        guard !isClosing else { return }
        stats.returnUnroutable &+= 1
        connection.sendContent(
            channel: number,
            .basicReturn(
                Spec.Basic.Return(
                    replyCode: ReplyCode.noRoute.rawValue, replyText: "NO_ROUTE", exchange: message.exchange,
                    routingKey: message.routingKey)),
            message)
    }

    func basicGet(_ m: Spec.Basic.Get) throws {
        let name = try resolveQueueName(m.queue)
        try connection.access.check(.read, .queue, name)
        let queue = try vhost.queue(named: name, usableBy: connection.id)
        guard let message = queue.get(noAck: m.noAck) else {
            send(.basicGetEmpty(.init()))
            return
        }
        lastDeliveryTag += 1
        stats.recordDelivery(noAck: m.noAck, get: true, redelivered: message.redelivered)
        if vhost.isTracing { traceDelivery(message, from: queue) }
        if !m.noAck {
            unacked.append(
                Unacked(
                    deliveryTag: lastDeliveryTag, queue: queue, message: message, consumer: nil,
                    deadline: acknowledgementDeadline(queue)))
        }
        connection.sendContent(
            channel: number,
            .basicGetOk(
                Spec.Basic.GetOk(
                    deliveryTag: lastDeliveryTag, redelivered: message.redelivered, exchange: message.message.exchange,
                    routingKey: message.message.routingKey, messageCount: UInt32(clamping: queue.messageCount))),
            message.message)
    }

    func basicAck(_ m: Spec.Basic.Ack) throws {
        if mode == .transactional {
            transaction.settlements.append((try takeUnacked(m.deliveryTag, multiple: m.multiple), .acknowledge))
            return
        }
        // The hot path: settle in place, no intermediate array.
        let range = try unackedRange(m.deliveryTag, multiple: m.multiple)
        stats.ack &+= UInt64(range.count)
        for index in range {
            let delivery = unacked[index]
            delivery.consumer?.unackedCount -= 1
            delivery.queue.acknowledge(delivery.message)
        }
        unacked.removeSubrange(range)
        dispatchConsumedQueues()
    }

    func basicReject(_ m: Spec.Basic.Reject) throws {
        let settled = try takeUnacked(m.deliveryTag, multiple: false)
        let outcome: Settlement = m.requeue ? .requeue : .discard
        if mode == .transactional {
            transaction.settlements.append((settled, outcome))
            return
        }
        settle(settled, outcome)
    }

    func basicNack(_ m: Spec.Basic.Nack) throws {
        let settled = try takeUnacked(m.deliveryTag, multiple: m.multiple)
        let outcome: Settlement = m.requeue ? .requeue : .discard
        if mode == .transactional {
            transaction.settlements.append((settled, outcome))
            return
        }
        settle(settled, outcome)
    }

    func basicRecover(requeue: Bool, sendOk: Bool) throws {
        guard requeue else { throw AMQPError(.notImplemented, "requeue=false") }
        let all = unacked
        unacked.removeAll()
        requeueAll(all)
        if sendOk { send(.basicRecoverOk(.init())) }
    }

    enum Settlement {
        case acknowledge, requeue, discard
    }

    /// The positions in `unacked` that an ack/nack/reject names.
    ///
    /// As in RabbitMQ, the tag itself must be outstanding even with `multiple`, except that
    /// tag 0 with `multiple` means "everything outstanding".
    func unackedRange(_ tag: UInt64, multiple: Bool) throws -> Range<Int> {
        if multiple && tag == 0 { return 0..<unacked.count }
        guard let index = indexOfUnacked(tag) else {
            throw AMQPError(.preconditionFailed, "unknown delivery tag \(tag)")
        }
        return multiple ? 0..<(index + 1) : index..<(index + 1)
    }

    /// Removes the named deliveries from the unacknowledged set and returns them.
    func takeUnacked(_ tag: UInt64, multiple: Bool) throws -> [Unacked] {
        let range = try unackedRange(tag, multiple: multiple)
        let taken = Array(unacked[range])
        unacked.removeSubrange(range)
        return taken
    }

    /// Binary search: delivery tags are appended in increasing order.
    private func indexOfUnacked(_ tag: UInt64) -> Int? {
        var low = 0
        var high = unacked.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let candidate = unacked[mid].deliveryTag
            if candidate == tag { return mid }
            if candidate < tag { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }

    func settle(_ deliveries: [Unacked], _ outcome: Settlement) {
        switch outcome {
        case .requeue:
            requeueAll(deliveries)
        case .acknowledge:
            stats.ack &+= UInt64(deliveries.count)
            for delivery in deliveries {
                delivery.consumer?.unackedCount -= 1
                delivery.queue.acknowledge(delivery.message)
            }
        case .discard:
            for delivery in deliveries {
                delivery.consumer?.unackedCount -= 1
                delivery.queue.reject(delivery.message)
            }
        }
        dispatchConsumedQueues()
    }

    /// Prefetch room may have opened: let this channel's queues hand out more.
    func dispatchConsumedQueues() {
        for (_, queue) in consumers.values {
            queue.dispatch()
        }
    }
}

import AMQPWire
import WarrenCore

/// Direct reply-to (`amq.rabbitmq.reply-to`): an RPC client consumes from the pseudo-queue in
/// no-ack mode and publishes requests with that `reply_to`; the broker rewrites it to an address
/// naming this channel, and replies published to that address on the default exchange go
/// straight to the client's consumer, with no queue in between.
extension AMQPChannel {
    static let directReplyQueue = "amq.rabbitmq.reply-to"
    static let directReplyPrefix = "amq.rabbitmq.reply-to."

    /// `basic.consume` on the pseudo-queue.
    func consumeDirectReplies(_ m: Spec.Basic.Consume) throws {
        guard m.noAck else {
            throw AMQPError(.preconditionFailed, "reply consumer cannot acknowledge")
        }
        guard directReply == nil else {
            throw AMQPError(.preconditionFailed, "reply consumer already set")
        }
        let tag = m.consumerTag.isEmpty ? "amq.ctag-" + RandomToken.make() : m.consumerTag
        guard consumers[tag] == nil else {
            throw AMQPError(.notAllowed, "attempt to reuse consumer tag '\(tag)'")
        }
        let address = Self.directReplyPrefix + RandomToken.make()
        directReply = (tag, address)
        connection.broker.directReplyChannels[address] = self
        if !m.noWait { send(.basicConsumeOk(.init(consumerTag: tag))) }
    }

    /// Ends the reply consumer (cancel, or the channel closing).
    func cancelDirectReplies() {
        guard let (_, address) = directReply else { return }
        directReply = nil
        connection.broker.directReplyChannels[address] = nil
    }

    /// Rewrites a `reply_to` of `amq.rabbitmq.reply-to` to this channel's reply address.
    func rewriteDirectReplyTo(_ header: inout ContentHeader) throws {
        guard header.propertyFlags & BasicProperties.replyToFlag != 0,
            var properties = try? header.properties(), properties.replyTo == Self.directReplyQueue
        else { return }
        guard let (_, address) = directReply else {
            throw AMQPError(.preconditionFailed, "fast reply consumer does not exist")
        }
        properties.replyTo = address
        header = try ContentHeader(classID: header.classID, bodySize: header.bodySize, properties: properties)
    }

    /// Delivers a message published on the default exchange to the reply addresses among
    /// `keys`. A reply is not a queue: it does not count as routed (a mandatory reply is also
    /// returned), happens at once even in a transaction, and is dropped silently when its
    /// consumer is gone — all as in RabbitMQ 3.10.
    func deliverDirectReplies(_ message: Message, keys: [String]) {
        for key in keys where key.hasPrefix(Self.directReplyPrefix) {
            guard let channel = connection.broker.directReplyChannels[key], let (tag, _) = channel.directReply,
                !channel.isClosing
            else { continue }
            // RabbitMQ 3.10 gives a reply the channel's next delivery tag without using it up.
            channel.connection.sendContent(
                channel: channel.number,
                .basicDeliver(
                    Spec.Basic.Deliver(
                        consumerTag: tag, deliveryTag: channel.lastDeliveryTag + 1, redelivered: false,
                        exchange: message.exchange, routingKey: message.routingKey)),
                message)
        }
    }

    /// `queue.declare` of the pseudo-queue or of a live reply address answers as if it were a
    /// queue with one consumer; any other `amq.rabbitmq.reply-to` name does not exist.
    func declareDirectReplyQueue(_ m: Spec.Queue.Declare) throws {
        guard m.queue == Self.directReplyQueue || connection.broker.directReplyChannels[m.queue] != nil else {
            throw AMQPError.noQueue(m.queue, vhost: vhost.name)
        }
        if !m.noWait {
            send(.queueDeclareOk(Spec.Queue.DeclareOk(queue: m.queue, messageCount: 0, consumerCount: 1)))
        }
    }
}

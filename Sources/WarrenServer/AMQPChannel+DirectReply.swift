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

    /// Delivers a reply published to `message.routingKey`, a reply address; returns false when
    /// no channel consumes at that address any more.
    func deliverDirectReply(_ message: Message) -> Bool {
        guard let channel = connection.broker.directReplyChannels[message.routingKey],
            let (tag, _) = channel.directReply, !channel.isClosing
        else { return false }
        channel.lastDeliveryTag += 1
        channel.connection.sendContent(
            channel: channel.number,
            .basicDeliver(
                Spec.Basic.Deliver(
                    consumerTag: tag, deliveryTag: channel.lastDeliveryTag, redelivered: false,
                    exchange: message.exchange, routingKey: message.routingKey)),
            message)
        return true
    }
}

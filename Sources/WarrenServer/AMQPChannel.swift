import AMQPWire
import DequeModule
import NIOCore
import WarrenCore

/// One AMQP channel of a connection: content assembly, consumers, unacknowledged deliveries,
/// prefetch, confirm and transaction modes.
///
/// Method handling is split by AMQP class into `AMQPChannel+Exchange.swift`,
/// `+Queue.swift`, `+Basic.swift`, `+Confirm.swift` and `+Tx.swift`, so each can be read
/// against the spec. Methods throw ``AMQPError``; the connection turns a soft error into
/// `channel.close` and a hard one into `connection.close`.
final class AMQPChannel {
    /// A delivery the client has not yet settled.
    struct Unacked {
        var deliveryTag: UInt64
        var queue: Queue
        var message: QueuedMessage
        /// Nil for `basic.get` deliveries.
        var consumer: Consumer?
        /// When the consumer timeout runs out for it (``Broker/now`` milliseconds; 0 for never).
        var deadline: UInt64 = 0
    }

    enum Mode: Equatable {
        case normal, confirm, transactional
    }

    let number: UInt16
    unowned let connection: AMQPConnection
    var vhost: VirtualHost { connection.vhost }

    var assembler: ContentAssembler
    var consumers: [String: (consumer: Consumer, queue: Queue)] = [:]
    var unacked = Deque<Unacked>()
    var lastDeliveryTag: UInt64 = 0
    /// `basic.qos` with global=false: the prefetch for consumers created afterwards.
    var consumerPrefetch: UInt16 = 0
    /// `basic.qos` with global=true: a limit on the channel's unacknowledged deliveries.
    var channelPrefetch: UInt16 = 0

    var mode: Mode = .normal
    /// Confirm mode: the sequence number of the last publish, and of the last one acked to the client.
    var publishSequence: UInt64 = 0
    var confirmedUpTo: UInt64 = 0
    var ackedUpTo: UInt64 = 0
    /// Transaction mode: what waits for `tx.commit`.
    var transaction = PendingTransaction()
    /// Confirms waiting for the message store's fsync, in publish order.
    var awaitingSync = Deque<AwaitingSync>()
    /// `tx.commit`s whose persistent publishes wait for these store positions, in order.
    var commitsAwaitingSync = Deque<UInt64>()

    /// The routing key of the previous publish, shared by messages that repeat it.
    var lastRoutingKey = ""
    /// Scratch space for routing results, reused by every publish on this channel.
    var routedQueues: [Queue] = []
    /// The direct reply-to consumer, and the address replies to it are published to.
    var directReply: (consumerTag: String, address: String)?
    /// Set once a delivery came from a queue with its own `x-consumer-timeout`.
    var hasQueueConsumerTimeouts = false
    /// The queue named by an empty queue name in later queue methods.
    var lastDeclaredQueue: String?
    /// After `channel.close` was sent for an error: discard everything until `close-ok`.
    var isClosing = false
    /// What this channel published, confirmed, delivered and had acknowledged.
    var stats = MessageStats()

    init(number: UInt16, connection: AMQPConnection, maxBodySize: UInt64) {
        self.number = number
        self.connection = connection
        self.assembler = ContentAssembler(maxBodySize: maxBodySize)
    }

    func send(_ method: AMQPMethod) {
        connection.send(method, channel: number)
    }

    /// Dispatches one method of the open channel to its class's handler.
    func handle(_ method: AMQPMethod) throws {
        switch method {
        case .channelFlow(let flow): try channelFlow(flow)
        case .exchangeDeclare(let m): try exchangeDeclare(m)
        case .exchangeDelete(let m): try exchangeDelete(m)
        case .exchangeBind(let m): try exchangeBind(m)
        case .exchangeUnbind(let m): try exchangeUnbind(m)
        case .queueDeclare(let m): try queueDeclare(m)
        case .queueBind(let m): try queueBind(m)
        case .queueUnbind(let m): try queueUnbind(m)
        case .queuePurge(let m): try queuePurge(m)
        case .queueDelete(let m): try queueDelete(m)
        case .basicQos(let m): try basicQos(m)
        case .basicConsume(let m): try basicConsume(m)
        case .basicCancel(let m): basicCancel(m)
        case .basicPublish(let m): assembler.startPublish(m)
        case .basicGet(let m): try basicGet(m)
        case .basicAck(let m): try basicAck(m)
        case .basicReject(let m): try basicReject(m)
        case .basicNack(let m): try basicNack(m)
        case .basicRecover(let m): try basicRecover(requeue: m.requeue, sendOk: true)
        case .basicRecoverAsync(let m): try basicRecover(requeue: m.requeue, sendOk: false)
        case .confirmSelect(let m): try confirmSelect(m)
        case .txSelect: try txSelect()
        case .txCommit: try txCommit()
        case .txRollback: try txRollback()
        case .accessRequest: send(.accessRequestOk(.init(reserved1: 1)))
        default:
            throw AMQPError(.commandInvalid, "method \(method.name) is not allowed on an open channel")
        }
    }

    private func channelFlow(_ flow: Spec.Channel.Flow) throws {
        guard flow.active else {
            throw AMQPError(.notImplemented, "active=false")
        }
        send(.channelFlowOk(.init(active: true)))
    }

    /// Releases everything the channel holds: cancels its consumers and requeues its
    /// unacknowledged deliveries, as when the client closes it or the connection drops.
    func release() {
        // Nothing more is delivered to this channel; unacked messages go back before its
        // consumers leave, so a single-active-consumer successor receives them first.
        isClosing = true
        connection.broker.closedChannelStats += stats
        stats = MessageStats()
        let uncommitted = transaction.settlements.flatMap(\.deliveries)
        transaction = PendingTransaction()
        requeueAll(Array(unacked) + uncommitted)
        unacked.removeAll()
        cancelDirectReplies()
        // Confirms and a commit still waiting for the store will never be sent.
        awaitingSync.removeAll()
        commitsAwaitingSync.removeAll()
        connection.broker.stopAwaitingSync(self)
        for (consumer, queue) in consumers.values {
            queue.removeConsumer(consumer)
        }
        consumers.removeAll()
    }

    /// Puts deliveries back on their queues (in original order) and lets the queues dispatch.
    func requeueAll(_ deliveries: some Sequence<Unacked>) {
        var byQueue: [ObjectIdentifier: (Queue, [QueuedMessage])] = [:]
        for delivery in deliveries {
            delivery.consumer?.unackedCount -= 1
            byQueue[ObjectIdentifier(delivery.queue), default: (delivery.queue, [])].1.append(delivery.message)
        }
        for (queue, messages) in byQueue.values {
            queue.requeue(messages)
        }
    }
}

extension AMQPChannel: ConsumerOwner {
    func canDeliver(to consumer: Consumer) -> Bool {
        guard connection.isWritable, !isClosing else { return false }
        return channelPrefetch == 0 || consumer.noAck || unacked.count < Int(channelPrefetch)
    }

    func deliver(_ message: QueuedMessage, from queue: Queue, to consumer: Consumer) {
        lastDeliveryTag += 1
        stats.recordDelivery(noAck: consumer.noAck, get: false, redelivered: message.redelivered)
        if connection.vhost.isTracing { traceDelivery(message, from: queue) }
        if !consumer.noAck {
            unacked.append(
                Unacked(
                    deliveryTag: lastDeliveryTag, queue: queue, message: message, consumer: consumer,
                    deadline: acknowledgementDeadline(queue)))
        }
        connection.sendContent(
            channel: number,
            .basicDeliver(
                Spec.Basic.Deliver(
                    consumerTag: consumer.tag, deliveryTag: lastDeliveryTag, redelivered: message.redelivered,
                    exchange: message.message.exchange, routingKey: message.message.routingKey)),
            message.message)
    }

    func consumerCancelledByQueue(_ consumer: Consumer) {
        consumers[consumer.tag] = nil
        if connection.clientHasCapability("consumer_cancel_notify") {
            send(.basicCancel(Spec.Basic.Cancel(consumerTag: consumer.tag, noWait: true)))
        }
    }
}

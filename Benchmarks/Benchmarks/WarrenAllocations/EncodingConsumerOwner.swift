import AMQPWire
import NIOCore
import WarrenCore

/// A consumer owner that does what the server's channel does on a delivery
/// (`AMQPChannel.deliver` in Sources/WarrenServer/AMQPChannel.swift): assign the delivery tag,
/// remember an unacknowledged delivery, and encode `basic.deliver`, the content header and the
/// body frames into the connection's outbound buffer.
///
/// The outbound buffer is reused: the server hands it to the socket on each flush, which is a
/// per-read-cycle cost, not a per-delivery one, so the benchmarks clear it between samples.
final class EncodingConsumerOwner: ConsumerOwner {
    /// Mirrors `AMQPChannel.Unacked`.
    struct Unacked {
        var deliveryTag: UInt64
        var queue: Queue
        var message: QueuedMessage
        var consumer: Consumer?
    }

    let channel: UInt16 = PublishFixture.channel
    let frameMax: UInt32 = PublishFixture.frameMax
    var outbound: ByteBuffer
    var unacked: [Unacked] = []
    var lastDeliveryTag: UInt64 = 0
    private(set) var deliveries = 0

    init() {
        outbound = ByteBufferAllocator().buffer(capacity: 4096)
    }

    func canDeliver(to consumer: Consumer) -> Bool {
        true
    }

    func deliver(_ message: QueuedMessage, from queue: Queue, to consumer: Consumer) {
        lastDeliveryTag += 1
        deliveries += 1
        if !consumer.noAck {
            unacked.append(Unacked(deliveryTag: lastDeliveryTag, queue: queue, message: message, consumer: consumer))
        }
        do {
            try outbound.writeMethodFrame(
                channel: channel,
                .basicDeliver(
                    Spec.Basic.Deliver(
                        consumerTag: consumer.tag, deliveryTag: lastDeliveryTag, redelivered: message.redelivered,
                        exchange: message.message.exchange, routingKey: message.message.routingKey)))
        } catch {
            fatalError("cannot encode basic.deliver: \(error)")
        }
        outbound.writeHeaderFrame(channel: channel, message.message.header)
        outbound.writeBodyFrames(channel: channel, message.message.body, maxFrameSize: frameMax)
    }

    func consumerCancelledByQueue(_ consumer: Consumer) {}

    /// Settles every outstanding delivery (as `basic.ack` with `multiple`) and empties the
    /// outbound buffer (as a flush does), keeping both buffers' capacity.
    func settleAndFlush() {
        for delivery in unacked {
            delivery.consumer?.unackedCount -= 1
            delivery.queue.acknowledge(1)
        }
        unacked.removeAll(keepingCapacity: true)
        outbound.clear()
    }
}

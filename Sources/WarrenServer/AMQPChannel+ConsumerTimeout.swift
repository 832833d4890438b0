import AMQPWire
import WarrenCore

/// The consumer (delivery acknowledgement) timeout: a delivery left unacknowledged longer than
/// `consumer_timeout`, or its queue's `x-consumer-timeout`, closes the channel with 406, which
/// requeues everything it held, as RabbitMQ does.
extension AMQPChannel {
    /// The deadline for a delivery from `queue` made now; 0 when no timeout applies.
    func acknowledgementDeadline(_ queue: Queue) -> UInt64 {
        if let timeout = queue.settings.consumerTimeout {
            hasQueueConsumerTimeouts = true
            return connection.broker.now + timeout
        }
        guard let timeout = connection.broker.settings.consumerTimeout else { return 0 }
        return connection.broker.now + timeout
    }

    /// Closes the channel if a delivery is overdue. Deliveries are kept in delivery order, so
    /// with the broker-wide timeout alone the oldest is the first; queue timeouts need a scan.
    func checkConsumerTimeout(now: UInt64) {
        let overdue: Unacked?
        if hasQueueConsumerTimeouts {
            overdue = unacked.first { $0.deadline != 0 && $0.deadline <= now }
        } else {
            overdue = unacked.first.flatMap { $0.deadline != 0 && $0.deadline <= now ? $0 : nil }
        }
        guard let overdue else { return }
        let timeout = overdue.queue.settings.consumerTimeout ?? connection.broker.settings.consumerTimeout ?? 0
        connection.closeChannel(
            self, code: .preconditionFailed,
            explanation:
                "delivery acknowledgement on channel \(number) timed out. Timeout value used: \(timeout) ms. This timeout value can be configured, see consumers doc guide to learn more",
            method: nil)
    }
}

import AMQPWire
import WarrenCore

/// The `confirm` class: publisher confirms, acknowledged in batches once per read cycle.
extension AMQPChannel {
    func confirmSelect(_ m: Spec.Confirm.Select) throws {
        if mode == .transactional {
            throw AMQPError(.preconditionFailed, "cannot switch from tx to confirm mode")
        }
        mode = .confirm
        if !m.noWait { send(.confirmSelectOk(.init())) }
    }

    /// Records that publish `sequence` is safely enqueued; the ack goes out at the next flush,
    /// folded with its neighbours into one `basic.ack` with `multiple`.
    func confirm(_ sequence: UInt64) {
        confirmedUpTo = sequence
        connection.markNeedsFlush()
    }

    /// Nacks publish `sequence` at once (a queue refused it): the acks before it go out first,
    /// so that no `multiple` ack can cover it.
    func rejectPublish(_ sequence: UInt64) {
        flushConfirms()
        // RabbitMQ sets the requeue bit on these nacks; clients ignore it.
        send(.basicNack(Spec.Basic.Nack(deliveryTag: sequence, multiple: false, requeue: true)))
        confirmedUpTo = sequence
        ackedUpTo = sequence
    }

    /// Writes the pending `basic.ack` (called just before the connection flushes).
    func flushConfirms() {
        guard confirmedUpTo > ackedUpTo, !isClosing else { return }
        let multiple = confirmedUpTo - ackedUpTo > 1
        send(.basicAck(Spec.Basic.Ack(deliveryTag: confirmedUpTo, multiple: multiple)))
        ackedUpTo = confirmedUpTo
    }
}

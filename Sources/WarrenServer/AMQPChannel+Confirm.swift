import AMQPWire
import WarrenCore

/// The `confirm` class: publisher confirms, acknowledged in batches once per read cycle, and
/// for persistent messages only once the message store's fsync covers them.
extension AMQPChannel {
    /// A confirm (or nack) that waits for the store to sync up to `ticket`.
    struct AwaitingSync {
        var sequence: UInt64
        var ticket: UInt64
        var isNack: Bool
    }

    func confirmSelect(_ m: Spec.Confirm.Select) throws {
        if mode == .transactional {
            throw AMQPError(.preconditionFailed, "cannot switch from tx to confirm mode")
        }
        mode = .confirm
        if !m.noWait { send(.confirmSelectOk(.init())) }
    }

    /// Records that publish `sequence` is safely enqueued (and, with a `ticket`, written to the
    /// store). The ack goes out at the next flush, folded with its neighbours into one
    /// `basic.ack` with `multiple`; confirms stay in publish order, so one behind a persistent
    /// message waits for the same fsync.
    func confirm(_ sequence: UInt64, ticket: UInt64? = nil) {
        guard ticket != nil || !awaitingSync.isEmpty, let store = connection.broker.messageStore else {
            confirmedUpTo = sequence
            connection.markNeedsFlush()
            return
        }
        waitForSync(AwaitingSync(sequence: sequence, ticket: ticket ?? store.appendedPosition, isNack: false))
    }

    /// Nacks publish `sequence` (a queue refused it), after the confirms before it.
    func rejectPublish(_ sequence: UInt64) {
        if !awaitingSync.isEmpty, let store = connection.broker.messageStore {
            return waitForSync(AwaitingSync(sequence: sequence, ticket: store.appendedPosition, isNack: true))
        }
        nackNow(sequence)
    }

    /// The acks before it go out first, so that no `multiple` ack can cover it.
    private func nackNow(_ sequence: UInt64) {
        flushConfirms()
        // RabbitMQ sets the requeue bit on these nacks; clients ignore it.
        send(.basicNack(Spec.Basic.Nack(deliveryTag: sequence, multiple: false, requeue: true)))
        confirmedUpTo = sequence
        ackedUpTo = sequence
    }

    private func waitForSync(_ entry: AwaitingSync) {
        awaitingSync.append(entry)
        connection.broker.awaitSync(self)
    }

    /// The store has synced up to `position`: releases the confirms (and a transaction's
    /// commit-ok) it covers. Returns whether anything still waits.
    func storeSynced(upTo position: UInt64) -> Bool {
        while let first = awaitingSync.first, first.ticket <= position {
            awaitingSync.removeFirst()
            if first.isNack {
                nackNow(first.sequence)
            } else {
                confirmedUpTo = first.sequence
                connection.markNeedsFlush()
            }
        }
        while let ticket = commitsAwaitingSync.first, ticket <= position {
            commitsAwaitingSync.removeFirst()
            send(.txCommitOk(.init()))
        }
        return !awaitingSync.isEmpty || !commitsAwaitingSync.isEmpty
    }

    /// Writes the pending `basic.ack` (called just before the connection flushes).
    func flushConfirms() {
        guard confirmedUpTo > ackedUpTo, !isClosing else { return }
        let multiple = confirmedUpTo - ackedUpTo > 1
        stats.confirm &+= confirmedUpTo - ackedUpTo
        send(.basicAck(Spec.Basic.Ack(deliveryTag: confirmedUpTo, multiple: multiple)))
        ackedUpTo = confirmedUpTo
    }
}

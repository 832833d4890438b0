import AMQPWire
import WarrenCore

/// Publishes and settlements held back until `tx.commit`.
struct PendingTransaction {
    var publishes: [(queues: [Queue], mandatory: Bool, message: Message)] = []
    var settlements: [(deliveries: [AMQPChannel.Unacked], outcome: AMQPChannel.Settlement)] = []
}

/// The `tx` class: select, commit, rollback.
extension AMQPChannel {
    func txSelect() throws {
        if mode == .confirm {
            throw AMQPError(.preconditionFailed, "cannot switch from confirm to tx mode")
        }
        mode = .transactional
        send(.txSelectOk(.init()))
    }

    func txCommit() throws {
        guard mode == .transactional else {
            throw AMQPError(.preconditionFailed, "channel is not transactional")
        }
        let pending = transaction
        transaction = PendingTransaction()
        var lastTicket: UInt64?
        for publish in pending.publishes {
            if let ticket = enqueue(publish.message, into: publish.queues, mandatory: publish.mandatory).ticket {
                lastTicket = ticket
            }
        }
        for settlement in pending.settlements {
            settle(settlement.deliveries, settlement.outcome)
        }
        // Persistent publishes are durable before the commit is reported, and commit-oks keep
        // their order.
        if let store = connection.broker.messageStore,
            lastTicket.map({ store.syncedPosition < $0 }) ?? false || !commitsAwaitingSync.isEmpty
        {
            commitsAwaitingSync.append(lastTicket ?? store.appendedPosition)
            connection.broker.awaitSync(self)
        } else {
            send(.txCommitOk(.init()))
        }
    }

    func txRollback() throws {
        guard mode == .transactional else {
            throw AMQPError(.preconditionFailed, "channel is not transactional")
        }
        let pending = transaction
        transaction = PendingTransaction()
        // Settlements are undone: the deliveries become outstanding again, in tag order.
        var restored = Array(unacked)
        for settlement in pending.settlements {
            restored.append(contentsOf: settlement.deliveries)
        }
        restored.sort { $0.deliveryTag < $1.deliveryTag }
        unacked = .init(restored)
        send(.txRollbackOk(.init()))
    }
}

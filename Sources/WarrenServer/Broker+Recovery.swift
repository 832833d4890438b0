import WarrenCore
import WarrenStore

/// Start-up: the saved definitions, then an imported file, then the message store's replay
/// into the durable queues.
extension Broker {
    func recover(importing definitions: Definitions?) throws {
        if let definitionsFile {
            do {
                if let saved = try definitionsFile.load() {
                    try importDefinitions(saved)
                    definitionsFile.markSaved(self)
                }
            } catch {
                throw DefinitionsError("\(definitionsFile.path): \(error)")
            }
        }
        if let definitions { try importDefinitions(definitions) }
        guard let messageStore else { return }
        let recovery = try messageStore.open()
        for line in recovery.report {
            logger.warning("message store recovery: \(line)")
        }
        var recovered = 0
        for (key, messages) in recovery.queues {
            guard let queue = vhosts[key.vhost]?.queues[key.queue], queue.durable else {
                // Its queue is gone (not durable any more, or deleted with the definitions).
                for message in messages { messageStore.settle(message.message.storeID, key) }
                continue
            }
            queue.recover(messages)
            recovered += messages.count
        }
        for (vhostName, messages) in recovery.delayed {
            guard let vhost = vhosts[vhostName] else {
                for message in messages { messageStore.releasedDelayed(message.message.storeID, vhost: vhostName) }
                continue
            }
            vhost.restoreDelayed(messages)
            recovered += messages.count
        }
        if recovered > 0 || !recovery.report.isEmpty {
            logger.info("recovered \(recovered) persistent messages in \(recovery.queues.count) queues")
        }
        flushPending()
    }
}

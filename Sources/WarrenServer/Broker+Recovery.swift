import WarrenCore
import WarrenStore

/// Start-up: the saved definitions, then an imported file, then the message store's replay
/// into the durable queues.
extension Broker {
    func recover(importing definitions: Definitions?) throws {
        var firstStart = true
        if let definitionsFile {
            do {
                if let saved = try definitionsFile.load() {
                    firstStart = false
                    try importDefinitions(saved)
                    definitionsFile.markSaved(self)
                }
            } catch {
                throw DefinitionsError("\(definitionsFile.path): \(error)")
            }
        }
        // The default vhost exists from the first start on, so an imported file may refer to it.
        if firstStart { seedDefaultVirtualHost() }
        if let definitions { try importDefinitions(definitions) }
        seedDefaultUserIfNone()
        guard let messageStore else { return }
        var recovered = 0
        var queues: [ObjectIdentifier: Queue] = [:]
        let recovery = try messageStore.open { key, message in
            // A queue that is gone (deleted, or no longer durable) drops its messages.
            guard let queue = vhosts[key.vhost]?.queues[key.queue], queue.isSaved else { return false }
            queue.recoverOne(message)
            queues[ObjectIdentifier(queue)] = queue
            recovered += 1
            return true
        }
        for queue in queues.values {
            queue.finishRecovery()
        }
        for line in recovery.report {
            logger.warning("message store recovery: \(line)")
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
            logger.info("recovered \(recovered) persistent messages in \(queues.count) queues")
        }
        flushPending()
    }
}

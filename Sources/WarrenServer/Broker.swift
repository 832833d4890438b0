import AMQPWire
import Logging
import WarrenCore
import WarrenStore

/// The running broker: virtual hosts, live connections, and the set of connections with
/// frames waiting to be flushed.
///
/// Everything here is confined to one event loop. Work that one connection's read causes on
/// other connections (deliveries to consumers) is encoded into their buffers immediately and
/// flushed once at the end of the read cycle, so a burst of publishes costs one write per
/// consumer connection, not one per message.
final class Broker {
    let settings: BrokerSettings
    let logger: Logger
    private(set) var vhosts: [String: VirtualHost]
    private(set) var connections: [ConnectionID: AMQPConnection] = [:]
    /// Open connections per vhost, for `max-connections`.
    private var openConnections: [String: Int] = [:]
    /// Users, permissions and topic permissions.
    let accessControl = AccessControl()
    /// The Cyrus SASL backend, when `auth_backends` names it.
    let passwordChecker: (any PasswordChecker)?
    /// Sockets served under `connection_max`.
    let connectionSlots: ConnectionSlots
    private var pendingFlush: [AMQPConnection] = []
    private var flushing: [AMQPConnection] = []
    private var nextConnectionID: UInt64 = 1
    /// Monotonic milliseconds, refreshed on every socket read and timer tick: what delivery
    /// deadlines are stamped with, without reading the clock once per message.
    private(set) var now: UInt64
    private let clock = MonotonicClock()
    /// The latest resource sample (once a second), for the management API's node view.
    private(set) var lastUsage: ResourceUsage?
    /// The resource alarms in effect; while any is, connections that publish are blocked.
    private(set) var alarms: Set<ResourceAlarm> = []
    /// The message counts of channels that have closed, so the broker-wide totals (the
    /// management overview, Prometheus' global counters) never go down.
    var closedChannelStats = MessageStats()
    /// Channels consuming direct replies, by their reply address.
    var directReplyChannels: [String: AMQPChannel] = [:]

    /// Message-expiry timers; kept here because virtual hosts hold their scheduler weakly.
    private let expiryScheduler: LoopExpiryScheduler?
    /// Where persistent messages on durable queues go; nil for a broker without a data directory.
    let messageStore: MessageStore?
    /// Channels with confirms or a commit waiting for the store's next fsync.
    private var awaitingSync: [AMQPChannel] = []
    /// Writes the durable definitions when they change; nil without a data directory.
    let definitionsFile: DefinitionsFile?

    init(
        settings: BrokerSettings, logger: Logger, expiryScheduler: LoopExpiryScheduler? = nil,
        messageStore: MessageStore? = nil, definitionsFile: DefinitionsFile? = nil,
        passwordChecker: (any PasswordChecker)? = nil
    ) {
        self.settings = settings
        self.passwordChecker = passwordChecker
        self.connectionSlots = ConnectionSlots(limit: settings.connectionMax)
        self.logger = logger
        self.expiryScheduler = expiryScheduler
        self.messageStore = messageStore
        self.definitionsFile = definitionsFile
        self.now = clock.milliseconds()
        self.vhosts = [:]
        // Expiry can dead-letter into queues with consumers: their deliveries go out at once.
        expiryScheduler?.afterFiring = { [unowned self] in self.flushPending() }
        messageStore?.onSynced = { [unowned self] position in self.storeSynced(upTo: position) }
        messageStore?.onError = { [unowned self] line in self.logger.error("\(line)") }
    }

    func addVirtualHost(named name: String) {
        let vhost = VirtualHost(name: name)
        vhost.expiryScheduler = expiryScheduler
        vhost.messageLog = messageStore
        vhost.inMemoryMessageLimit = settings.maxInMemoryMessagesPerQueue
        vhosts[name] = vhost
    }

    /// Deletes a vhost as RabbitMQ does: its connections are closed, its queues deleted (their
    /// consumers cancelled) and its permissions forgotten.
    func removeVirtualHost(named name: String) {
        guard let vhost = vhosts[name] else { return }
        for connection in connections.values where connection.openedVirtualHost === vhost {
            connection.forceClose(reason: "vhost '\(name)' is deleted")
        }
        for queue in Array(vhost.queues.values) {
            _ = try? vhost.deleteQueue(
                name: queue.name, ifUnused: false, ifEmpty: false, connection: queue.exclusiveOwner ?? ConnectionID(0))
        }
        vhosts[name] = nil
        openConnections[name] = nil
        accessControl.removeVirtualHost(name)
    }

    /// A channel has a confirm or commit waiting for the store's fsync.
    func awaitSync(_ channel: AMQPChannel) {
        if !awaitingSync.contains(where: { $0 === channel }) { awaitingSync.append(channel) }
    }

    /// The channel is closing: it no longer waits for the store.
    func stopAwaitingSync(_ channel: AMQPChannel) {
        awaitingSync.removeAll { $0 === channel }
    }

    private func storeSynced(upTo position: UInt64) {
        awaitingSync.removeAll { !$0.storeSynced(upTo: position) }
        flushPending()
    }

    /// RabbitMQ's first start: the default vhost.
    func seedDefaultVirtualHost() {
        if vhosts[settings.defaultVirtualHost] == nil {
            addVirtualHost(named: settings.defaultVirtualHost)
            vhosts[settings.defaultVirtualHost]?.description = "Default virtual host"
        }
    }

    /// The default user, with every permission in the default vhost, when no user exists: on
    /// the first start (unless an imported file brought users), or with a data directory
    /// from before Warren had users.
    func seedDefaultUserIfNone() {
        guard accessControl.users.isEmpty else { return }
        accessControl.putUser(
            User(
                name: settings.defaultUser, passwordHash: PasswordHash(password: settings.defaultPassword),
                tags: settings.defaultUserTags))
        if vhosts[settings.defaultVirtualHost] != nil {
            accessControl.setPermissions(.everything, user: settings.defaultUser, vhost: settings.defaultVirtualHost)
        }
    }

    func makeConnection(
        transport: any ConnectionTransport, remoteDescription: String, isLoopbackPeer: Bool,
        isTLS: Bool = false, endpoints: Endpoints = Endpoints()
    ) -> AMQPConnection {
        let id = ConnectionID(nextConnectionID)
        nextConnectionID += 1
        let connection = AMQPConnection(
            id: id, broker: self, transport: transport, remoteDescription: remoteDescription,
            isLoopbackPeer: isLoopbackPeer, isTLS: isTLS, endpoints: endpoints)
        connections[id] = connection
        return connection
    }

    /// Enqueues a routed message, writing it to the message store first if it is persistent
    /// and a queue is durable. Returns whether every queue accepted it, and the store ticket a
    /// confirm must wait for.
    func enqueue(_ message: Message, into queues: [Queue]) -> (accepted: Bool, ticket: UInt64?) {
        var accepted = true
        // Only a persistent message is copied (to carry its store id); the plain path is not.
        if let messageStore, BasicProperties.isPersistent(message.header) {
            var stored = message
            let ticket = messageStore.persist(&stored, into: queues)
            for queue in queues where !queue.enqueue(stored) { accepted = false }
            return (accepted, ticket)
        }
        for queue in queues where !queue.enqueue(message) { accepted = false }
        return (accepted, nil)
    }

    func refreshClock() {
        now = clock.milliseconds()
    }

    /// The once-a-second housekeeping: re-evaluates the resource alarms and closes channels
    /// whose deliveries have waited longer than the consumer timeout for an acknowledgement.
    func tick() {
        refreshClock()
        let usage = ResourceUsage.sample(directory: settings.dataDirectory)
        lastUsage = usage
        setAlarms(usage.alarms(watermark: settings.memoryHighWatermark, diskFreeLimit: settings.diskFreeLimit))
        for connection in connections.values {
            connection.checkConsumerTimeouts(now: now)
        }
        flushPending()
    }

    /// Raises or clears alarms. Publishers are blocked lazily, at their next publish (as in
    /// RabbitMQ, so consumers keep working); once every alarm has cleared they are unblocked.
    func setAlarms(_ current: Set<ResourceAlarm>) {
        guard current != alarms else { return }
        for alarm in current.subtracting(alarms) {
            logger.warning("\(alarm.rawValue) resource limit alarm set on this node: publishers will be blocked")
        }
        for alarm in alarms.subtracting(current) {
            logger.warning("\(alarm.rawValue) resource limit alarm cleared on this node")
        }
        alarms = current
        if current.isEmpty {
            for connection in connections.values {
                connection.unblockPublishing()
            }
        }
    }

    func connectionOpened(_ connection: AMQPConnection) {
        openConnections[connection.vhost.name, default: 0] += 1
    }

    func connectionClosed(_ connection: AMQPConnection, vhost: VirtualHost?) {
        connections[connection.id] = nil
        if let vhost { openConnections[vhost.name, default: 1] -= 1 }
    }

    func needsFlush(_ connection: AMQPConnection) {
        pendingFlush.append(connection)
    }

    /// Flushes every connection that has frames waiting (end of a read cycle or a timer).
    ///
    /// Changed definitions and the store's appends are written first, so a client never sees
    /// a declare-ok for a durable queue, or a delivery, that a crash right after could undo.
    func flushPending() {
        if let definitionsFile { definitionsFile.saveIfChanged(self) }
        messageStore?.flush()
        // Two buffers swapped back and forth, so a flush cycle allocates nothing.
        while !pendingFlush.isEmpty {
            swap(&pendingFlush, &flushing)
            for connection in flushing {
                connection.flush()
            }
            flushing.removeAll(keepingCapacity: true)
        }
    }

    /// Sends every client `connection.close` 320 CONNECTION_FORCED, as RabbitMQ does on shutdown.
    func closeAllConnections() {
        for connection in connections.values {
            connection.forceClose(reason: "broker forced connection closure with reason 'shutdown'")
        }
        flushPending()
    }
}

extension Broker: ConnectionGate {
    func authenticate(username: String, password: String) -> AccessControl.Authentication {
        accessControl.authenticate(username: username, password: password)
    }

    func authenticate(certificateUser: String) -> AccessControl.Authentication {
        accessControl.authenticate(certificateUser: certificateUser)
    }

    /// RabbitMQ's checks at `connection.open`, in its order: the vhost exists, its connection
    /// limit is not reached (checked before permissions, as RabbitMQ does), and the user has
    /// permissions in it.
    func admit(_ user: User, to name: String) -> Result<ResourceAccess, AMQPError> {
        guard let vhost = vhosts[name] else { return .failure(AMQPError(.notAllowed, "vhost \(name) not found")) }
        if let limit = vhost.limits.maxConnections, openConnections[name, default: 0] >= limit {
            return .failure(
                AMQPError(
                    .notAllowed,
                    "access to vhost '\(name)' refused for user '\(user.name)': connection limit (\(limit)) is reached")
            )
        }
        guard let access = accessControl.access(for: user, in: name) else {
            return .failure(AMQPError(.notAllowed, "access to vhost '\(name)' refused for user '\(user.name)'"))
        }
        return .success(access)
    }
}

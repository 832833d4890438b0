import NIOCore
import WarrenCore

/// The broker as the management API sees it: snapshots to read and commands to run.
///
/// The broker lives on one event loop without locks, and HTTP requests arrive on other
/// threads. Each call here is one hop onto that loop that copies plain values out (or applies
/// one change and flushes what it caused), so responses are filtered, paged and rendered off
/// the loop and the message path pauses only for the copy.
public struct BrokerAdministration: Sendable {
    let loop: any EventLoop
    let broker: NIOLoopBound<Broker>

    /// Runs `body` on the broker's loop, then flushes whatever it caused (deliveries, closes,
    /// a definitions save), as the end of a read cycle does.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (Broker) throws -> T) async throws -> T {
        let broker = self.broker
        return try await loop.submit {
            let value = broker.value
            defer { value.flushPending() }
            return try body(value)
        }.get()
    }

    // MARK: Reading

    public func overview() async throws -> OverviewSnapshot {
        try await onLoop { broker in
            var overview = OverviewSnapshot()
            overview.stats = broker.closedChannelStats
            for connection in broker.connections.values {
                overview.connections += 1
                overview.channels += connection.channels.count
                for channel in connection.channels.values {
                    overview.consumers += channel.consumers.count
                    overview.stats += channel.stats
                }
            }
            for vhost in broker.vhosts.values {
                overview.virtualHosts += 1
                overview.exchanges += vhost.exchanges.count
                overview.queues += vhost.queues.count
                for queue in vhost.queues.values {
                    overview.messagesReady += queue.messageCount
                    overview.messagesUnacknowledged += queue.unackedCount
                }
            }
            overview.alarms = broker.alarms.map(\.rawValue).sorted()
            return overview
        }
    }

    public func nodeResources() async throws -> NodeResourcesSnapshot {
        try await onLoop { broker in
            let usage = broker.lastUsage ?? ResourceUsage.sample(directory: broker.settings.dataDirectory)
            return NodeResourcesSnapshot(
                memoryUsed: usage.residentMemory,
                memoryLimit: broker.settings.memoryHighWatermark.limit(totalMemory: usage.totalMemory),
                diskFree: usage.diskFree ?? 0,
                diskFreeLimit: broker.settings.diskFreeLimit.limit(totalMemory: usage.totalMemory),
                alarms: broker.alarms.map(\.rawValue).sorted())
        }
    }

    /// Queues of one vhost, or of every vhost.
    public func queues(vhost: String? = nil) async throws -> [QueueSnapshot] {
        try await onLoop { broker in
            try broker.selectedVirtualHosts(vhost).flatMap { vhost in
                vhost.queues.values.map { broker.snapshot($0) }
            }
        }
    }

    public func queue(vhost: String, name: String) async throws -> QueueSnapshot {
        try await onLoop { broker in
            guard let queue = broker.vhosts[vhost]?.queues[name] else { throw AdministrationError.notFound }
            return broker.snapshot(queue)
        }
    }

    public func exchanges(vhost: String? = nil) async throws -> [ExchangeSnapshot] {
        try await onLoop { broker in
            try broker.selectedVirtualHosts(vhost).flatMap { vhost in
                vhost.exchanges.values.map(Broker.snapshot)
            }
        }
    }

    public func exchange(vhost: String, name: String) async throws -> ExchangeSnapshot {
        try await onLoop { broker in
            guard let exchange = broker.vhosts[vhost]?.exchanges[name] else { throw AdministrationError.notFound }
            return Broker.snapshot(exchange)
        }
    }

    /// Every binding, including the default exchange's implicit one to each queue, as RabbitMQ
    /// lists them.
    public func bindings(vhost: String? = nil) async throws -> [BindingSnapshot] {
        try await onLoop { broker in
            try broker.selectedVirtualHosts(vhost).flatMap(Broker.bindings)
        }
    }

    public func connections() async throws -> [ConnectionSnapshot] {
        try await onLoop { broker in
            broker.connections.values.filter { $0.openedVirtualHost != nil }.map(Broker.snapshot)
        }
    }

    public func channels() async throws -> [ChannelSnapshot] {
        try await onLoop { broker in
            broker.connections.values.filter { $0.openedVirtualHost != nil }.flatMap { connection in
                let owner = Broker.snapshot(connection)
                return connection.channels.values.map { Broker.snapshot($0, connection: owner) }
            }
        }
    }

    public func consumers(vhost: String? = nil) async throws -> [ConsumerSnapshot] {
        try await onLoop { broker in
            if let vhost, broker.vhosts[vhost] == nil { throw AdministrationError.notFound }
            var result: [ConsumerSnapshot] = []
            for connection in broker.connections.values {
                guard let open = connection.openedVirtualHost, vhost == nil || open.name == vhost else { continue }
                let owner = Broker.snapshot(connection)
                for channel in connection.channels.values {
                    for (consumer, queue) in channel.consumers.values {
                        result.append(
                            ConsumerSnapshot(
                                tag: consumer.tag, queue: queue.name, vhost: queue.vhost,
                                channelName: "\(owner.name) (\(channel.number))", channelNumber: channel.number,
                                connectionName: owner.name, peerHost: owner.peerHost, peerPort: owner.peerPort,
                                user: owner.user, ackRequired: !consumer.noAck, exclusive: consumer.exclusive,
                                prefetchCount: consumer.prefetchLimit, arguments: JSONValue(consumer.arguments)))
                    }
                }
            }
            return result
        }
    }

    public func virtualHosts() async throws -> [VirtualHostSnapshot] {
        try await onLoop { broker in
            broker.vhosts.values.map { vhost in
                var snapshot = VirtualHostSnapshot(
                    name: vhost.name, description: vhost.description, tags: vhost.tags, isTracing: vhost.isTracing,
                    messagesReady: 0,
                    messagesUnacknowledged: 0, stats: MessageStats(),
                    maxConnections: vhost.limits.maxConnections, maxQueues: vhost.limits.maxQueues)
                for queue in vhost.queues.values {
                    snapshot.messagesReady += queue.messageCount
                    snapshot.messagesUnacknowledged += queue.unackedCount
                }
                for exchange in vhost.exchanges.values {
                    snapshot.stats.publish &+= exchange.stats.publish
                }
                return snapshot
            }
        }
    }

    public func users() async throws -> [UserSnapshot] {
        try await onLoop { broker in
            broker.accessControl.users.values.map(Broker.snapshot)
        }
    }

    public func permissions() async throws -> [PermissionSnapshot] {
        try await onLoop { broker in
            broker.accessControl.permissions.flatMap { vhost, byUser in
                byUser.map { user, granted in
                    PermissionSnapshot(
                        user: user, vhost: vhost, configure: granted.configure.source, write: granted.write.source,
                        read: granted.read.source)
                }
            }
        }
    }

    public func topicPermissions() async throws -> [TopicPermissionSnapshot] {
        try await onLoop { broker in
            broker.accessControl.topicPermissions.flatMap { vhost, byUser in
                byUser.flatMap { user, byExchange in
                    byExchange.values.map {
                        TopicPermissionSnapshot(
                            user: user, vhost: vhost, exchange: $0.exchange, write: $0.write, read: $0.read)
                    }
                }
            }
        }
    }

    public func policies(operator isOperatorPolicy: Bool) async throws -> [PolicySnapshot] {
        try await onLoop { broker in
            broker.vhosts.values.flatMap { vhost in
                (isOperatorPolicy ? vhost.operatorPolicies : vhost.policies).values.map(Broker.snapshot)
            }
        }
    }

    /// The outcome of a management login.
    public enum Login: Sendable {
        case accepted(ManagementUser)
        case refused
        /// The user is in `loopback_users` and came in on a non-loopback address.
        case loopbackOnly
    }

    /// Checks a management login as an AMQP login is checked: `auth_backends` in order, then
    /// `loopback_users` against the listener's address (`viaLoopback`).
    public func authenticate(username: String, password: String, viaLoopback: Bool) async throws -> Login {
        let broker = self.broker
        let promise = loop.makePromise(of: Login.self)
        loop.execute {
            let value = broker.value
            value.checkPassword(username: username, password: password) { outcome in
                guard case .accepted(let user) = outcome else { return promise.succeed(.refused) }
                if !viaLoopback && value.settings.loopbackUsers.contains(user.name) {
                    return promise.succeed(.loopbackOnly)
                }
                let vhosts = value.accessControl.permissions.compactMap { $0.value[user.name] == nil ? nil : $0.key }
                promise.succeed(
                    .accepted(
                        ManagementUser(
                            name: user.name, tags: user.tags, virtualHosts: Set(vhosts),
                            existingVirtualHosts: Set(value.vhosts.keys))))
            }
        }
        return try await promise.futureResult.get()
    }

    /// RabbitMQ's definitions export, all vhosts or one.
    public func exportDefinitions(vhost: String? = nil) async throws -> JSONValue {
        try await onLoop { broker in
            if let vhost, broker.vhosts[vhost] == nil { throw AdministrationError.notFound }
            return try DefinitionsFile.exportDocument(broker, vhost: vhost)
        }
    }
}

import AMQPWire

/// One virtual host: its exchanges, queues and the bindings between them, and the rules for
/// declaring, deleting, binding and routing, with RabbitMQ's checks and reply texts.
public final class VirtualHost {
    public let name: String
    public private(set) var exchanges: [String: Exchange] = [:]
    public private(set) var queues: [String: Queue] = [:]
    private var queueNames = ServerNamedQueueNames()
    /// The time queues measure message deadlines in, and who runs their expiry timers.
    public var clock: any BrokerClock = MonotonicClock()
    public weak var expiryScheduler: (any ExpiryScheduler)?
    /// Messages held by `x-delayed-message` exchanges until they are due.
    var delayed = DelayedMessages()
    /// Where persistent messages on durable queues are recorded (nil: nothing is stored).
    public weak var messageLog: (any PersistentMessageLog)?
    /// How many messages per priority lane a durable queue keeps in memory before paging
    /// persistent ones out to the log.
    public var inMemoryMessageLimit = 100_000
    /// `max-connections` and `max-queues` (RabbitMQ's vhost limits).
    public var limits = VirtualHostLimits() {
        didSet { definitionsVersion &+= 1 }
    }
    /// RabbitMQ's vhost metadata: a description and tags, shown by the management API.
    public var description = "" {
        didSet { definitionsVersion &+= 1 }
    }
    public var tags: [String] = [] {
        didSet { definitionsVersion &+= 1 }
    }
    /// Raised on every change to what a definitions export contains (exchanges, queues,
    /// bindings, policies), so the server knows when to save them.
    public internal(set) var definitionsVersion: UInt64 = 0
    /// Policies and operator policies by name.
    public internal(set) var policies: [String: Policy] = [:]
    public internal(set) var operatorPolicies: [String: Policy] = [:]

    /// The exchanges every RabbitMQ virtual host starts with.
    public static let predeclaredExchanges: [(String, ExchangeKind)] = [
        ("", .direct), ("amq.direct", .direct), ("amq.fanout", .fanout), ("amq.topic", .topic),
        ("amq.headers", .headers), ("amq.match", .headers),
    ]

    /// The firehose's exchange (RabbitMQ's `amq.rabbitmq.trace`): internal, so only the broker
    /// publishes to it, while tracing is on.
    public static let traceExchange = "amq.rabbitmq.trace"

    /// Tracing (the firehose) is on: every publish and delivery in this vhost is copied to
    /// ``traceExchange``.
    public var isTracing = false

    public init(name: String) {
        self.name = name
        for (exchangeName, kind) in Self.predeclaredExchanges {
            exchanges[exchangeName] = Exchange(
                name: exchangeName, vhost: name, kind: kind, durable: true, autoDelete: false, isInternal: false,
                arguments: [:])
        }
        exchanges[Self.traceExchange] = Exchange(
            name: Self.traceExchange, vhost: name, kind: .topic, durable: true, autoDelete: false, isInternal: true,
            arguments: [:])
    }

    // MARK: Lookup

    public func exchange(named exchangeName: String) throws -> Exchange {
        guard let exchange = exchanges[exchangeName] else { throw AMQPError.noExchange(exchangeName, vhost: name) }
        return exchange
    }

    public func queue(named queueName: String) throws -> Queue {
        guard let queue = queues[queueName] else { throw AMQPError.noQueue(queueName, vhost: name) }
        return queue
    }

    /// A queue the connection may use: exclusive queues belong to their declaring connection.
    public func queue(named queueName: String, usableBy connection: ConnectionID) throws -> Queue {
        let queue = try self.queue(named: queueName)
        try checkExclusiveAccess(queue, by: connection)
        return queue
    }

    func checkExclusiveAccess(_ queue: Queue, by connection: ConnectionID) throws {
        if let owner = queue.exclusiveOwner, owner != connection {
            throw lockedQueue(queue)
        }
    }

    private func lockedQueue(_ queue: Queue) -> AMQPError {
        AMQPError(
            .resourceLocked,
            "cannot obtain exclusive access to locked queue '\(queue.name)' in vhost '\(name)'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration."
        )
    }

    // MARK: Exchanges

    public func declareExchange(
        name exchangeName: String, type: String, passive: Bool, durable: Bool, autoDelete: Bool, isInternal: Bool,
        arguments: FieldTable, authorize: (_ creating: Bool) throws -> Void = { _ in }
    ) throws -> Exchange {
        if passive {
            return try exchange(named: exchangeName)
        }
        // RabbitMQ's order: the type, the default exchange, then (only when creating) the name.
        let isDelayed = type == DelayedMessages.exchangeType
        guard let kind = ExchangeKind(rawValue: isDelayed ? arguments["x-delayed-type"]?.stringValue ?? "" : type)
        else {
            if isDelayed {
                throw AMQPError(
                    .preconditionFailed, "Invalid argument, 'x-delayed-type' must be an existing exchange type")
            }
            throw AMQPError(.commandInvalid, "unknown exchange type '\(type)'")
        }
        if exchangeName.isEmpty {
            throw AMQPError(.accessRefused, "operation not permitted on the default exchange")
        }
        try authorize(exchanges[exchangeName] == nil)
        try ArgumentValidation.validateExchangeArguments(arguments, exchange: exchangeName, vhost: name)
        if let existing = exchanges[exchangeName] {
            try checkEquivalence(
                existing, type: type, durable: durable, autoDelete: autoDelete, isInternal: isInternal,
                arguments: arguments)
            return existing
        }
        if exchangeName.hasPrefix("amq.") {
            throw AMQPError(.accessRefused, "exchange name '\(exchangeName)' contains reserved prefix 'amq.*'")
        }
        let exchange = Exchange(
            name: exchangeName, vhost: name, kind: kind, durable: durable, autoDelete: autoDelete,
            isInternal: isInternal, arguments: arguments, isDelayed: isDelayed)
        exchanges[exchangeName] = exchange
        if durable { definitionsVersion &+= 1 }
        applyPolicies(to: exchange)
        return exchange
    }

    private func checkEquivalence(
        _ exchange: Exchange, type: String, durable: Bool, autoDelete: Bool, isInternal: Bool,
        arguments: FieldTable
    ) throws {
        func fail(_ argument: String, _ received: String, _ current: String) -> AMQPError {
            .inequivalent(
                argument, kind: "exchange", name: exchange.name, vhost: name, received: received, current: current)
        }
        if exchange.typeName != type { throw fail("type", "'\(type)'", "'\(exchange.typeName)'") }
        if exchange.durable != durable { throw fail("durable", "'\(durable)'", "'\(exchange.durable)'") }
        if exchange.autoDelete != autoDelete {
            throw fail("auto_delete", "'\(autoDelete)'", "'\(exchange.autoDelete)'")
        }
        if exchange.isInternal != isInternal { throw fail("internal", "'\(isInternal)'", "'\(exchange.isInternal)'") }
        try ArgumentValidation.checkEquivalentArguments(
            current: exchange.arguments, received: arguments, keys: ["alternate-exchange"], kind: "exchange",
            name: exchange.name, vhost: name)
    }

    public func deleteExchange(name exchangeName: String, ifUnused: Bool) throws {
        if exchangeName.isEmpty {
            throw AMQPError(.accessRefused, "operation not permitted on the default exchange")
        }
        if exchangeName.hasPrefix("amq.") {
            throw AMQPError(
                .accessRefused, "deletion of system exchange '\(exchangeName)' in vhost '\(name)' not allowed")
        }
        guard let exchange = exchanges[exchangeName] else {
            throw AMQPError.noExchange(exchangeName, vhost: name)
        }
        if ifUnused && !exchange.bindings.isEmpty {
            throw AMQPError(.preconditionFailed, "exchange '\(exchangeName)' in vhost '\(name)' in use")
        }
        removeExchange(exchange)
    }

    private func removeExchange(_ exchange: Exchange) {
        exchanges[exchange.name] = nil
        if exchange.durable { definitionsVersion &+= 1 }
        let destination = BindingDestination.exchange(exchange)
        var emptied: [Exchange] = []
        for source in exchanges.values where source.bindings.contains(where: { $0.destination == destination }) {
            source.removeBindings(to: destination)
            emptied.append(source)
        }
        emptied.forEach(autoDeleteIfUnused)
    }

    /// An auto-delete exchange goes away when its last binding as a source is removed.
    private func autoDeleteIfUnused(_ exchange: Exchange) {
        if exchange.autoDelete && exchange.bindings.isEmpty && exchanges[exchange.name] === exchange {
            removeExchange(exchange)
        }
    }

    // MARK: Queues

    /// Declares a queue; `isRecovery` (restoring saved definitions) allows the server-generated
    /// `amq.gen-` names that clients may not choose.
    public func declareQueue(
        name requestedName: String, passive: Bool, durable: Bool, exclusive: Bool, autoDelete: Bool,
        arguments: FieldTable, connection: ConnectionID, isRecovery: Bool = false,
        authorize: (_ name: String, _ creating: Bool) throws -> Void = { _, _ in }
    ) throws -> Queue {
        if passive {
            if requestedName.isEmpty { throw AMQPError.noQueue(requestedName, vhost: name) }
            let queue = try queue(named: requestedName, usableBy: connection)
            // A passive declare counts as a use for x-expires, as in RabbitMQ.
            queue.markUsed()
            return queue
        }
        if requestedName.hasPrefix("amq.") && !isRecovery {
            throw AMQPError(.accessRefused, "queue name '\(requestedName)' contains reserved prefix 'amq.*'")
        }
        let queueName = requestedName.isEmpty ? queueNames.next() : requestedName
        // Permissions are checked on the final name, so a server-named queue needs the right to
        // configure `amq.gen-*`.
        try authorize(queueName, queues[queueName] == nil)
        // An existing queue is checked for equivalence only; new arguments are validated.
        if let existing = queues[queueName] {
            // A redeclare must match exclusivity exactly (RabbitMQ's strict check).
            if existing.exclusiveOwner != (exclusive ? connection : nil) {
                throw lockedQueue(existing)
            }
            func fail(_ argument: String, _ received: Bool, _ current: Bool) -> AMQPError {
                .inequivalent(
                    argument, kind: "queue", name: queueName, vhost: name, received: "'\(received)'",
                    current: "'\(current)'")
            }
            if existing.durable != durable { throw fail("durable", durable, existing.durable) }
            if existing.autoDelete != autoDelete { throw fail("auto_delete", autoDelete, existing.autoDelete) }
            try ArgumentValidation.checkEquivalentArguments(
                current: existing.arguments, received: arguments,
                keys: ArgumentValidation.equivalenceCheckedQueueArguments,
                kind: "queue", name: queueName, vhost: name)
            existing.markUsed()
            return existing
        }
        try ArgumentValidation.validateQueueArguments(arguments, queue: queueName, vhost: name)
        if let limit = limits.maxQueues, queues.count >= limit, !isRecovery {
            throw AMQPError(
                .preconditionFailed,
                "cannot declare queue '\(queueName)': queue limit in vhost '\(name)' (\(limit)) is reached")
        }
        let queue = Queue(
            name: queueName, vhost: name, durable: durable, autoDelete: autoDelete,
            exclusiveOwner: exclusive ? connection : nil, arguments: arguments)
        queue.clock = clock
        queue.expiryScheduler = expiryScheduler
        queue.deadLetterTarget = self
        if queue.isSaved, let messageLog { queue.enablePaging(messageLog, inMemoryLimit: inMemoryMessageLimit) }
        queue.onAutoDelete = { [unowned self] queue in
            _ = self.removeQueue(queue)
        }
        queue.onExpire = { [unowned self] queue in
            _ = self.removeQueue(queue)
        }
        queues[queueName] = queue
        if queue.isSaved { definitionsVersion &+= 1 }
        applyPolicies(to: queue)
        queue.markUsed()
        return queue
    }

    /// Deletes a queue; returns the number of ready messages it held.
    public func deleteQueue(name queueName: String, ifUnused: Bool, ifEmpty: Bool, connection: ConnectionID) throws
        -> Int
    {
        let queue = try self.queue(named: queueName, usableBy: connection)
        if ifUnused && queue.consumerCount > 0 {
            throw AMQPError(.preconditionFailed, "queue '\(queueName)' in vhost '\(name)' in use")
        }
        if ifEmpty && queue.messageCount > 0 {
            throw AMQPError(.preconditionFailed, "queue '\(queueName)' in vhost '\(name)' not empty")
        }
        return removeQueue(queue)
    }

    /// Deletes every exclusive queue the closing connection owned.
    public func connectionClosed(_ connection: ConnectionID) {
        for queue in queues.values where queue.exclusiveOwner == connection {
            _ = removeQueue(queue)
        }
    }

    private func removeQueue(_ queue: Queue) -> Int {
        guard queues[queue.name] === queue else { return 0 }
        queues[queue.name] = nil
        if queue.isSaved { definitionsVersion &+= 1 }
        let destination = BindingDestination.queue(queue)
        var emptied: [Exchange] = []
        for exchange in exchanges.values where exchange.bindings.contains(where: { $0.destination == destination }) {
            exchange.removeBindings(to: destination)
            emptied.append(exchange)
        }
        let count = queue.markDeleted()
        emptied.forEach(autoDeleteIfUnused)
        return count
    }

    // MARK: Bindings

    public func bind(
        destination: BindingDestination, source sourceName: String, routingKey: String, arguments: FieldTable
    ) throws {
        if sourceName.isEmpty || destination.isDefaultExchange {
            throw AMQPError(.accessRefused, "operation not permitted on the default exchange")
        }
        let source = try exchange(named: sourceName)
        if source.kind == .headers, HeadersMatch.mode(of: arguments) == nil {
            throw AMQPError(
                .preconditionFailed,
                "Invalid x-match field value \(arguments["x-match"].map(Self.describe) ?? ""); expected all, any, all-with-x, or any-with-x"
            )
        }
        if source.addBinding(Binding(destination: destination, routingKey: routingKey, arguments: arguments)),
            Self.isSaved(source: source, destination: destination)
        {
            definitionsVersion &+= 1
        }
    }

    public func unbind(
        destination: BindingDestination, source sourceName: String, routingKey: String, arguments: FieldTable
    ) throws {
        if sourceName.isEmpty || destination.isDefaultExchange {
            throw AMQPError(.accessRefused, "operation not permitted on the default exchange")
        }
        guard let source = exchanges[sourceName] else {
            throw AMQPError.noExchange(sourceName, vhost: name)
        }
        if source.removeBinding(Binding(destination: destination, routingKey: routingKey, arguments: arguments)) {
            if Self.isSaved(source: source, destination: destination) { definitionsVersion &+= 1 }
            autoDeleteIfUnused(source)
        }
    }

    /// Whether a binding survives a restart: both its ends do.
    static func isSaved(source: Exchange, destination: BindingDestination) -> Bool {
        switch destination {
        case .queue(let queue): source.durable && queue.isSaved
        case .exchange(let exchange): source.durable && exchange.durable
        }
    }

    private static func describe(_ value: FieldValue) -> String {
        value.stringValue.map { "<<\"\($0)\">>" } ?? ArgumentValidation.render(value)
    }

    // MARK: Routing

    /// The queues a message published to `exchange` with `routingKey` reaches, each at most once,
    /// following exchange-to-exchange bindings (cycles included) and alternate exchanges.
    public func route(exchange: Exchange, routingKey: String, headers: () -> FieldTable?) -> [Queue] {
        var result: [Queue] = []
        route(exchange: exchange, routingKey: routingKey, headers: headers, into: &result)
        return result
    }

    /// Appends the routed queues to `result`, which the caller reuses from publish to publish.
    ///
    /// `extraRoutingKeys` are the sender-selected `CC`/`BCC` keys: every exchange on the way
    /// matches all keys, and an alternate exchange is used only when none of them matched. The
    /// common case (one exchange, one key, no exchange-to-exchange bindings) allocates nothing:
    /// the worklist and the set of visited exchanges exist only when a binding leads to another
    /// exchange or to an alternate exchange.
    public func route(
        exchange: Exchange, routingKey: String, extraRoutingKeys: [String] = [], headers: () -> FieldTable?,
        into result: inout [Queue]
    ) {
        if exchange.isDefault {
            if let queue = queues[routingKey] { result.append(queue) }
            for key in extraRoutingKeys {
                if let queue = queues[key], !result.contains(where: { $0 === queue }) { result.append(queue) }
            }
            return
        }
        var pending: [Exchange] = []
        var seen = Set<ObjectIdentifier>()
        var current = exchange
        var index = 0
        while true {
            var matchedAny = false
            let found: (BindingDestination) -> Void = { destination in
                matchedAny = true
                switch destination {
                case .queue(let queue):
                    if !result.contains(where: { $0 === queue }) { result.append(queue) }
                case .exchange(let next):
                    if seen.isEmpty { seen.insert(ObjectIdentifier(exchange)) }
                    if seen.insert(ObjectIdentifier(next)).inserted { pending.append(next) }
                }
            }
            current.route(routingKey: routingKey, headers: headers, found: found)
            for key in extraRoutingKeys {
                current.route(routingKey: key, headers: headers, found: found)
            }
            if !matchedAny, let alternateName = current.alternateExchange, let alternate = exchanges[alternateName] {
                if seen.isEmpty { seen.insert(ObjectIdentifier(exchange)) }
                if seen.insert(ObjectIdentifier(alternate)).inserted { pending.append(alternate) }
            }
            guard index < pending.count else { return }
            current = pending[index]
            index += 1
        }
    }
}

import AMQPWire

/// An exchange and the bindings that leave it, indexed for its kind's routing rule.
///
/// Each kind keeps the index that makes its lookup cheap: a dictionary by key (direct), a flat
/// list (fanout), a word trie (topic), or the bindings themselves (headers).
public final class Exchange {
    public let name: String
    public let vhost: String
    public let kind: ExchangeKind
    public let durable: Bool
    public let autoDelete: Bool
    public let isInternal: Bool
    public let arguments: FieldTable
    /// An `x-delayed-message` exchange: holds messages with an `x-delay` header until due, then
    /// routes them by `kind` (its `x-delayed-type`).
    public let isDelayed: Bool

    public private(set) var bindings: [Binding] = []
    /// Messages published to this exchange (`publish`) and routed on (`publishOut`).
    public var stats = MessageStats()
    private var byRoutingKey: [String: [BindingDestination]] = [:]
    private var fanout: [BindingDestination] = []
    private var topic = TopicTrie()

    public init(
        name: String, vhost: String, kind: ExchangeKind, durable: Bool, autoDelete: Bool, isInternal: Bool,
        arguments: FieldTable, isDelayed: Bool = false
    ) {
        self.isDelayed = isDelayed
        self.name = name
        self.vhost = vhost
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.isInternal = isInternal
        self.arguments = arguments
    }

    /// The type a client declared: the routing kind, or `x-delayed-message`.
    public var typeName: String { isDelayed ? DelayedMessages.exchangeType : kind.rawValue }

    /// The default exchange (named ""), which routes to the queue named by the routing key.
    public var isDefault: Bool { name.isEmpty }

    /// The policy in effect, if any.
    public internal(set) var policy: Policy?

    /// Where unroutable messages go: the `alternate-exchange` argument, else the policy's.
    public var alternateExchange: String? {
        (arguments["alternate-exchange"] ?? policy?.definition["alternate-exchange"])?.stringValue
    }

    /// Adds a binding; returns false when an identical binding already existed.
    @discardableResult
    public func addBinding(_ binding: Binding) -> Bool {
        guard !bindings.contains(binding) else { return false }
        bindings.append(binding)
        switch kind {
        case .direct:
            byRoutingKey[binding.routingKey, default: []].append(binding.destination)
        case .fanout:
            if !fanout.contains(binding.destination) { fanout.append(binding.destination) }
        case .topic:
            topic.insert(pattern: binding.routingKey, destination: binding.destination)
        case .headers:
            break
        }
        return true
    }

    /// Removes a binding; returns false when there was none.
    @discardableResult
    public func removeBinding(_ binding: Binding) -> Bool {
        guard let index = bindings.firstIndex(of: binding) else { return false }
        bindings.remove(at: index)
        rebuildIndex()
        return true
    }

    /// Removes every binding to `destination` (it is being deleted).
    public func removeBindings(to destination: BindingDestination) {
        let before = bindings.count
        bindings.removeAll { $0.destination == destination }
        if bindings.count != before { rebuildIndex() }
    }

    public func hasBinding(_ binding: Binding) -> Bool {
        bindings.contains(binding)
    }

    private func rebuildIndex() {
        byRoutingKey = [:]
        fanout = []
        topic = TopicTrie()
        let all = bindings
        bindings = []
        for binding in all { addBinding(binding) }
    }

    /// Calls `found` with each destination this exchange's own bindings select for the message.
    func route(routingKey: String, headers: () -> FieldTable?, found: (BindingDestination) -> Void) {
        switch kind {
        case .direct:
            byRoutingKey[routingKey]?.forEach(found)
        case .fanout:
            fanout.forEach(found)
        case .topic:
            topic.match(routingKey, found: found)
        case .headers:
            let messageHeaders = headers()
            for binding in bindings where HeadersMatch.matches(binding: binding.arguments, headers: messageHeaders) {
                found(binding.destination)
            }
        }
    }
}

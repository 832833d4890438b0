import WarrenCore

/// One connection's rights: its user's permissions in the vhost it opened, checked where
/// RabbitMQ's channel checks them, with RabbitMQ's 403 texts.
///
/// Publishing checks write access on every message, so the answer per exchange is cached
/// (RabbitMQ keeps a similar per-channel cache), and `.*` never runs a regex at all.
final class ResourceAccess {
    struct TopicPatterns {
        var write: PermissionPattern
        var read: PermissionPattern
    }

    enum Resource {
        case queue, exchange

        var name: String {
            switch self {
            case .queue: "queue"
            case .exchange: "exchange"
            }
        }
    }

    let user: User
    let vhost: String
    private let permissions: Permissions
    private let topics: [String: TopicPatterns]
    /// Exchanges this connection has already been allowed to publish to.
    private var writableExchanges: Set<String> = []

    init(user: User, vhost: String, permissions: Permissions, topics: [String: TopicPatterns]) {
        self.user = user
        self.vhost = vhost
        self.permissions = permissions
        self.topics = topics
    }

    /// Throws 403 ACCESS_REFUSED unless the user's `kind` pattern matches the resource's name.
    func check(_ kind: Permissions.Kind, _ resource: Resource, _ name: String) throws(AMQPError) {
        // RabbitMQ checks (and names) the default exchange as `amq.default`.
        let name = resource == .exchange && name.isEmpty ? "amq.default" : name
        guard !permissions[kind].matches(name) else { return }
        throw AMQPError(
            .accessRefused, "access to \(resource.name) '\(name)' in vhost '\(vhost)' refused for user '\(user.name)'")
    }

    /// Write access to an exchange, for each publish: cached per exchange name.
    func checkPublish(to exchange: String) throws(AMQPError) {
        if permissions.write.allowsEverything || writableExchanges.contains(exchange) { return }
        try check(.write, .exchange, exchange)
        if writableExchanges.count >= 64 { writableExchanges.removeAll(keepingCapacity: true) }
        writableExchanges.insert(exchange)
    }

    /// Topic permissions: a routing key against the write (publish) or read (bind) pattern the
    /// user has for a topic exchange; no topic permission for the exchange allows everything.
    func checkTopic(_ kind: Permissions.Kind, exchange: String, routingKey: String) throws(AMQPError) {
        guard let patterns = topics[exchange] else { return }
        let pattern = kind == .read ? patterns.read : patterns.write
        guard !pattern.matches(routingKey) else { return }
        throw AMQPError(
            .accessRefused,
            "access to topic '\(routingKey)' in exchange '\(exchange)' in vhost '\(vhost)' refused for user '\(user.name)'"
        )
    }

    /// Whether any topic permission applies in this vhost (most users have none).
    var hasTopicPermissions: Bool { !topics.isEmpty }

    /// RabbitMQ's checks for binding `destination` to `source`: write on the destination, read
    /// on the source, and for a topic source the read topic permission on the routing key.
    func checkBinding(
        _ destinationKind: Resource, _ destination: String, source: String, sourceIsTopic: Bool, routingKey: String
    ) throws(AMQPError) {
        try check(.write, destinationKind, destination)
        try check(.read, .exchange, source)
        if hasTopicPermissions && sourceIsTopic {
            try checkTopic(.read, exchange: source, routingKey: routingKey)
        }
    }

    /// A publish's write topic permission, for a topic exchange.
    func checkTopicPublish(to exchange: Exchange, routingKey: String) throws(AMQPError) {
        if hasTopicPermissions && exchange.typeName == "topic" {
            try checkTopic(.write, exchange: exchange.name, routingKey: routingKey)
        }
    }

    /// A message's `user-id` must name the user who publishes it, unless that user is an
    /// impersonator (RabbitMQ's validated user-id).
    func checkUserID(_ claimed: String) throws(AMQPError) {
        guard claimed != user.name && !user.isImpersonator else { return }
        throw AMQPError(
            .preconditionFailed, "user_id property set to '\(claimed)' but authenticated user was '\(user.name)'")
    }
}

/// Per-vhost limits, so one team's runaway client cannot take every connection or fill the
/// broker with queues (RabbitMQ's `max-connections` and `max-queues`; nil means no limit).
public struct VirtualHostLimits: Sendable, Equatable {
    public var maxConnections: Int?
    public var maxQueues: Int?

    public init(maxConnections: Int? = nil, maxQueues: Int? = nil) {
        self.maxConnections = maxConnections
        self.maxQueues = maxQueues
    }
}

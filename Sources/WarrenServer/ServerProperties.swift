import AMQPWire

/// What Warren tells clients about itself in `connection.start`.
///
/// The capabilities table lists only what works end to end: clients switch behaviour on these
/// flags, so advertising an unimplemented one (as other brokers have done with
/// `connection.blocked`) breaks them in ways that are hard to diagnose.
enum ServerProperties {
    static let version = "0.1.0"

    static let capabilities: FieldTable = [
        "publisher_confirms": .bool(true),
        "exchange_exchange_bindings": .bool(true),
        "basic.nack": .bool(true),
        "consumer_cancel_notify": .bool(true),
        "authentication_failure_close": .bool(true),
        "per_consumer_qos": .bool(true),
        "connection.blocked": .bool(true),
        "consumer_priorities": .bool(true),
        "direct_reply_to": .bool(true),
    ]

    static let table: FieldTable = [
        "product": .string("Warren"),
        "version": .string(version),
        "platform": .string("Swift"),
        "copyright": .string("Warren developers"),
        "information": .string("An AMQP 0-9-1 broker compatible with RabbitMQ clients"),
        "capabilities": .table(capabilities),
        "cluster_name": .string("warren"),
    ]
}

/// Warren's release, as `connection.start` and the management API report it.
public enum WarrenVersion {
    public static let current = ServerProperties.version
}

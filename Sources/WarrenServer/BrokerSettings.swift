/// The settings the AMQP server needs, already validated (see `WarrenConfig`).
///
/// Defaults are RabbitMQ's, so a client tuned for RabbitMQ negotiates the same limits here.
public struct BrokerSettings: Sendable {
    public var channelMax: UInt16 = 2047
    public var frameMax: UInt32 = 131_072
    /// Seconds; 0 disables heartbeats.
    public var heartbeat: UInt16 = 60
    /// The user and vhost created on first start (RabbitMQ's `default_user`, `default_pass`,
    /// `default_vhost`, `default_user_tags`), with all permissions in that vhost.
    public var defaultUser = "guest"
    /// This node's name as RabbitMQ forms it (`warren@host`): in the management API, the
    /// firehose's `node` header and Prometheus' labels.
    public var nodeName = "warren@localhost"
    public var defaultPassword = "guest"
    public var defaultVirtualHost = "/"
    public var defaultUserTags = ["administrator"]
    /// The SASL mechanisms offered (`auth_mechanisms.N`), in RabbitMQ's fixed order; EXTERNAL
    /// only on TLS listeners.
    public var authMechanisms = ["PLAIN", "AMQPLAIN"]
    /// Where passwords are checked, in order (`auth_backends.N`): the first to accept wins.
    public var authBackends: [AuthBackend] = [.internal]
    /// Most client connections at once (`connection_max`); nil for no limit.
    public var connectionMax: Int?
    /// Users who may log in only over a loopback address (RabbitMQ's `loopback_users`).
    public var loopbackUsers: Set<String> = ["guest"]
    /// Seconds a client has to finish the handshake before its socket is closed.
    public var handshakeTimeout: Double = 10
    /// The largest message body accepted (RabbitMQ's `max_message_size`).
    public var maxMessageSize: UInt64 = 16_777_216
    /// Milliseconds a delivery may stay unacknowledged before its channel is closed
    /// (RabbitMQ's `consumer_timeout`, 30 minutes); nil for no limit.
    public var consumerTimeout: UInt64? = 1_800_000
    /// Above this resident memory the memory alarm blocks publishers (40% of RAM, RabbitMQ 3.x's
    /// default).
    public var memoryHighWatermark = MemoryWatermark.relative(0.4)
    /// Below this many free bytes on the data directory's filesystem the disk alarm blocks
    /// publishers (50 MB, as RabbitMQ).
    public var diskFreeLimit: DiskFreeLimit = .absolute(50_000_000)
    /// Where the broker keeps its data: the filesystem the disk alarm watches.
    public var dataDirectory = "."
    /// The size at which the message store starts a new segment file.
    public var segmentSize = 16 << 20
    /// Milliseconds an fsync waits after it is due, so more writes share it (0: at once).
    public var syncDelay = 0
    /// How many messages per priority lane a durable queue keeps in memory; persistent ones
    /// beyond that are paged out to the message store until they near the head.
    public var maxInMemoryMessagesPerQueue = 100_000

    public init() {}

    public enum AuthBackend: String, Sendable {
        /// The users in the definitions (RabbitMQ's internal database).
        case `internal`
        /// Cyrus SASL's `sasl_checkpass` (saslauthd or sasldb); tags and permissions still
        /// come from the internal database.
        case sasl
    }
}

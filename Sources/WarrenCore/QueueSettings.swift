import AMQPWire

/// What a queue does when a length limit is reached (`x-overflow`).
public enum OverflowMode: String, Sendable {
    /// The oldest ready messages are dropped (dead-lettered with reason `maxlen`).
    case dropHead = "drop-head"
    /// The newest message is refused: `basic.nack` with confirms, silently dropped without.
    case rejectPublish = "reject-publish"
    /// Refused as with `reject-publish`, and dead-lettered with reason `maxlen`.
    case rejectPublishDeadLetter = "reject-publish-dlx"
}

/// The behaviour a queue's `x-` arguments select, read once at declare time.
///
/// Kept apart from the raw arguments because the same settings will also come from policies,
/// and the queue's hot path should test a field, not look up a table.
public struct QueueSettings: Sendable, Equatable {
    /// `x-message-ttl` in milliseconds.
    public var messageTTL: UInt64?
    /// `x-expires` in milliseconds: the queue is deleted after being unused this long.
    public var expiresAfter: UInt64?
    /// `x-dead-letter-exchange`: where rejected, expired and dropped messages are republished.
    public var deadLetterExchange: String?
    /// `x-dead-letter-routing-key`: replaces the message's routing keys when dead-lettered.
    public var deadLetterRoutingKey: String?
    /// `x-max-length`: the most ready messages the queue holds.
    public var maxLength: Int?
    /// `x-max-length-bytes`: the most body bytes its ready messages hold.
    public var maxLengthBytes: Int?
    public var overflow: OverflowMode = .dropHead
    /// `x-delivery-limit`: returns a message may have before it is dead-lettered.
    public var deliveryLimit: Int?
    /// `x-consumer-timeout` in milliseconds: overrides the broker's `consumer_timeout`.
    public var consumerTimeout: UInt64?

    public init() {}

    /// The settings the (already validated) declare arguments select.
    public init(arguments: FieldTable) {
        messageTTL = arguments["x-message-ttl"]?.integerValue.flatMap(UInt64.init(exactly:))
        expiresAfter = arguments["x-expires"]?.integerValue.flatMap(UInt64.init(exactly:))
        deadLetterExchange = arguments["x-dead-letter-exchange"]?.stringValue
        deadLetterRoutingKey = arguments["x-dead-letter-routing-key"]?.stringValue
        maxLength = arguments["x-max-length"]?.integerValue.flatMap(Int.init(exactly:))
        maxLengthBytes = arguments["x-max-length-bytes"]?.integerValue.flatMap(Int.init(exactly:))
        overflow = arguments["x-overflow"]?.stringValue.flatMap(OverflowMode.init(rawValue:)) ?? .dropHead
        deliveryLimit = arguments["x-delivery-limit"]?.integerValue.flatMap(Int.init(exactly:))
        consumerTimeout = arguments["x-consumer-timeout"]?.integerValue.flatMap(UInt64.init(exactly:))
    }

    /// Whether any length limit applies.
    public var hasLengthLimit: Bool { maxLength != nil || maxLengthBytes != nil }
}

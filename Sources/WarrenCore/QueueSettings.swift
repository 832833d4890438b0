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

/// The behaviour a queue's `x-` arguments and policies select, computed when it is declared
/// and whenever its policy changes.
///
/// Kept apart from the raw arguments so the queue's hot path tests a field instead of looking
/// up tables.
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

    /// The settings the (already validated) declare arguments select, with the queue's policy
    /// and operator policy applied by RabbitMQ's rules: for TTLs, expiry and limits the lowest of
    /// argument, policy and operator policy wins; otherwise the argument wins over the policy.
    public init(arguments: FieldTable, policy: Policy? = nil, operatorPolicy: Policy? = nil) {
        func lowest(_ key: String) -> Int64? {
            let candidates = [
                arguments["x-" + key], policy?.definition[key], operatorPolicy?.definition[key],
            ].compactMap { $0?.integerValue }
            return candidates.min()
        }
        func text(_ key: String) -> String? {
            (arguments["x-" + key] ?? policy?.definition[key])?.stringValue
        }
        messageTTL = lowest("message-ttl").flatMap(UInt64.init(exactly:))
        expiresAfter = lowest("expires").flatMap(UInt64.init(exactly:))
        deadLetterExchange = text("dead-letter-exchange")
        deadLetterRoutingKey = text("dead-letter-routing-key")
        maxLength = lowest("max-length").flatMap(Int.init(exactly:))
        maxLengthBytes = lowest("max-length-bytes").flatMap(Int.init(exactly:))
        overflow = text("overflow").flatMap(OverflowMode.init(rawValue:)) ?? .dropHead
        deliveryLimit = lowest("delivery-limit").flatMap(Int.init(exactly:))
        consumerTimeout = lowest("consumer-timeout").flatMap(UInt64.init(exactly:))
    }

    /// Whether any length limit applies.
    public var hasLengthLimit: Bool { maxLength != nil || maxLengthBytes != nil }
}

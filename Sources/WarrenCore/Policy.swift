import AMQPWire

/// A policy: settings applied to every queue or exchange whose name matches a pattern, so
/// operators can change TTLs, limits and dead-lettering without redeclaring anything.
///
/// As in RabbitMQ only one policy applies to an object, the matching one with the highest
/// priority; an operator policy (set by the operator, capping what users may choose) applies
/// on top of it.
public struct Policy: Equatable {
    public enum AppliesTo: String, Sendable {
        case queues, exchanges, all
    }

    public var name: String
    public var vhost: String
    /// A regular expression searched for anywhere in the name (not anchored), as RabbitMQ's.
    public var pattern: String
    public var appliesTo: AppliesTo
    public var priority: Int
    public var definition: FieldTable

    /// Keys a policy may set, with the check each value must pass.
    static let validators: [String: ArgumentValidation.Validator] = [
        "message-ttl": ArgumentValidation.messageTTL,
        "expires": ArgumentValidation.queueExpiry,
        "max-length": ArgumentValidation.nonNegativeInteger,
        "max-length-bytes": ArgumentValidation.nonNegativeInteger,
        "overflow": ArgumentValidation.oneOf(
            ["drop-head", "reject-publish", "reject-publish-dlx"], error: "invalid_overflow", bare: true),
        "dead-letter-exchange": ArgumentValidation.longString,
        "dead-letter-routing-key": ArgumentValidation.longString,
        "delivery-limit": ArgumentValidation.nonNegativeInteger,
        "consumer-timeout": ArgumentValidation.nonNegativeInteger,
        "alternate-exchange": ArgumentValidation.longString,
        "queue-mode": ArgumentValidation.oneOf(["default", "lazy"], error: "invalid_queue_mode"),
        // Classic mirroring: accepted now, in effect once clustering lands.
        "ha-mode": ArgumentValidation.oneOf(["all", "exactly", "nodes"], error: "invalid_ha_mode"),
        "ha-params": { _ in nil },
        "ha-sync-mode": ArgumentValidation.oneOf(["manual", "automatic"], error: "invalid_ha_sync_mode"),
        "ha-promote-on-shutdown": ArgumentValidation.oneOf(["always", "when-synced"], error: "invalid_value"),
        "ha-promote-on-failure": ArgumentValidation.oneOf(["always", "when-synced"], error: "invalid_value"),
    ]

    /// The keys an operator policy may set (numeric caps only, as in RabbitMQ 3.10).
    static let operatorKeys: Set<String> = [
        "message-ttl", "expires", "max-length", "max-length-bytes", "delivery-limit",
    ]

    private let regex: Regex<AnyRegexOutput>

    /// Checks the pattern and definition; throws an error naming what is wrong.
    public init(
        name: String, vhost: String, pattern: String, appliesTo: AppliesTo, priority: Int, definition: FieldTable,
        isOperatorPolicy: Bool = false
    ) throws {
        self.name = name
        self.vhost = vhost
        self.pattern = pattern
        self.appliesTo = appliesTo
        self.priority = priority
        self.definition = definition
        do {
            regex = try Regex(pattern)
        } catch {
            throw AMQPError(.preconditionFailed, "invalid pattern '\(pattern)'")
        }
        guard !definition.isEmpty else {
            throw AMQPError(.preconditionFailed, "the definition is empty")
        }
        for entry in definition {
            let allowed = isOperatorPolicy ? Self.operatorKeys.contains(entry.key) : Self.validators[entry.key] != nil
            guard allowed, let validator = Self.validators[entry.key] else {
                throw AMQPError(.preconditionFailed, "unknown key '\(entry.key)'")
            }
            if let problem = validator(entry.value) {
                throw AMQPError(.preconditionFailed, "invalid value for '\(entry.key)': \(problem)")
            }
        }
    }

    public static func == (a: Policy, b: Policy) -> Bool {
        (a.name, a.vhost, a.pattern, a.appliesTo, a.priority, a.definition)
            == (b.name, b.vhost, b.pattern, b.appliesTo, b.priority, b.definition)
    }

    /// Whether the policy applies to an object of this kind and name.
    func matches(_ objectName: String, isQueue: Bool) -> Bool {
        switch appliesTo {
        case .queues: guard isQueue else { return false }
        case .exchanges: guard !isQueue else { return false }
        case .all: break
        }
        return (try? regex.firstMatch(in: objectName)) != nil
    }

    /// The policy that applies to an object: the matching one with the highest priority, the
    /// first name in byte order among equals.
    static func effective(
        among policies: some Sequence<Policy>, for objectName: String, isQueue: Bool
    ) -> Policy? {
        var best: Policy?
        for policy in policies where policy.matches(objectName, isQueue: isQueue) {
            guard let current = best else {
                best = policy
                continue
            }
            if policy.priority > current.priority
                || (policy.priority == current.priority
                    && policy.name.utf8.lexicographicallyPrecedes(current.name.utf8))
            {
                best = policy
            }
        }
        return best
    }
}

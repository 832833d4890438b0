import AMQPWire

/// The `x-` arguments Warren understands on `queue.declare` and `exchange.declare`, one
/// validator per argument kind, with RabbitMQ's error terms (`{value_negative,-1}`,
/// `{unacceptable_type,longstr}`) so that clients and operators see the same text.
public enum ArgumentValidation {
    typealias Validator = @Sendable (FieldValue) -> String?

    /// Queue arguments RabbitMQ validates, and compares on a redeclare.
    static let queueValidators: [(String, Validator)] = [
        ("x-expires", queueExpiry),
        ("x-message-ttl", messageTTL),
        ("x-dead-letter-exchange", longString),
        ("x-dead-letter-routing-key", longString),
        ("x-max-length", nonNegativeInteger),
        ("x-max-length-bytes", nonNegativeInteger),
        ("x-max-priority", maxPriority),
        (
            "x-overflow",
            oneOf(["drop-head", "reject-publish", "reject-publish-dlx"], error: "invalid_overflow", bare: true)
        ),
        ("x-queue-mode", oneOf(["default", "lazy"], error: "invalid_queue_mode")),
        ("x-queue-type", oneOf(["classic"], error: "unsupported_queue_type")),
        ("x-single-active-consumer", boolean),
        ("x-delivery-limit", nonNegativeInteger),
        ("x-consumer-timeout", nonNegativeInteger),
    ]

    static var equivalenceCheckedQueueArguments: [String] { queueValidators.map(\.0) }

    static func validateQueueArguments(_ arguments: FieldTable, queue: String, vhost: String) throws {
        // The dead-letter exchange is checked as an exchange name first, with its own wording.
        if let exchange = arguments["x-dead-letter-exchange"], exchange.stringValue == nil {
            throw AMQPError(
                .preconditionFailed,
                "invalid type '\(typeName(exchange))' for arg 'x-dead-letter-exchange' in queue '\(queue)' in vhost '\(vhost)'"
            )
        }
        try validate(arguments, with: queueValidators, kind: "queue", name: queue, vhost: vhost)
        if arguments["x-dead-letter-routing-key"] != nil && arguments["x-dead-letter-exchange"] == nil {
            throw AMQPError(
                .preconditionFailed,
                "invalid arg 'x-dead-letter-routing-key' for queue '\(queue)' in vhost '\(vhost)': routing_key_but_no_dlx_defined"
            )
        }
    }

    static func validateExchangeArguments(_ arguments: FieldTable, exchange: String, vhost: String) throws {
        try validate(
            arguments, with: [("alternate-exchange", longString)], kind: "exchange", name: exchange, vhost: vhost)
    }

    private static func validate(
        _ arguments: FieldTable, with validators: [(String, Validator)], kind: String, name: String, vhost: String
    ) throws {
        for (key, validator) in validators {
            guard let value = arguments[key], let problem = validator(value) else { continue }
            throw AMQPError(
                .preconditionFailed, "invalid arg '\(key)' for \(kind) '\(name)' in vhost '\(vhost)': \(problem)")
        }
    }

    /// RabbitMQ's equivalence rule: integers compare by value whatever their width; other
    /// values must be equal; a missing value is "none".
    static func checkEquivalentArguments(
        current: FieldTable, received: FieldTable, keys: [String], kind: String, name: String, vhost: String
    ) throws {
        for key in keys {
            let old = current[key]
            let new = received[key]
            switch (old, new) {
            case (nil, nil):
                continue
            case (let old?, let new?):
                if let a = old.integerValue, let b = new.integerValue, a == b { continue }
                if old == new { continue }
                throw AMQPError.inequivalent(
                    key, kind: kind, name: name, vhost: vhost, received: "'\(render(new))'", current: "'\(render(old))'"
                )
            default:
                throw AMQPError.inequivalent(
                    key, kind: kind, name: name, vhost: vhost, received: describeTyped(new), current: describeTyped(old)
                )
            }
        }
    }

    private static func describeTyped(_ value: FieldValue?) -> String {
        guard let value else { return "none" }
        return "the value '\(render(value))' of type '\(typeName(value))'"
    }

    /// Renders a value the way Erlang's `~p`/`~s` would for the types arguments use.
    static func render(_ value: FieldValue) -> String {
        if let integer = value.integerValue { return String(integer) }
        switch value {
        case .longString: return value.stringValue ?? ""
        case .bool(let flag): return flag ? "true" : "false"
        case .double(let number): return String(number)
        case .float(let number): return String(number)
        default: return "\(value)"
        }
    }

    /// RabbitMQ's name for a field type, as it appears in its error texts.
    public static func typeName(_ value: FieldValue) -> String {
        switch value {
        case .bool: "bool"
        case .int8: "byte"
        case .uint8: "unsignedbyte"
        case .int16: "short"
        case .uint16: "unsignedshort"
        case .int32: "signedint"
        case .uint32: "unsignedint"
        case .int64: "long"
        case .float: "float"
        case .double: "double"
        case .decimal: "decimal"
        case .longString: "longstr"
        case .bytes: "binary"
        case .array: "array"
        case .timestamp: "timestamp"
        case .table: "table"
        case .void: "void"
        }
    }

    // MARK: Validators (nil = acceptable, otherwise RabbitMQ's error term)

    static func nonNegativeInteger(_ value: FieldValue) -> String? {
        // RabbitMQ 3.10 reports a non-integer here as a quoted string, unlike the other checks.
        guard let number = value.integerValue else { return "\"expected integer, got \(typeName(value))\"" }
        return number < 0 ? "{value_negative,\(number)}" : nil
    }

    /// Like a per-message expiration: from 0 to RabbitMQ's ten-year limit.
    static func messageTTL(_ value: FieldValue) -> String? {
        if let problem = nonNegativeInteger(value) { return problem }
        guard let number = value.integerValue, number <= MessageExpiration.maximum else {
            return "{value_too_large,\(value.integerValue ?? 0)}"
        }
        return nil
    }

    /// Above zero, up to the same ten-year limit.
    static func queueExpiry(_ value: FieldValue) -> String? {
        if let problem = positiveInteger(value) { return problem }
        return messageTTL(value)
    }

    static func positiveInteger(_ value: FieldValue) -> String? {
        if let problem = nonNegativeInteger(value) { return problem }
        return value.integerValue == 0 ? "{value_zero,0}" : nil
    }

    static func maxPriority(_ value: FieldValue) -> String? {
        if let problem = nonNegativeInteger(value) { return problem }
        guard let number = value.integerValue, number <= 255 else {
            return "{max_value_exceeded,\(value.integerValue ?? 0)}"
        }
        return nil
    }

    static func longString(_ value: FieldValue) -> String? {
        guard case .longString = value else { return "{unacceptable_type,\(typeName(value))}" }
        return nil
    }

    static func boolean(_ value: FieldValue) -> String? {
        guard case .bool = value else { return "{unacceptable_type,\(typeName(value))}" }
        return nil
    }

    /// One of `allowed`; RabbitMQ names the bad value in some of these errors but not all (`bare`).
    static func oneOf(_ allowed: [String], error: String, bare: Bool = false) -> Validator {
        { value in
            guard let text = value.stringValue else { return "{unacceptable_type,\(typeName(value))}" }
            if allowed.contains(text) { return nil }
            return bare ? error : "{\(error),\"\(text)\"}"
        }
    }
}

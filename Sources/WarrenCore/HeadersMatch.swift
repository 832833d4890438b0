import AMQPWire

/// The headers exchange's matching rule, as RabbitMQ implements it.
///
/// `x-match` selects `all` (the default) or `any`; the `-with-x` variants also compare binding
/// arguments whose names start with `x-`, which the plain variants ignore. A binding argument of
/// type void matches on presence alone. Values compare by *type class* then value, so an `I` 1
/// equals an `l` 1 but not the string "1".
enum HeadersMatch {
    enum Mode {
        case all, any, allWithX, anyWithX
    }

    static func mode(of arguments: FieldTable) -> Mode? {
        guard let value = arguments["x-match"] else { return .all }
        switch value.stringValue {
        case "all": return .all
        case "any": return .any
        case "all-with-x": return .allWithX
        case "any-with-x": return .anyWithX
        default: return nil
        }
    }

    static func matches(binding arguments: FieldTable, headers: FieldTable?) -> Bool {
        let mode = mode(of: arguments) ?? .all
        let includeX = mode == .allWithX || mode == .anyWithX
        let requireAll = mode == .all || mode == .allWithX
        for entry in arguments where entry.key != "x-match" {
            if !includeX && entry.key.hasPrefix("x-") { continue }
            let present = headers?[entry.key]
            let matched: Bool
            if let present {
                matched = entry.value == .void || equal(entry.value, present)
            } else {
                matched = false
            }
            if requireAll && !matched { return false }
            if !requireAll && matched { return true }
        }
        return requireAll
    }

    /// Erlang's `==` on the decoded values: numbers (integers, floats, timestamps) compare by
    /// value, strings and byte arrays by their bytes, anything else structurally.
    private static func equal(_ a: FieldValue, _ b: FieldValue) -> Bool {
        if let x = exactInteger(a), let y = exactInteger(b) { return x == y }
        if let x = number(a), let y = number(b) { return x == y }
        switch (a, b) {
        case (.longString(let x), .bytes(let y)), (.bytes(let x), .longString(let y)): return x == y
        default: return a == b
        }
    }

    private static func exactInteger(_ value: FieldValue) -> Int64? {
        if case .timestamp(let t) = value { return Int64(exactly: t) }
        return value.integerValue
    }

    private static func number(_ value: FieldValue) -> Double? {
        switch value {
        case .float(let x): Double(x)
        case .double(let x): x
        default: exactInteger(value).map(Double.init)
        }
    }
}

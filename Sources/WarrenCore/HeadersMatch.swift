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

    private static func equal(_ a: FieldValue, _ b: FieldValue) -> Bool {
        if let x = a.integerValue, let y = b.integerValue { return x == y }
        switch (a, b) {
        case (.float(let x), .float(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.float(let x), .double(let y)): return Double(x) == y
        case (.double(let x), .float(let y)): return x == Double(y)
        default: return a == b
        }
    }
}

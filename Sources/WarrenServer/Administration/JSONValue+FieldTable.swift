import AMQPWire
import Foundation

extension JSONValue {
    /// A field table as the management API shows arguments and headers.
    public init(_ table: FieldTable) {
        var members: [String: JSONValue] = [:]
        for entry in table {
            members[entry.key] = JSONValue(entry.value)
        }
        self = .object(members)
    }

    /// A field value as RabbitMQ's management API renders it: numbers as numbers, strings and
    /// byte arrays as text, timestamps as seconds.
    public init(_ value: FieldValue) {
        if let integer = value.integerValue {
            self = .integer(integer)
            return
        }
        switch value {
        case .bool(let flag): self = .bool(flag)
        case .float(let number): self = .number(Double(number))
        case .double(let number): self = .number(number)
        case .decimal(let decimal): self = .number(Double(decimal.value) / pow(10, Double(decimal.scale)))
        case .longString(let bytes), .bytes(let bytes): self = .string(String(buffer: bytes))
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .timestamp(let seconds): self = .integer(Int64(clamping: seconds))
        case .table(let table): self = JSONValue(table)
        default: self = .null
        }
    }

    /// The members of an object; nil for any other value.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public var integerValue: Int64? {
        switch self {
        case .integer(let integer): integer
        case .number(let number) where number.rounded() == number && abs(number) < 9e18: Int64(number)
        case .string(let text): Int64(text)
        default: nil
        }
    }

    /// The field table a JSON object stands for (arguments in a management request).
    public var fieldTable: FieldTable { JSONValue.table(objectValue) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// A count as JSON.
    public static func count(_ value: some BinaryInteger) -> JSONValue { .integer(Int64(clamping: value)) }

    /// An optional text, `null` when absent.
    public static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
}

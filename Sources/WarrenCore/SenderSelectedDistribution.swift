import AMQPWire

/// RabbitMQ's sender-selected distribution: the `CC` and `BCC` headers list extra routing keys
/// a message is routed with, on the same exchange. `BCC` is removed before delivery so
/// recipients do not see it.
public struct SenderSelectedDistribution: Equatable {
    public var cc: [String] = []
    public var bcc: [String] = []

    /// The extra routing keys, or nil when the headers have neither `CC` nor `BCC`.
    public init?(headers: FieldTable) throws {
        guard headers["CC"] != nil || headers["BCC"] != nil else { return nil }
        cc = try Self.routes(headers, "CC")
        bcc = try Self.routes(headers, "BCC")
    }

    /// Only long strings inside an array count; anything else but an array is an error.
    private static func routes(_ headers: FieldTable, _ key: String) throws -> [String] {
        guard let value = headers[key] else { return [] }
        guard case .array(let items) = value else {
            throw AMQPError(
                .preconditionFailed,
                "invalid message: {unacceptable_type_in_header,\"\(key)\",\(ArgumentValidation.typeName(value))}")
        }
        return items.compactMap(\.stringValue)
    }

    public var routingKeys: [String] { cc + bcc }
}

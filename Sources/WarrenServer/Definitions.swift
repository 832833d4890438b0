import AMQPWire
import Foundation
import WarrenCore

/// A RabbitMQ definitions export (`rabbitmqctl export_definitions`, `GET /api/definitions`):
/// the sections Warren imports at start-up, so a RabbitMQ set-up moves over as one file.
public struct Definitions: Decodable, Sendable {
    public struct VirtualHostEntry: Decodable, Sendable {
        public var name: String
        public var description: String?
        public var tags: Tags?
    }

    public struct PolicyEntry: Decodable, Sendable {
        public var vhost: String
        public var name: String
        public var pattern: String
        public var applyTo: String?
        public var definition: [String: JSONValue]
        public var priority: Int?

        enum CodingKeys: String, CodingKey {
            case vhost, name, pattern, definition, priority
            case applyTo = "apply-to"
        }
    }

    public struct ExchangeEntry: Decodable, Sendable {
        public var name: String
        public var vhost: String
        public var type: String
        public var durable: Bool?
        public var autoDelete: Bool?
        public var `internal`: Bool?
        public var arguments: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case name, vhost, type, durable, `internal`, arguments
            case autoDelete = "auto_delete"
        }
    }

    public struct QueueEntry: Decodable, Sendable {
        public var name: String
        public var vhost: String
        public var durable: Bool?
        public var autoDelete: Bool?
        public var arguments: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case name, vhost, durable, arguments
            case autoDelete = "auto_delete"
        }
    }

    public struct BindingEntry: Decodable, Sendable {
        public var source: String
        public var vhost: String
        public var destination: String
        public var destinationType: String
        public var routingKey: String?
        public var arguments: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case source, vhost, destination, arguments
            case destinationType = "destination_type"
            case routingKey = "routing_key"
        }
    }

    public struct UserEntry: Decodable, Sendable {
        public var name: String
        public var passwordHash: String?
        public var hashingAlgorithm: String?
        public var tags: Tags?

        enum CodingKeys: String, CodingKey {
            case name, tags
            case passwordHash = "password_hash"
            case hashingAlgorithm = "hashing_algorithm"
        }
    }

    /// RabbitMQ exports tags as a comma-separated string (3.x) or a list (newer versions).
    public struct Tags: Decodable, Sendable {
        public var names: [String]

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([String].self) {
                names = list
            } else {
                names = try container.decode(String.self).split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty }
            }
        }
    }

    public struct PermissionEntry: Decodable, Sendable {
        public var user: String
        public var vhost: String
        public var configure: String
        public var write: String
        public var read: String
    }

    public struct TopicPermissionEntry: Decodable, Sendable {
        public var user: String
        public var vhost: String
        public var exchange: String
        public var write: String
        public var read: String
    }

    /// A runtime parameter; Warren reads the `vhost-limits` component (`max-connections`,
    /// `max-queues`) and the `operator_policy` component, as RabbitMQ exports them, and skips
    /// (with a warning) plugins' components such as federation upstreams.
    public struct ParameterEntry: Decodable, Sendable {
        public var vhost: String
        public var component: String
        public var name: String
        public var value: JSONValue
    }

    public var vhosts: [VirtualHostEntry]?
    public var users: [UserEntry]?
    public var permissions: [PermissionEntry]?
    public var topicPermissions: [TopicPermissionEntry]?
    public var parameters: [ParameterEntry]?
    public var policies: [PolicyEntry]?
    /// Not in RabbitMQ's exports (it keeps operator policies apart); Warren reads them here.
    public var operatorPolicies: [PolicyEntry]?
    public var exchanges: [ExchangeEntry]?
    public var queues: [QueueEntry]?
    public var bindings: [BindingEntry]?

    enum CodingKeys: String, CodingKey {
        case vhosts, users, permissions, parameters, policies, exchanges, queues, bindings
        case operatorPolicies = "operator_policies"
        case topicPermissions = "topic_permissions"
    }

    /// Parses a definitions document; with `vhost`, a one-vhost export (whose entries carry
    /// no `vhost` key) whose objects all go into that vhost.
    public static func parse(_ data: Data, intoVirtualHost vhost: String?) throws -> Definitions {
        guard let vhost else { return try parse(data) }
        guard case .object(var members) = try JSONDecoder().decode(JSONValue.self, from: data) else {
            throw DefinitionsError("definitions must be a JSON object")
        }
        for (key, value) in members {
            guard case .array(let items) = value else { continue }
            members[key] = .array(
                items.map { item in
                    guard case .object(var fields) = item else { return item }
                    fields["vhost"] = .string(vhost)
                    return .object(fields)
                })
        }
        return try parse(JSONEncoder().encode(JSONValue.object(members)))
    }

    /// Parses a definitions file; the error says what is malformed.
    public static func parse(_ data: Data) throws -> Definitions {
        do {
            return try JSONDecoder().decode(Definitions.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
        {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            throw DefinitionsError("\(path.joined(separator: ".")): \(context.debugDescription)")
        }
    }
}

/// A definitions file that cannot be loaded, with the reason.
public struct DefinitionsError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A JSON value of a definitions file or a management API request or response, as it becomes
/// (or comes from) an AMQP field value.
public enum JSONValue: Codable, Sendable, Equatable {
    case bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]),
        object([String: JSONValue]), null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let flag): try container.encode(flag)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let members): try container.encode(members)
        case .null: try container.encodeNil()
        }
    }

    var fieldValue: FieldValue {
        switch self {
        case .bool(let flag): .bool(flag)
        case .integer(let integer): .int64(integer)
        case .number(let number): .double(number)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(\.fieldValue))
        case .object(let members): .table(JSONValue.table(members))
        case .null: .void
        }
    }

    /// A table with keys in byte order, so imports are deterministic.
    static func table(_ members: [String: JSONValue]?) -> FieldTable {
        FieldTable(
            (members ?? [:]).sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map {
                FieldTable.Entry(key: $0.key, value: $0.value.fieldValue)
            })
    }
}

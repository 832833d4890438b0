import AMQPWire
import Foundation
import WarrenCore

/// The durable definitions (virtual hosts, policies, durable exchanges and queues, and the
/// bindings between durable ones) kept in the data directory in RabbitMQ's definitions format,
/// rewritten atomically whenever they change: temp file, fsync, rename, fsync the directory.
final class DefinitionsFile {
    let path: String
    private var savedVersion: UInt64?

    init(directory: String) {
        self.path = directory + "/definitions.json"
    }

    /// The saved definitions, if there are any.
    func load() throws -> Definitions? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try Definitions.parse(Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes the definitions if anything in them changed since the last write. Called at the
    /// end of each read cycle, before replies go out; declares are rare, so this stays cheap.
    func saveIfChanged(_ broker: Broker) {
        let version = Self.version(broker)
        guard version != savedVersion else { return }
        do {
            try write(Self.export(broker))
            savedVersion = version
        } catch {
            broker.logger.error("cannot save definitions to \(path): \(error)")
        }
    }

    /// Marks the current state as saved (just loaded from this file).
    func markSaved(_ broker: Broker) {
        savedVersion = Self.version(broker)
    }

    /// Changes whenever anything saved changes (each part only ever counts up).
    private static func version(_ broker: Broker) -> UInt64 {
        broker.vhosts.values.reduce(UInt64(broker.vhosts.count) &+ broker.accessControl.version) {
            $0 &+ $1.definitionsVersion
        }
    }

    private func write(_ data: Data) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// The export as a JSON value, for the management API: every vhost's (`GET
    /// /api/definitions`), or one vhost's without the broker-wide sections and without the
    /// `vhost` keys (`GET /api/definitions/{vhost}`), as RabbitMQ shapes them.
    static func exportDocument(_ broker: Broker, vhost: String? = nil) throws -> JSONValue {
        var document = try JSONDecoder().decode(
            JSONValue.self, from: export(broker, vhost: vhost, includeTransient: true))
        guard vhost != nil, case .object(var members) = document else { return document }
        for key in ["users", "vhosts", "permissions", "topic_permissions", "product_name", "product_version"] {
            members[key] = nil
        }
        for (key, value) in members {
            guard case .array(let items) = value else { continue }
            members[key] = .array(
                items.map { item in
                    guard case .object(var fields) = item else { return item }
                    fields["vhost"] = nil
                    return .object(fields)
                })
        }
        document = .object(members)
        return document
    }

    /// The export, as `GET /api/definitions` shapes it (only `vhost`'s objects, when given).
    ///
    /// The data directory's copy keeps only what survives a restart; the API's export, as
    /// RabbitMQ's, also lists transient (non-exclusive) queues, exchanges and their bindings.
    static func export(_ broker: Broker, vhost only: String? = nil, includeTransient: Bool = false) throws -> Data {
        var vhosts: [[String: Any]] = []
        var policies: [[String: Any]] = []
        var operatorPolicies: [[String: Any]] = []
        var exchanges: [[String: Any]] = []
        var queues: [[String: Any]] = []
        var bindings: [[String: Any]] = []
        var parameters: [[String: Any]] = []
        for vhost in broker.vhosts.values.sorted(by: { $0.name < $1.name }) where only == nil || vhost.name == only {
            vhosts.append(["name": vhost.name, "description": vhost.description, "tags": vhost.tags])
            var limits: [String: Any] = [:]
            if let limit = vhost.limits.maxConnections { limits["max-connections"] = limit }
            if let limit = vhost.limits.maxQueues { limits["max-queues"] = limit }
            if !limits.isEmpty {
                parameters.append(["vhost": vhost.name, "component": "vhost-limits", "name": "limits", "value": limits])
            }
            policies += vhost.policies.values.sorted { $0.name < $1.name }.map(policyJSON)
            operatorPolicies += vhost.operatorPolicies.values.sorted { $0.name < $1.name }.map(policyJSON)
            for exchange in vhost.exchanges.values.sorted(by: { $0.name < $1.name })
            where (exchange.durable || includeTransient) && !exchange.isDefault && !exchange.name.hasPrefix("amq.") {
                exchanges.append([
                    "name": exchange.name, "vhost": vhost.name, "type": exchange.typeName,
                    "durable": exchange.durable, "auto_delete": exchange.autoDelete, "internal": exchange.isInternal,
                    "arguments": json(exchange.arguments),
                ])
            }
            func listed(_ queue: Queue) -> Bool {
                queue.isSaved || (includeTransient && queue.exclusiveOwner == nil)
            }
            for queue in vhost.queues.values.sorted(by: { $0.name < $1.name }) where listed(queue) {
                queues.append([
                    "name": queue.name, "vhost": vhost.name, "durable": queue.durable, "auto_delete": queue.autoDelete,
                    "arguments": json(queue.arguments),
                ])
            }
            for source in vhost.exchanges.values.sorted(by: { $0.name < $1.name })
            where (source.durable || includeTransient) && !source.isDefault {
                for binding in source.bindings {
                    let destination: (name: String, type: String)
                    switch binding.destination {
                    case .queue(let queue):
                        guard listed(queue) else { continue }
                        destination = (queue.name, "queue")
                    case .exchange(let target):
                        guard target.durable || includeTransient else { continue }
                        destination = (target.name, "exchange")
                    }
                    bindings.append([
                        "source": source.name, "vhost": vhost.name, "destination": destination.name,
                        "destination_type": destination.type, "routing_key": binding.routingKey,
                        "arguments": json(binding.arguments),
                    ])
                }
            }
        }
        let document: [String: Any] = [
            "product_name": "Warren", "product_version": ServerProperties.version, "vhosts": vhosts,
            "policies": policies, "operator_policies": operatorPolicies, "exchanges": exchanges, "queues": queues,
            "bindings": bindings, "parameters": parameters,
        ].merging(accessControlJSON(broker.accessControl)) { first, _ in first }
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }

    private static func accessControlJSON(_ access: AccessControl) -> [String: Any] {
        let users: [[String: Any]] = access.users.values.sorted { $0.name < $1.name }.map { user in
            [
                "name": user.name, "password_hash": user.passwordHash?.base64 ?? "",
                "hashing_algorithm": (user.passwordHash?.algorithm ?? .sha256).rawValue,
                "tags": user.tags, "limits": [String: Any](),
            ]
        }
        var permissions: [[String: Any]] = []
        var topicPermissions: [[String: Any]] = []
        for (vhost, byUser) in access.permissions.sorted(by: { $0.key < $1.key }) {
            for (user, granted) in byUser.sorted(by: { $0.key < $1.key }) {
                permissions.append([
                    "user": user, "vhost": vhost, "configure": granted.configure.source, "write": granted.write.source,
                    "read": granted.read.source,
                ])
            }
        }
        for (vhost, byUser) in access.topicPermissions.sorted(by: { $0.key < $1.key }) {
            for (user, byExchange) in byUser.sorted(by: { $0.key < $1.key }) {
                for permission in byExchange.values.sorted(by: { $0.exchange < $1.exchange }) {
                    topicPermissions.append([
                        "user": user, "vhost": vhost, "exchange": permission.exchange, "write": permission.write,
                        "read": permission.read,
                    ])
                }
            }
        }
        return ["users": users, "permissions": permissions, "topic_permissions": topicPermissions]
    }

    private static func policyJSON(_ policy: Policy) -> [String: Any] {
        [
            "vhost": policy.vhost, "name": policy.name, "pattern": policy.pattern,
            "apply-to": policy.appliesTo.rawValue, "priority": policy.priority, "definition": json(policy.definition),
        ]
    }

    static func json(_ table: FieldTable) -> [String: Any] {
        var object: [String: Any] = [:]
        for entry in table {
            object[entry.key] = json(entry.value)
        }
        return object
    }

    static func json(_ value: FieldValue) -> Any {
        if let integer = value.integerValue { return integer }
        switch value {
        case .bool(let flag): return flag
        case .float(let number): return Double(number)
        case .double(let number): return number
        case .decimal(let decimal): return Double(decimal.value) / pow(10, Double(decimal.scale))
        case .longString(let bytes), .bytes(let bytes): return String(buffer: bytes)
        case .array(let items): return items.map(json)
        case .timestamp(let seconds): return seconds
        case .table(let table): return json(table)
        default: return NSNull()
        }
    }
}

import AMQPWire
import WarrenCore

/// Loading a definitions file into the running broker, in RabbitMQ's order: users, virtual
/// hosts, permissions, topic permissions, parameters, policies, exchanges, queues, bindings.
extension Broker {
    /// Declares what `definitions` describes; throws naming the first entry that fails.
    func importDefinitions(_ definitions: Definitions) throws {
        for entry in definitions.users ?? [] {
            accessControl.putUser(try user(entry))
        }
        for entry in definitions.vhosts ?? [] {
            if vhosts[entry.name] == nil { addVirtualHost(named: entry.name) }
            if let description = entry.description { vhosts[entry.name]?.description = description }
            if let tags = entry.tags { vhosts[entry.name]?.tags = tags.names }
        }
        for entry in definitions.permissions ?? [] {
            _ = try virtualHost(entry.vhost, for: "permissions of user '\(entry.user)'")
            let permissions = try wrappedRegex("permissions of user '\(entry.user)'") {
                try Permissions(configure: entry.configure, write: entry.write, read: entry.read)
            }
            accessControl.setPermissions(permissions, user: entry.user, vhost: entry.vhost)
        }
        for entry in definitions.topicPermissions ?? [] {
            let what = "topic permissions of user '\(entry.user)' on exchange '\(entry.exchange)'"
            _ = try virtualHost(entry.vhost, for: what)
            // Checked now so a typo fails the import, not every publish later.
            _ = try wrappedRegex(what) { (try PermissionPattern(entry.write), try PermissionPattern(entry.read)) }
            accessControl.setTopicPermission(
                TopicPermission(exchange: entry.exchange, write: entry.write, read: entry.read), user: entry.user,
                vhost: entry.vhost)
        }
        var operatorPolicies = definitions.operatorPolicies ?? []
        for entry in definitions.parameters ?? [] {
            let what = "parameter '\(entry.name)' of component '\(entry.component)'"
            guard ["vhost-limits", "operator_policy"].contains(entry.component) else {
                logger.warning("definitions: \(what) ignored (a plugin's setting Warren does not have)")
                continue
            }
            let vhost = try virtualHost(entry.vhost, for: what)
            guard case .object(let value) = entry.value else {
                throw DefinitionsError("\(what): value must be an object")
            }
            if entry.component == "vhost-limits" {
                vhost.limits = try limits(value, for: what)
            } else {
                operatorPolicies.append(try operatorPolicy(entry, value))
            }
        }
        for (entries, isOperatorPolicy) in [(definitions.policies, false), (operatorPolicies, true)] {
            for entry in entries ?? [] {
                let vhost = try virtualHost(entry.vhost, for: "policy '\(entry.name)'")
                guard let appliesTo = Policy.AppliesTo(rawValue: entry.applyTo ?? "all") else {
                    throw DefinitionsError("policy '\(entry.name)': apply-to must be queues, exchanges or all")
                }
                let policy = try wrapped("policy '\(entry.name)'") {
                    try Policy(
                        name: entry.name, vhost: entry.vhost, pattern: entry.pattern, appliesTo: appliesTo,
                        priority: entry.priority ?? 0, definition: JSONValue.table(entry.definition),
                        isOperatorPolicy: isOperatorPolicy)
                }
                vhost.setPolicy(policy, isOperatorPolicy: isOperatorPolicy)
            }
        }
        for entry in definitions.exchanges ?? [] {
            let vhost = try virtualHost(entry.vhost, for: "exchange '\(entry.name)'")
            try wrapped("exchange '\(entry.name)'") {
                _ = try vhost.declareExchange(
                    name: entry.name, type: entry.type, passive: false, durable: entry.durable ?? true,
                    autoDelete: entry.autoDelete ?? false, isInternal: entry.internal ?? false,
                    arguments: JSONValue.table(entry.arguments))
            }
        }
        for entry in definitions.queues ?? [] {
            let vhost = try virtualHost(entry.vhost, for: "queue '\(entry.name)'")
            try wrapped("queue '\(entry.name)'") {
                _ = try vhost.declareQueue(
                    name: entry.name, passive: false, durable: entry.durable ?? true, exclusive: false,
                    autoDelete: entry.autoDelete ?? false, arguments: JSONValue.table(entry.arguments),
                    connection: ConnectionID(0), isRecovery: true)
            }
        }
        for entry in definitions.bindings ?? [] {
            let what = "binding from '\(entry.source)' to '\(entry.destination)'"
            let vhost = try virtualHost(entry.vhost, for: what)
            try wrapped(what) {
                let destination: BindingDestination =
                    entry.destinationType == "exchange"
                    ? .exchange(try vhost.exchange(named: entry.destination))
                    : .queue(try vhost.queue(named: entry.destination))
                try vhost.bind(
                    destination: destination, source: entry.source, routingKey: entry.routingKey ?? "",
                    arguments: JSONValue.table(entry.arguments))
            }
        }
    }

    private func user(_ entry: Definitions.UserEntry) throws -> User {
        let algorithmName = entry.hashingAlgorithm ?? PasswordHash.Algorithm.sha256.rawValue
        guard let algorithm = PasswordHash.Algorithm(rawValue: algorithmName) else {
            throw DefinitionsError("user '\(entry.name)': unknown hashing_algorithm '\(algorithmName)'")
        }
        let text = entry.passwordHash ?? ""
        let hash = PasswordHash(base64: text, algorithm: algorithm)
        if hash == nil && !text.isEmpty {
            throw DefinitionsError("user '\(entry.name)': password_hash is not base64 of a salt and a hash")
        }
        return User(name: entry.name, passwordHash: hash, tags: entry.tags?.names ?? [])
    }

    private func limits(_ value: [String: JSONValue], for what: String) throws -> VirtualHostLimits {
        var limits = VirtualHostLimits()
        for (key, setting) in value {
            // RabbitMQ: a negative limit means none.
            guard case .integer(let number) = setting else {
                throw DefinitionsError("\(what): \(key) must be an integer")
            }
            let limit = number < 0 ? nil : Int(number)
            switch key {
            case "max-connections": limits.maxConnections = limit
            case "max-queues": limits.maxQueues = limit
            default: throw DefinitionsError("\(what): unknown limit '\(key)' (max-connections, max-queues)")
            }
        }
        return limits
    }

    /// An operator policy as RabbitMQ exports it: a `parameters` entry whose value holds the policy.
    private func operatorPolicy(
        _ entry: Definitions.ParameterEntry, _ value: [String: JSONValue]
    ) throws -> Definitions.PolicyEntry {
        let what = "operator policy '\(entry.name)'"
        guard case .string(let pattern)? = value["pattern"], case .object(let definition)? = value["definition"]
        else { throw DefinitionsError("\(what): needs a pattern and a definition") }
        var applyTo: String?
        if case .string(let text)? = value["apply-to"] { applyTo = text }
        var priority: Int?
        if case .integer(let number)? = value["priority"] { priority = Int(clamping: number) }
        return Definitions.PolicyEntry(
            vhost: entry.vhost, name: entry.name, pattern: pattern, applyTo: applyTo, definition: definition,
            priority: priority)
    }

    private func wrappedRegex<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw DefinitionsError("\(what): invalid regular expression: \(error)")
        }
    }

    private func virtualHost(_ name: String, for what: String) throws -> VirtualHost {
        guard let vhost = vhosts[name] else {
            throw DefinitionsError("\(what): no vhost '\(name)' (list it under \"vhosts\")")
        }
        return vhost
    }

    private func wrapped<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AMQPError {
            throw DefinitionsError("\(what): \(error.explanation)")
        }
    }
}

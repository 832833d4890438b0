import AMQPWire
import WarrenCore

/// Loading a definitions file into the running broker, in RabbitMQ's order: virtual hosts,
/// policies, exchanges, queues, bindings.
extension Broker {
    /// Declares what `definitions` describes; throws naming the first entry that fails.
    func importDefinitions(_ definitions: Definitions) throws {
        for entry in definitions.vhosts ?? [] where vhosts[entry.name] == nil {
            addVirtualHost(named: entry.name)
        }
        for (entries, isOperatorPolicy) in [(definitions.policies, false), (definitions.operatorPolicies, true)] {
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

import Foundation
import WarrenCore

/// The management API's changes to vhosts, users, permissions, policies and definitions.
extension BrokerAdministration {
    /// Creates a vhost; returns whether it is new.
    ///
    /// A description or tags given replace the vhost's (also for one that exists).
    public func addVirtualHost(name: String, description: String?, tags: [String]?) async throws -> Bool {
        try await onLoop { broker in
            let created = broker.vhosts[name] == nil
            if created { broker.addVirtualHost(named: name) }
            if let description { broker.vhosts[name]?.description = description }
            if let tags { broker.vhosts[name]?.tags = tags }
            return created
        }
    }

    /// Turns the firehose on or off for a vhost (`rabbitmqctl trace_on`/`trace_off`).
    public func setTracing(vhost: String, on: Bool) async throws {
        try await onLoop { broker in
            guard let host = broker.vhosts[vhost] else { throw AdministrationError.notFound }
            host.isTracing = on
        }
    }

    public func deleteVirtualHost(name: String) async throws {
        try await onLoop { broker in
            guard broker.vhosts[name] != nil else { throw AdministrationError.notFound }
            broker.removeVirtualHost(named: name)
        }
    }

    /// Creates or replaces a user, from a password (hashed here with SHA-256, RabbitMQ's
    /// default) or a ready hash; neither leaves a user who can only log in with a certificate.
    public func putUser(
        name: String, password: String?, passwordHash: String?, hashingAlgorithm: String?, tags: [String]
    ) async throws -> Bool {
        var hash: PasswordHash?
        if let password {
            hash = PasswordHash(password: password)
        } else if let passwordHash, !passwordHash.isEmpty {
            let algorithmName = hashingAlgorithm ?? PasswordHash.Algorithm.sha256.rawValue
            guard let algorithm = PasswordHash.Algorithm(rawValue: algorithmName) else {
                throw AdministrationError.badRequest("unknown hashing algorithm '\(algorithmName)'")
            }
            guard let decoded = PasswordHash(base64: passwordHash, algorithm: algorithm) else {
                throw AdministrationError.badRequest("password_hash is not base64 of a salt and a hash")
            }
            hash = decoded
        }
        return try await onLoop { [hash] broker in
            let created = broker.accessControl.users[name] == nil
            broker.accessControl.putUser(User(name: name, passwordHash: hash, tags: tags))
            return created
        }
    }

    public func deleteUser(name: String) async throws {
        try await onLoop { broker in
            guard broker.accessControl.users[name] != nil else { throw AdministrationError.notFound }
            broker.accessControl.deleteUser(name)
            // As RabbitMQ: the deleted user's connections are closed.
            for connection in broker.connections.values where connection.user == name {
                connection.forceClose(reason: "user '\(name)' is deleted")
            }
        }
    }

    public func setPermissions(user: String, vhost: String, configure: String, write: String, read: String)
        async throws
    {
        try await onLoop { broker in
            try broker.checkUserAndVirtualHost(user: user, vhost: vhost)
            let granted: Permissions
            do {
                granted = try Permissions(configure: configure, write: write, read: read)
            } catch {
                throw AdministrationError.badRequest("invalid regular expression: \(error)")
            }
            broker.accessControl.setPermissions(granted, user: user, vhost: vhost)
        }
    }

    public func clearPermissions(user: String, vhost: String) async throws {
        try await onLoop { broker in
            guard broker.accessControl.permissions[vhost]?[user] != nil else { throw AdministrationError.notFound }
            broker.accessControl.clearPermissions(user: user, vhost: vhost)
        }
    }

    public func setTopicPermission(user: String, vhost: String, exchange: String, write: String, read: String)
        async throws
    {
        try await onLoop { broker in
            try broker.checkUserAndVirtualHost(user: user, vhost: vhost)
            do {
                _ = try (PermissionPattern(write), PermissionPattern(read))
            } catch {
                throw AdministrationError.badRequest("invalid regular expression: \(error)")
            }
            broker.accessControl.setTopicPermission(
                TopicPermission(exchange: exchange, write: write, read: read), user: user, vhost: vhost)
        }
    }

    public func clearTopicPermissions(user: String, vhost: String, exchange: String?) async throws {
        try await onLoop { broker in
            guard let granted = broker.accessControl.topicPermissions[vhost]?[user], !granted.isEmpty else {
                throw AdministrationError.notFound
            }
            broker.accessControl.clearTopicPermissions(user: user, vhost: vhost, exchange: exchange)
        }
    }

    /// Sets a policy or operator policy, checked as an import checks it.
    public func putPolicy(
        vhost: String, name: String, pattern: String, applyTo: String, priority: Int, definition: JSONValue,
        operator isOperatorPolicy: Bool
    ) async throws {
        try await onLoop { broker in
            guard let host = broker.vhosts[vhost] else { throw AdministrationError.notFound }
            guard let appliesTo = Policy.AppliesTo(rawValue: applyTo) else {
                throw AdministrationError.badRequest("apply-to must be queues, exchanges or all")
            }
            guard definition.objectValue != nil else {
                throw AdministrationError.badRequest("definition must be an object")
            }
            let policy: Policy
            do {
                policy = try Policy(
                    name: name, vhost: vhost, pattern: pattern, appliesTo: appliesTo, priority: priority,
                    definition: definition.fieldTable, isOperatorPolicy: isOperatorPolicy)
            } catch let error as AMQPError {
                throw AdministrationError.badRequest(error.explanation)
            } catch {
                throw AdministrationError.badRequest("\(error)")
            }
            host.setPolicy(policy, isOperatorPolicy: isOperatorPolicy)
        }
    }

    public func deletePolicy(vhost: String, name: String, operator isOperatorPolicy: Bool) async throws {
        try await onLoop { broker in
            guard let host = broker.vhosts[vhost] else { throw AdministrationError.notFound }
            do {
                try host.clearPolicy(named: name, isOperatorPolicy: isOperatorPolicy)
            } catch {
                throw AdministrationError.notFound
            }
        }
    }

    /// Imports a definitions document; `vhost` imports a one-vhost export into that vhost.
    public func importDefinitions(_ data: Data, vhost: String?) async throws {
        let definitions: Definitions
        do {
            definitions = try Definitions.parse(data, intoVirtualHost: vhost)
        } catch {
            throw AdministrationError.badRequest("\(error)")
        }
        try await onLoop { broker in
            if let vhost, broker.vhosts[vhost] == nil { throw AdministrationError.notFound }
            do {
                try broker.importDefinitions(definitions)
            } catch {
                throw AdministrationError.badRequest("\(error)")
            }
        }
    }
}

extension Broker {
    func checkUserAndVirtualHost(user: String, vhost: String) throws {
        guard vhosts[vhost] != nil else { throw AdministrationError.badRequest("vhost '\(vhost)' does not exist") }
        guard accessControl.users[user] != nil else {
            throw AdministrationError.badRequest("user '\(user)' does not exist")
        }
    }
}

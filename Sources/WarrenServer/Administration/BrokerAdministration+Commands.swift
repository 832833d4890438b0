import AMQPWire
import Foundation
import NIOCore
import WarrenCore

/// The management API's changes to exchanges, queues, bindings and messages, checked against
/// the requesting user's permissions in the vhost as an AMQP client's would be.
extension BrokerAdministration {
    /// Declares a queue (idempotent, with RabbitMQ's equivalence check); returns whether it is new.
    public func declareQueue(
        vhost: String, name: String, durable: Bool, autoDelete: Bool, arguments: JSONValue, user: String
    ) async throws -> Bool {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user, missing: .missing("vhost_not_found"))
            var created = false
            try broker.translatingErrors {
                _ = try host.declareQueue(
                    name: name, passive: false, durable: durable, exclusive: false, autoDelete: autoDelete,
                    arguments: arguments.fieldTable, connection: ConnectionID(0)
                ) { name, creating in
                    try access.check(.configure, .queue, name)
                    created = creating
                }
            }
            return created
        }
    }

    public func deleteQueue(vhost: String, name: String, ifEmpty: Bool, ifUnused: Bool, user: String) async throws {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            guard let queue = host.queues[name] else { throw AdministrationError.notFound }
            try broker.translatingErrors {
                try access.check(.configure, .queue, name)
                _ = try host.deleteQueue(
                    name: name, ifUnused: ifUnused, ifEmpty: ifEmpty,
                    connection: queue.exclusiveOwner ?? ConnectionID(0))
            }
        }
    }

    public func purgeQueue(vhost: String, name: String, user: String) async throws {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            guard let queue = host.queues[name] else { throw AdministrationError.notFound }
            try broker.translatingErrors { try access.check(.read, .queue, name) }
            _ = queue.purge()
        }
    }

    /// What `POST /api/queues/{vhost}/{name}/get` does with the messages it takes.
    public enum FetchMode: String, Sendable {
        case ackRequeueTrue = "ack_requeue_true"
        case ackRequeueFalse = "ack_requeue_false"
        case rejectRequeueTrue = "reject_requeue_true"
        case rejectRequeueFalse = "reject_requeue_false"
    }

    /// Takes up to `count` messages from the head of a queue; with a requeueing mode they go
    /// back afterwards (marked redelivered), so each message is seen once per request.
    public func fetch(vhost: String, name: String, count: Int, mode: FetchMode, user: String) async throws
        -> [FetchedMessage]
    {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            guard let queue = host.queues[name] else {
                throw AdministrationError.missing("NOT_FOUND - no queue '\(name)' in vhost '\(vhost)'")
            }
            try broker.translatingErrors { try access.check(.read, .queue, name) }
            var taken: [QueuedMessage] = []
            var fetched: [FetchedMessage] = []
            while taken.count < count, let message = queue.get(noAck: false) {
                taken.append(message)
                let properties = (try? message.message.header.properties()) ?? BasicProperties()
                fetched.append(
                    FetchedMessage(
                        payload: Array(message.message.body.readableBytesView), redelivered: message.redelivered,
                        exchange: message.message.exchange, routingKey: message.message.routingKey,
                        messageCount: queue.messageCount, properties: JSONValue(properties)))
            }
            switch mode {
            case .ackRequeueTrue, .rejectRequeueTrue: queue.requeue(taken)
            case .ackRequeueFalse: taken.forEach(queue.acknowledge)
            case .rejectRequeueFalse: taken.forEach(queue.reject)
            }
            return fetched
        }
    }

    public func declareExchange(
        vhost: String, name: String, type: String, durable: Bool, autoDelete: Bool, isInternal: Bool,
        arguments: JSONValue, user: String
    ) async throws -> Bool {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user, missing: .missing("vhost_not_found"))
            var created = false
            try broker.translatingErrors {
                _ = try host.declareExchange(
                    name: name, type: type, passive: false, durable: durable, autoDelete: autoDelete,
                    isInternal: isInternal, arguments: arguments.fieldTable
                ) { creating in
                    try access.check(.configure, .exchange, name)
                    created = creating
                }
            }
            return created
        }
    }

    public func deleteExchange(vhost: String, name: String, ifUnused: Bool, user: String) async throws {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            guard host.exchanges[name] != nil else { throw AdministrationError.notFound }
            try broker.translatingErrors {
                try access.check(.configure, .exchange, name)
                try host.deleteExchange(name: name, ifUnused: ifUnused)
            }
        }
    }

    /// Publishes one message as `basic.publish` would; returns whether it reached a queue.
    public func publish(
        vhost: String, exchange name: String, routingKey: String, properties: JSONValue, payload: [UInt8],
        user: String
    ) async throws -> Bool {
        let basicProperties = try BasicProperties(json: properties)
        return try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            guard let exchange = host.exchanges[name] else {
                throw AdministrationError.badRequest("404 NOT_FOUND - no exchange '\(name)' in vhost '\(vhost)'")
            }
            return try broker.translatingErrors {
                try access.checkPublish(to: name)
                try access.checkTopicPublish(to: exchange, routingKey: routingKey)
                if let claimed = basicProperties.userID { try access.checkUserID(claimed) }
                if exchange.isInternal {
                    throw AMQPError(
                        .accessRefused, "cannot publish to internal exchange '\(name)' in vhost '\(vhost)'")
                }
                if UInt64(payload.count) > broker.settings.maxMessageSize {
                    throw AMQPError(
                        .preconditionFailed,
                        "message size \(payload.count) is larger than configured max size \(broker.settings.maxMessageSize)"
                    )
                }
                var body = ByteBuffer()
                body.writeBytes(payload)
                let header = try ContentHeader(bodySize: UInt64(payload.count), properties: basicProperties)
                let message = Message(
                    exchange: exchange.name, routingKey: routingKey, header: header, body: body,
                    expiration: try MessageExpiration.of(header))
                exchange.stats.publish &+= 1
                let queues = host.route(
                    exchange: exchange, routingKey: routingKey, headers: { basicProperties.headers })
                guard !queues.isEmpty else { return false }
                exchange.stats.publishOut &+= 1
                _ = broker.enqueue(message, into: queues)
                return true
            }
        }
    }

    /// Binds `destination` (a queue or an exchange) to `source`; returns the binding's
    /// properties key.
    public func bind(
        vhost: String, source: String, destination: String, destinationIsQueue: Bool, routingKey: String,
        arguments: JSONValue, user: String
    ) async throws -> String {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            let target = try broker.bindingDestination(host, destination, isQueue: destinationIsQueue)
            guard host.exchanges[source] != nil else {
                throw AdministrationError.missing("no exchange '\(source)' in vhost '\(vhost)'")
            }
            let table = arguments.fieldTable
            try broker.translatingErrors {
                try access.checkBinding(
                    destinationIsQueue ? .queue : .exchange, destination, source: source,
                    sourceIsTopic: host.exchanges[source]?.typeName == "topic", routingKey: routingKey)
                try host.bind(destination: target, source: source, routingKey: routingKey, arguments: table)
            }
            return BindingPropertiesKey.make(routingKey: routingKey, arguments: table)
        }
    }

    /// Removes the binding that `propertiesKey` names.
    public func unbind(
        vhost: String, source: String, destination: String, destinationIsQueue: Bool, propertiesKey: String,
        user: String
    ) async throws {
        try await onLoop { broker in
            let (host, access) = try broker.administered(vhost, user: user)
            let target = try broker.bindingDestination(host, destination, isQueue: destinationIsQueue)
            guard let exchange = host.exchanges[source],
                let binding = exchange.bindings.first(where: {
                    $0.destination == target
                        && BindingPropertiesKey.make(routingKey: $0.routingKey, arguments: $0.arguments)
                            == propertiesKey
                })
            else { throw AdministrationError.notFound }
            try broker.translatingErrors {
                try access.checkBinding(
                    destinationIsQueue ? .queue : .exchange, destination, source: source,
                    sourceIsTopic: exchange.typeName == "topic", routingKey: binding.routingKey)
                try host.unbind(
                    destination: target, source: source, routingKey: binding.routingKey, arguments: binding.arguments)
            }
        }
    }

    /// Closes a client connection with 320 CONNECTION_FORCED and `reason`.
    public func closeConnection(name: String, reason: String) async throws {
        try await onLoop { broker in
            guard let connection = broker.connections.values.first(where: { $0.name == name }) else {
                throw AdministrationError.notFound
            }
            connection.forceClose(reason: reason)
        }
    }

    /// The resource alarms in effect (`memory`, `disk`).
    public func alarms() async throws -> [String] {
        try await onLoop { broker in broker.alarms.map(\.rawValue).sorted() }
    }
}

extension Broker {
    /// The vhost and what `user` may do in it; a vhost without permissions for the user is
    /// refused as RabbitMQ's API refuses it.
    func administered(_ name: String, user: String, missing: AdministrationError = .notFound) throws -> (
        VirtualHost, ResourceAccess
    ) {
        guard let vhost = vhosts[name] else { throw missing }
        guard let account = accessControl.users[user], let access = accessControl.access(for: account, in: name) else {
            throw AdministrationError.notAuthorised("Access refused.")
        }
        return (vhost, access)
    }

    func bindingDestination(_ vhost: VirtualHost, _ name: String, isQueue: Bool) throws -> BindingDestination {
        if isQueue {
            guard let queue = vhost.queues[name] else {
                throw AdministrationError.missing("no queue '\(name)' in vhost '\(vhost.name)'")
            }
            return .queue(queue)
        }
        guard let exchange = vhost.exchanges[name] else {
            throw AdministrationError.missing("no exchange '\(name)' in vhost '\(vhost.name)'")
        }
        return .exchange(exchange)
    }

    /// Runs `body`, turning the AMQP errors it throws into the management API's: a missing
    /// object is 404, a refusal 401, anything else 400 with the explanation.
    func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AMQPError {
            switch error.code {
            case .notFound: throw AdministrationError.notFound
            case .accessRefused: throw AdministrationError.notAuthorised(error.explanation)
            default: throw AdministrationError.badRequest(error.explanation)
            }
        }
    }
}

import AMQPWire
import WarrenCore

/// The `exchange` class: declare, delete, and exchange-to-exchange bind/unbind.
extension AMQPChannel {
    func exchangeDeclare(_ m: Spec.Exchange.Declare) throws {
        let access = connection.access
        _ = try vhost.declareExchange(
            name: m.exchange, type: m.type, passive: m.passive, durable: m.durable, autoDelete: m.autoDelete,
            isInternal: m.internal, arguments: m.arguments
        ) { creating in
            try access.check(.configure, .exchange, m.exchange)
            // A new exchange with an alternate exchange lets its publishers reach that one.
            if creating, let alternate = m.arguments["alternate-exchange"]?.stringValue {
                try access.check(.read, .exchange, m.exchange)
                try access.check(.write, .exchange, alternate)
            }
        }
        if !m.noWait { send(.exchangeDeclareOk(.init())) }
    }

    func exchangeDelete(_ m: Spec.Exchange.Delete) throws {
        try connection.access.check(.configure, .exchange, m.exchange)
        do {
            try vhost.deleteExchange(name: m.exchange, ifUnused: m.ifUnused)
        } catch let error as AMQPError where error.code == .notFound {
            // RabbitMQ treats deleting a missing exchange as success.
        }
        if !m.noWait { send(.exchangeDeleteOk(.init())) }
    }

    func exchangeBind(_ m: Spec.Exchange.Bind) throws {
        try checkBinding(.exchange, m.destination, source: m.source, routingKey: m.routingKey)
        let destination = try vhost.exchange(named: m.destination)
        try vhost.bind(
            destination: .exchange(destination), source: m.source, routingKey: m.routingKey, arguments: m.arguments)
        if !m.noWait { send(.exchangeBindOk(.init())) }
    }

    func exchangeUnbind(_ m: Spec.Exchange.Unbind) throws {
        try checkBinding(.exchange, m.destination, source: m.source, routingKey: m.routingKey)
        let destination = try vhost.exchange(named: m.destination)
        try vhost.unbind(
            destination: .exchange(destination), source: m.source, routingKey: m.routingKey, arguments: m.arguments)
        if !m.noWait { send(.exchangeUnbindOk(.init())) }
    }
}

extension AMQPChannel {
    /// RabbitMQ's checks for binding and unbinding: write on the destination, read on the
    /// source, and, for a topic exchange, the routing key against the user's topic read pattern.
    func checkBinding(
        _ destinationKind: ResourceAccess.Resource, _ destination: String, source: String, routingKey: String
    ) throws {
        try connection.access.checkBinding(
            destinationKind, destination, source: source, sourceIsTopic: vhost.exchanges[source]?.typeName == "topic",
            routingKey: routingKey)
    }
}

import AMQPWire
import WarrenCore

/// The `exchange` class: declare, delete, and exchange-to-exchange bind/unbind.
extension AMQPChannel {
    func exchangeDeclare(_ m: Spec.Exchange.Declare) throws {
        _ = try vhost.declareExchange(
            name: m.exchange, type: m.type, passive: m.passive, durable: m.durable, autoDelete: m.autoDelete,
            isInternal: m.internal, arguments: m.arguments)
        if !m.noWait { send(.exchangeDeclareOk(.init())) }
    }

    func exchangeDelete(_ m: Spec.Exchange.Delete) throws {
        do {
            try vhost.deleteExchange(name: m.exchange, ifUnused: m.ifUnused)
        } catch let error as AMQPError where error.code == .notFound {
            // RabbitMQ treats deleting a missing exchange as success.
        }
        if !m.noWait { send(.exchangeDeleteOk(.init())) }
    }

    func exchangeBind(_ m: Spec.Exchange.Bind) throws {
        let destination = try vhost.exchange(named: m.destination)
        try vhost.bind(
            destination: .exchange(destination), source: m.source, routingKey: m.routingKey, arguments: m.arguments)
        if !m.noWait { send(.exchangeBindOk(.init())) }
    }

    func exchangeUnbind(_ m: Spec.Exchange.Unbind) throws {
        let destination = try vhost.exchange(named: m.destination)
        try vhost.unbind(
            destination: .exchange(destination), source: m.source, routingKey: m.routingKey, arguments: m.arguments)
        if !m.noWait { send(.exchangeUnbindOk(.init())) }
    }
}

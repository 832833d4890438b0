import AMQPWire
import Testing

@testable import WarrenCore

@Suite("The default exchange in bindings, and deleted queues")
struct DefaultExchangeBindingTests {
    @Test("the default exchange cannot be a binding's destination either")
    func defaultExchangeAsDestination() throws {
        let vhost = VirtualHost(name: "/")
        let defaultExchange = try vhost.exchange(named: "")
        #expect(throws: AMQPError(.accessRefused, "operation not permitted on the default exchange")) {
            try vhost.bind(
                destination: .exchange(defaultExchange), source: "amq.direct", routingKey: "k", arguments: [:])
        }
        #expect(throws: AMQPError(.accessRefused, "operation not permitted on the default exchange")) {
            try vhost.unbind(
                destination: .exchange(defaultExchange), source: "amq.direct", routingKey: "k", arguments: [:])
        }
        #expect(try vhost.exchange(named: "amq.direct").bindings.isEmpty)
    }

    @Test("a message routed before its queue was deleted is dropped, not kept in the dead queue")
    func enqueueAfterDelete() throws {
        let vhost = VirtualHost(name: "/")
        let queue = try vhost.declareQueue(
            name: "q", passive: false, durable: false, exclusive: false, autoDelete: false, arguments: [:],
            connection: ConnectionID(1))
        let routed = vhost.route(exchange: try vhost.exchange(named: ""), routingKey: "q", headers: { nil })
        #expect(routed.map(\.name) == ["q"])
        _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: ConnectionID(1))
        queue.enqueue(try makeMessage("late"))
        #expect(queue.messageCount == 0)
    }
}
